"""The steps of a plain credit application (and, where they share them, of resync-only, undo and sweep items).

Each step is idempotent: the QuickBooks `requestid` and the ConnectBooster `Idempotency-Key` are stored on
the job before the call, so a step repeated after a crash replays or reconciles instead of writing twice.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from data.jobs import Job
from data.states import JobState
from integrations.errors import NotFoundError
from integrations.quickbooks import write_marker
from integrations.quickbooks_models import CREDIT_MEMO
from workflow.machine import step
from workflow.prefetch import confirm_later, expected_after, prefetched, wrong_balance


@step(JobState.APPROVED)
def check(runner, job: Job) -> None:
    """Read both documents (a sweep item: its round's bulk read); refuse if anything changed since the request,
    else store a requestid."""
    snap = prefetched(runner, job)
    if snap is not None:
        invoice, credit = snap.invoice, snap.credit
    else:
        invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
        credit = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
    read = "bulk" if snap is not None else "single"
    problems = []
    if invoice.balance != job.invoice_balance_before:
        problems.append(f"invoice {job.invoice_number} balance is now {invoice.balance} "
                        f"(was {job.invoice_balance_before})")
    if credit.remaining != job.credit_remaining_before:
        problems.append(f"credit remaining is now {credit.remaining} (was {job.credit_remaining_before})")
    if invoice.customer_id != job.qbo_customer_id or credit.customer_id != job.qbo_customer_id:
        problems.append("the invoice and the credit no longer belong to the same customer")
    if invoice.currency != credit.currency:
        problems.append(f"currencies differ ({invoice.currency} / {credit.currency})")
    if job.amount > min(invoice.balance, credit.remaining):
        problems.append(f"{job.amount} is more than what is open now")
    if job.cb_invoice_id and runner.cb.pending_payments(invoice_id=job.cb_invoice_id):
        problems.append(f"invoice {job.invoice_number} now has a ConnectBooster payment waiting to sync")
    if problems:
        runner.move(job, JobState.STALE, details={"problems": problems, "invoice_balance": str(invoice.balance),
                                                  "credit_remaining": str(credit.remaining), "read": read})
        return
    attempt = job.attempt + 1
    runner.move(job, JobState.APPLYING, event="quickbooks_write_started", attempt=attempt,
                qbo_request_id=runner.new_key("ac", job, attempt), details={"attempt": attempt, "read": read})


@step(JobState.APPLYING)
def write(runner, job: Job) -> None:
    """The one ledger write. A repeat (after a kill, a lost answer, a Retry) looks for the job's own marked write
    first: QuickBooks documents requestid replay only for a dropped connection with the same body."""
    result = own_write(runner.qbo, job) if write_was_sent(runner.store, job) else None
    if result is not None:
        runner.store.record(job.id, actor="bot", kind="quickbooks_write_found",
                            details={"payment_id": result.payment_id, "request_id": job.qbo_request_id})
    else:
        runner.store.record(job.id, actor="bot", kind="quickbooks_write_sent", details={"request_id": job.qbo_request_id})
        note = (f"{write_marker(job.id, job.qbo_request_id)}: {job.credit_kind.replace('_', ' ')} "
                f"{job.credit_number} to invoice {job.invoice_number}")
        if job.credit_kind == CREDIT_MEMO:
            result = runner.qbo.apply_credit_memo(
                customer_id=job.qbo_customer_id, invoice_id=job.invoice_qbo_id, credit_memo_id=job.qbo_credit_id,
                amount=job.amount, request_id=job.qbo_request_id, txn_date=runner.today().isoformat(), note=note,
                currency=job.currency)
        else:
            result = runner.qbo.apply_unapplied_payment(
                payment_id=job.qbo_credit_id, invoice_id=job.invoice_qbo_id, amount=job.amount,
                request_id=job.qbo_request_id, note=note, txn_date=runner.today().isoformat())
    details = {"payment_id": result.payment_id, "intuit_tid": result.intuit_tid,
               "request_id": job.qbo_request_id, "balance_before": str(job.invoice_balance_before)}
    if confirm_later(runner, job):
        # A sweep item: its sweep reads every parked item's invoice in bulk before the next round and compares
        # it with this expected balance (workflow/prefetch.py); until then invoice_balance_after stays NULL.
        runner.move(job, JobState.APPLIED, qbo_payment_id=result.payment_id, invoice_balance_after=None,
                    applied_at=runner.store.now(),
                    details={**details, "balance_after": None, "expected": str(expected_after(job)), "confirm": "bulk"})
        return
    invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
    details["balance_after"] = str(invoice.balance)
    if invoice.balance != expected_after(job):
        wrong_balance(runner, job, payment_id=result.payment_id, balance=invoice.balance, details=details)
        return
    runner.move(job, JobState.APPLIED, qbo_payment_id=result.payment_id, invoice_balance_after=invoice.balance,
                applied_at=runner.store.now(), details=details)


def write_was_sent(store, job: Job) -> bool:
    """True when this attempt's write may already have reached QuickBooks (sent before a kill or a lost answer)."""
    events = store.events(job.id)
    started = max((i for i, e in enumerate(events) if e.kind == "quickbooks_write_started"), default=-1)
    return any(e.kind == "quickbooks_write_sent" for e in events[started + 1:])


def own_write(qbo, job: Job):
    """The job's own application in QuickBooks (found by its marker, the documents and the amount), or None."""
    marker = write_marker(job.id)
    if job.credit_kind == CREDIT_MEMO:
        return qbo.find_credit_memo_application(customer_id=job.qbo_customer_id, credit_memo_id=job.qbo_credit_id,
                                                invoice_id=job.invoice_qbo_id, amount=job.amount, marker=marker)
    return qbo.find_payment_application(payment_id=job.qbo_credit_id, invoice_id=job.invoice_qbo_id,
                                        amount=job.amount, marker=marker)


@step(JobState.APPLIED)
def find_copy(runner, job: Job) -> None:
    """Find ConnectBooster's copy of the invoice and store the resync's idempotency key."""
    cb_invoice_id = job.cb_invoice_id
    if cb_invoice_id is None and job.invoice_number:
        matches = [i for i in runner.cb.find_invoices_by_number(number=job.invoice_number)
                   if i.qbo_id == job.invoice_qbo_id]
        cb_invoice_id = matches[0].id if matches else None
    if cb_invoice_id is None:
        runner.move(job, JobState.RESYNCED, event="resync_skipped",
                    details={"reason": "ConnectBooster has no copy of this invoice yet; the sync will bring it"})
        return
    runner.move(job, JobState.RESYNCING, event="resync_started", cb_invoice_id=cb_invoice_id,
                cb_resync_key=job.cb_resync_key or runner.new_key("rs", job))


@step(JobState.RESYNCING)
def resync(runner, job: Job) -> None:
    # A resync takes about a second: poll it every second, or as often as SYNC_POLL_SECONDS asks if that is less.
    result = runner.cb.resync_invoice_and_wait(invoice_id=job.cb_invoice_id, idempotency_key=job.cb_resync_key,
                                               poll=min(1.0, runner.sync.poll_seconds))
    answer = result.result or {}
    runner.move(job, JobState.RESYNCED, cb_resync_id=result.id,
                details={"resync_id": result.id, "before": (answer.get("before") or {}).get("balance"),
                         "after": (answer.get("after") or {}).get("balance"),
                         "total": str(job.invoice_total) if job.invoice_total is not None else None})


@step(JobState.RESYNCED)
def start_sync(runner, job: Job) -> None:
    """Join the running sync or start one whose sync-from date covers today's change."""
    key = job.sync_key or runner.new_key("sync", job)
    if not job.sync_key:
        job = runner.store.update(job.id, expect_state=job.state, event="sync_key_stored", sync_key=key) or job
    sync_from = runner.today() - timedelta(days=1)
    run = runner.sync.join(sync_from=sync_from, idempotency_key=key)
    moved = runner.move(job, JobState.SYNCING, event="sync_requested", sync_id=run.id, sync_from=run.sync_from,
                        details={"sync_id": run.id, "status": run.status, "attached": run.attached,
                                 "trigger": run.trigger, "sync_from": run.sync_from})
    if moved is not None:
        # The run may have ended between join() and this transition, after its poller's last look:
        # watching again (a no-op while a poller is alive) guarantees this job sees the outcome.
        runner.sync.watch(run.id)


@step(JobState.SYNC_FINISHED)
def verify(runner, job: Job) -> None:
    """ConnectBooster shows what QuickBooks has: the credit gone (or open with what is left of it, after a partial
    application) and the invoice at QuickBooks' balance."""
    credit_ok, remaining = credit_matches(runner, job)
    cb_balance = _resynced_balance(runner, job) if job.invoice_balance_after is not None else None
    if cb_balance is None and job.cb_invoice_id:  # no resync answer to rely on: read ConnectBooster's copy
        cb_balance = runner.cb.get_invoice(invoice_id=job.cb_invoice_id).balance
    problem = (f"ConnectBooster still shows credit {job.cb_credit_id}" if remaining == 0 else
               f"ConnectBooster does not show credit {job.cb_credit_id} with {remaining} left")
    runner.conclude_verification(job, cb_balance=cb_balance, credit_ok=credit_ok, credit_problem=problem,
                                 details={"credit_ok": credit_ok, "credit_remaining": str(remaining)})


def credit_matches(runner, job: Job) -> tuple[bool, Decimal]:
    """Does ConnectBooster's copy of the credit match QuickBooks? (and the remaining amount it should show).

    A credit our application used up needs no QuickBooks read; a partly used one is compared with what QuickBooks
    has left now (someone may have used more of it since)."""
    used_up = job.credit_remaining_before is not None and job.credit_remaining_before - job.amount == 0
    remaining = Decimal("0") if used_up else \
        runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id).remaining
    if not job.cb_credit_id:
        return True, remaining
    try:
        cb_credit = runner.cb.get_credit(credit_id=job.cb_credit_id)
    except NotFoundError:
        return remaining == 0, remaining
    if remaining == 0:
        return cb_credit.status != "open", remaining
    return cb_credit.status == "open" and cb_credit.remaining_amount == remaining, remaining


def _resynced_balance(runner, job: Job) -> Decimal | None:
    """The balance ConnectBooster read from QuickBooks in this job's resync (a sync does not change it again),
    which spares a request per job; None when there was no resync."""
    resynced = [e for e in runner.store.events(job.id) if e.kind == JobState.RESYNCED and e.details.get("after")]
    return Decimal(resynced[-1].details["after"]) if resynced else None
