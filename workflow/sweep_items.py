"""Runner steps specific to a sweep's items (jobs with a batch_id).

An item runs the usual QuickBooks steps (check, requestid, write), then parks in `awaiting_batch_sync` instead
of resyncing its invoice: the sweep requests ONE ConnectBooster sync once every item has left its QuickBooks
step, and moves the parked items to `syncing` together. Parking also releases the item's hold on its credit
(open_credit_key), so the next item of the same credit can be created. With bulk reads (workflow/prefetch.py)
the item checks against its round's snapshot and parks with its balance still to be confirmed by the sweep.
"""
from __future__ import annotations

from data.jobs import Job
from data.states import JobState
from workflow.machine import Flavor, step
from workflow.prefetch import expected_after, wrong_balance


@step(JobState.APPLIED, Flavor.SWEEP_ITEM)
def park(runner, job: Job) -> None:
    """Wait for the sweep's one sync; a Retry after the sweep finished syncs on its own (no resync: the sync brings it)."""
    hook = runner.batch_hook
    if hook is not None and hook.accepts_parked(job):
        runner.move(job, JobState.AWAITING_BATCH_SYNC, event="waiting_for_sweep_sync", open_credit_key=None)
        return
    if job.invoice_balance_after is None and job.qbo_payment_id:
        # Written while its sweep confirmed in bulk, but that sweep has moved on: confirm with its own read.
        balance = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id).balance
        details = {"payment_id": job.qbo_payment_id, "balance_before": str(job.invoice_balance_before),
                   "balance_after": str(balance)}
        if balance != expected_after(job):
            wrong_balance(runner, job, payment_id=job.qbo_payment_id, balance=balance, details=details)
            return
        job = runner.store.update(job.id, expect_state=job.state, event="quickbooks_balance_confirmed",
                                  details=details, invoice_balance_after=balance) or job
    runner.move(job, JobState.RESYNCED, event="resync_skipped",
                details={"reason": "sweep item: the ConnectBooster sync brings the invoice"})
