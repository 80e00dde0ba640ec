"""Runner steps specific to a sweep's items (jobs with a batch_id).

An item runs the usual QuickBooks steps (check, requestid, write), then parks in `awaiting_batch_sync` instead
of resyncing its invoice: the sweep requests ONE ConnectBooster sync once every item has left its QuickBooks
step, and moves the parked items to `syncing` together. Parking also releases the item's hold on its credit
(open_credit_key), so the next item of the same credit can be created. With bulk reads (workflow/prefetch.py)
the item checks against its round's snapshot and parks with its balance still to be confirmed by the sweep.
"""
from __future__ import annotations

from data.events import EventKind
from data.jobs import CreditBusy, Job, JobStore
from data.states import JobKind, JobState
from workflow.prefetch import expected_after, wrong_balance
from workflow.sweep import item_values


def park(runner, job: Job) -> None:
    """Wait for the sweep's one sync; a Retry after the sweep finished syncs on its own (no resync: the sync brings it)."""
    if runner.sweeps is not None and runner.sweeps.accepts_parked(job):
        runner.move(job, JobState.AWAITING_BATCH_SYNC, event=EventKind.WAITING_FOR_SWEEP_SYNC, open_credit_key=None)
        return
    if job.invoice_balance_after is None and job.qbo_payment_id:
        # Written while its sweep confirmed in bulk, but that sweep has moved on: confirm with its own read.
        balance = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id).balance
        details = {"payment_id": job.qbo_payment_id, "balance_before": str(job.invoice_balance_before),
                   "balance_after": str(balance)}
        if balance != expected_after(job):
            wrong_balance(runner, job, payment_id=job.qbo_payment_id, balance=balance, details=details)
            return
        job = runner.note(job, EventKind.QUICKBOOKS_BALANCE_CONFIRMED, details=details,
                          invoice_balance_after=balance) or job
    runner.move(job, JobState.RESYNCED, event=EventKind.RESYNC_SKIPPED,
                details={"reason": "sweep item: the ConnectBooster sync brings the invoice"})


def create_item(store: JobStore, batch, item: dict, skip_reason: str | None) -> Job:
    """A plan item's job: approved with the sweep's decision, or skipped (with why) when it cannot start."""
    values = dict(item_values(item), kind=JobKind.APPLY, requester_id=batch.requester_id,
                  approver_id=batch.approver_id, channel_id=batch.channel_id, batch_id=batch.id,
                  decided_at=batch.decided_at, mode=batch.mode, first_approver_id=batch.first_approver_id)
    details = {"batch": batch.id, "seq": item["seq"], "amount": item["amount"], "invoice": item["invoice_number"]}
    if skip_reason is None:
        try:
            job = store.create(actor="bot", state=JobState.APPROVED, event=EventKind.SWEEP_ITEM,
                               details=details, **values)
        except CreditBusy as busy:
            skip_reason = f"credit {item['credit_number']} is in open request #{busy.job.id}"
        else:
            return job  # submitted by the caller (after its snapshot is stored)
    return store.create(actor="bot", state=JobState.SKIPPED, event=EventKind.SKIPPED, open_credit_key=None,
                        completed_at=store.now(), error=skip_reason, details={**details, "reason": skip_reason},
                        **values)


def why_not_done(store: JobStore, job: Job) -> str:
    """Why an item did not complete, from its last event (a stale item's problems, a failure's message)."""
    if job.error:
        return job.error
    last = next((e.details for e in reversed(store.events(job.id)) if e.kind == job.state), {})
    return "; ".join(last.get("problems") or []) or last.get("reason") or JobState(job.state).label
