"""The QuickBooks half of a credit application (a single request's and a sweep item's): check, then write.

Each step is idempotent: the QuickBooks `requestid` is stored on the job before the call, so a step repeated
after a crash reconciles instead of writing twice. The ConnectBooster half comes from the bot's port.
"""
from __future__ import annotations

from data.events import EventKind
from data.jobs import Job
from data.states import JobState
from integrations.quickbooks import write_marker
from integrations.quickbooks_models import CREDIT_MEMO
from workflow.prefetch import confirm_later, expected_after, prefetched, wrong_balance


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
    if runner.half.pending_payment(job):
        problems.append(f"invoice {job.invoice_number} now has a ConnectBooster payment waiting to sync")
    if problems:
        runner.move(job, JobState.STALE, details={"problems": problems, "invoice_balance": str(invoice.balance),
                                                  "credit_remaining": str(credit.remaining), "read": read})
        return
    attempt = job.attempt + 1
    runner.move(job, JobState.APPLYING, event=EventKind.QUICKBOOKS_WRITE_STARTED, attempt=attempt,
                qbo_request_id=runner.new_key("ac", job, attempt), details={"attempt": attempt, "read": read})


def write(runner, job: Job) -> None:
    """The one ledger write. A repeat (after a kill, a lost answer, a Retry) looks for the job's own marked write
    first: QuickBooks documents requestid replay only for a dropped connection with the same body."""
    result = own_write(runner.qbo, job) if write_was_sent(runner.store, job) else None
    if result is not None:
        runner.store.record(job.id, actor="bot", kind=EventKind.QUICKBOOKS_WRITE_FOUND,
                            details={"payment_id": result.payment_id, "request_id": job.qbo_request_id})
    else:
        runner.store.record(job.id, actor="bot", kind=EventKind.QUICKBOOKS_WRITE_SENT,
                            details={"request_id": job.qbo_request_id})
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


def already_written(runner, job: Job) -> bool:
    """True when QuickBooks shows this job's write (sent before a kill, a lost answer or an error): the write step
    then only records and confirms it (the gate's `done` for a write reached other than from its check)."""
    return write_was_sent(runner.store, job) and own_write(runner.qbo, job) is not None


def write_was_sent(store, job: Job) -> bool:
    """True when this attempt's write may already have reached QuickBooks (sent before a kill or a lost answer)."""
    events = store.events(job.id)
    started = max((i for i, e in enumerate(events) if e.kind == EventKind.QUICKBOOKS_WRITE_STARTED), default=-1)
    return any(e.kind == EventKind.QUICKBOOKS_WRITE_SENT for e in events[started + 1:])


def own_write(qbo, job: Job):
    """The job's own application in QuickBooks (found by its marker, the documents and the amount), or None."""
    marker = write_marker(job.id)
    if job.credit_kind == CREDIT_MEMO:
        return qbo.find_credit_memo_application(customer_id=job.qbo_customer_id, credit_memo_id=job.qbo_credit_id,
                                                invoice_id=job.invoice_qbo_id, amount=job.amount, marker=marker)
    return qbo.find_payment_application(payment_id=job.qbo_credit_id, invoice_id=job.invoice_qbo_id,
                                        amount=job.amount, marker=marker)
