"""Runner steps specific to a sweep's items (jobs with a batch_id).

An item runs the usual QuickBooks steps (re-read, requestid, write, re-read), then parks in
`awaiting_batch_sync` instead of resyncing its invoice: the sweep requests ONE ConnectBooster sync once every
item has left its QuickBooks step, and moves the parked items to `syncing` together. Parking also releases the
item's hold on its credit (open_credit_key), so the next item of the same credit can be created.
"""
from __future__ import annotations

from data.jobs import Job
from data.states import JobState
from integrations.errors import NotFoundError
from workflow.machine import Flavor, step


@step(JobState.APPLIED, Flavor.SWEEP_ITEM)
def park(runner, job: Job) -> None:
    """Wait for the sweep's one sync; a Retry after the sweep finished syncs on its own (no resync: the sync brings it)."""
    hook = runner.batch_hook
    if hook is not None and hook.accepts_parked(job):
        runner.move(job, JobState.AWAITING_BATCH_SYNC, event="waiting_for_sweep_sync", open_credit_key=None)
    else:
        runner.move(job, JobState.RESYNCED, event="resync_skipped",
                     details={"reason": "sweep item: the ConnectBooster sync brings the invoice"})


@step(JobState.SYNC_FINISHED, Flavor.SWEEP_ITEM)
def verify(runner, job: Job) -> None:
    """ConnectBooster shows the credit's remaining amount and the invoice balance QuickBooks has now."""
    remaining = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id).remaining
    credit_ok = True
    if job.cb_credit_id:
        try:
            cb_credit = runner.cb.get_credit(credit_id=job.cb_credit_id)
            credit_ok = (cb_credit.status != "open") if remaining == 0 else \
                (cb_credit.status == "open" and cb_credit.remaining_amount == remaining)
        except NotFoundError:
            credit_ok = remaining == 0
    cb_balance = runner.cb.get_invoice(invoice_id=job.cb_invoice_id).balance if job.cb_invoice_id else None
    runner.conclude_verification(
        job, cb_balance=cb_balance, credit_ok=credit_ok,
        credit_problem=f"ConnectBooster does not show credit {job.cb_credit_id} with {remaining} left",
        details={"credit_ok": credit_ok, "credit_remaining": str(remaining)})
