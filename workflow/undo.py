"""Undo of a verified credit application: the runner steps of a job of kind "undo".

    approved ─check→ undoing_in_quickbooks ─reverse→ applied_in_quickbooks → the ConnectBooster half, as for an
        └─QuickBooks changed since→ stale (event undo_refused; nothing written)   application; its verification
                                                                                  expects the credit open again

A credit memo's application is reversed by deleting its $0 Payment; an unapplied payment's by removing only
the invoice line we added (a sparse update keeping every other line; the cash receipt is never deleted).
The undo job shares the original job's thread (same parent_ts); the original becomes UNDONE at the end.
"""
from __future__ import annotations

import secrets
from decimal import Decimal

from data.events import EventKind
from data.jobs import Job
from data.states import JobKind, JobState
from integrations.errors import NotFoundError
from integrations.quickbooks_models import CREDIT_MEMO


def open_undo(store, job: Job, *, user_id: str, decided_at: str, **extra) -> Job:
    """The undo job of a verified application (raises CreditBusy while another job holds its credit); `extra`
    sets or overrides columns: a sweep's undo of its item carries the sweep (batch_id, batch_seq)."""
    values = dict(
        kind=JobKind.UNDO, state=JobState.APPROVED,
        undo_of=job.id, mode=job.mode,
        requester_id=user_id, approver_id=user_id, channel_id=job.channel_id, parent_ts=job.parent_ts,
        client_name=job.client_name, qbo_customer_id=job.qbo_customer_id, cb_org_id=job.cb_org_id,
        credit_kind=job.credit_kind, qbo_credit_id=job.qbo_credit_id, cb_credit_id=job.cb_credit_id,
        credit_number=job.credit_number, invoice_qbo_id=job.invoice_qbo_id, invoice_number=job.invoice_number,
        cb_invoice_id=job.cb_invoice_id, amount=job.amount, currency=job.currency,
        invoice_total=job.invoice_total, invoice_balance_before=job.invoice_balance_after,
        qbo_payment_id=job.qbo_payment_id, decided_at=decided_at)
    values.update(extra)
    details = {"undo_of": job.id, **({"batch": extra["batch_id"]} if extra.get("batch_id") else {})}
    return store.create(actor=user_id, event=EventKind.UNDO_REQUESTED, details=details, **values)


def _problems(runner, job: Job, original: Job | None) -> list[str]:
    """What changed in QuickBooks since our application (empty: safe to reverse)."""
    if original is None or original.state != JobState.VERIFIED:
        return [f"application #{job.undo_of} is {JobState(original.state).label if original else 'unknown'} now"]
    problems = []
    invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
    if invoice.balance != original.invoice_balance_after:
        problems.append(f"invoice {job.invoice_number} balance is now {invoice.balance}, not the "
                        f"{original.invoice_balance_after} our application left (it was paid or changed since)")
    try:
        payment = runner.qbo.payment(job.qbo_payment_id)
    except NotFoundError:
        return problems + [f"Payment {job.qbo_payment_id} is no longer in QuickBooks"]
    on_invoice = payment.applied_to("Invoice", job.invoice_qbo_id)
    if on_invoice != job.amount:
        problems.append(f"Payment {job.qbo_payment_id} now applies {on_invoice} to invoice {job.invoice_number}, "
                        f"not the {job.amount} we recorded")
    if job.credit_kind == CREDIT_MEMO:
        memo = payment.applied_to("CreditMemo", job.qbo_credit_id)
        if memo != job.amount or len(payment.lines) != 2:
            problems.append(f"Payment {job.qbo_payment_id} was changed since (it no longer only links credit memo "
                            f"#{job.credit_number} and invoice {job.invoice_number})")
    return problems


def already_reversed(runner, job: Job) -> bool:
    """True when QuickBooks no longer shows our application (an earlier attempt's reversal went through): the
    reverse step's calls are then no-ops and it only confirms the balance (the gate's `done`)."""
    try:
        payment = runner.qbo.payment(job.qbo_payment_id if job.credit_kind == CREDIT_MEMO else job.qbo_credit_id)
    except NotFoundError:
        return job.credit_kind == CREDIT_MEMO  # the $0 Payment is gone (an unapplied payment is never deleted)
    return job.credit_kind != CREDIT_MEMO and payment.applied_to("Invoice", job.invoice_qbo_id) == 0


def check(runner, job: Job) -> None:
    """Re-read QuickBooks; refuse with the reasons when anything changed, else store the requestid."""
    original = runner.store.get(job.undo_of) if job.undo_of else None
    problems = _problems(runner, job, original)
    if problems:
        runner.move(job, JobState.STALE, event=EventKind.UNDO_REFUSED, details={"problems": problems})
        return
    attempt = job.attempt + 1
    runner.move(job, JobState.UNDOING, event=EventKind.UNDO_WRITE_STARTED, attempt=attempt,
                 qbo_request_id=f"un-{job.id}-{attempt}-{secrets.token_hex(6)}", details={"attempt": attempt})


def reverse(runner, job: Job) -> None:
    """The one ledger write, under the stored requestid; both calls are no-ops when already done."""
    if job.credit_kind == CREDIT_MEMO:
        runner.qbo.delete_payment(payment_id=job.qbo_payment_id, request_id=job.qbo_request_id)
        how = "deleted"
    else:
        runner.qbo.remove_invoice_line(payment_id=job.qbo_credit_id, invoice_id=job.invoice_qbo_id,
                                       request_id=job.qbo_request_id)
        how = "line_removed"
    invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
    expected = (job.invoice_balance_before or Decimal("0")) + job.amount
    details = {"payment_id": job.qbo_payment_id, "how": how, "balance_before": str(job.invoice_balance_before),
               "balance_after": str(invoice.balance), "request_id": job.qbo_request_id}
    if invoice.balance != expected:
        runner.attention(job, f"QuickBooks accepted the undo, but invoice {job.invoice_number} shows {invoice.balance} "
                               f"instead of {expected}. Check the invoice in QuickBooks before anything else.",
                          resume=JobState.APPLIED, retryable=False, invoice_balance_after=invoice.balance,
                          extra=details)
        return
    runner.move(job, JobState.APPLIED, event=EventKind.UNDONE_IN_QUICKBOOKS, invoice_balance_after=invoice.balance,
                 applied_at=runner.store.now(), details=details)
