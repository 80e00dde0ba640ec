"""What the Slack edge asks of the domain: look clients up, request, decide, retry. No Slack here.

Every decision is checked against the stored job (never against what a button claims): the clicker must be
an approver and not the requester, the request must be open and unexpired, and the button must sit on that
job's own message.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from data.batches import BatchStore
from data.jobs import CreditBusy, Job, JobStore
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, load_client, search_clients
from workflow.money import fmt
from workflow.runner import JobRunner
from workflow.sweep_run import SweepService
from workflow.validation import Refusal, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """The answer to a click: ok, or a refusal to show only to the clicker."""

    ok: bool
    message: str = ""
    job: Job | None = None


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CreditService:
    def __init__(self, *, store: JobStore, runner: JobRunner, qbo, cb, approver_ids: tuple[str, ...],
                 approval_ttl: timedelta = timedelta(hours=24), now: Callable[[], datetime] | None = None,
                 read_pool: ThreadPoolExecutor | None = None, undo_window: timedelta = timedelta(hours=72)) -> None:
        self.store = store
        self.runner = runner
        self.qbo = qbo
        self.cb = cb
        self.approvers = frozenset(approver_ids)
        self.ttl = approval_ttl
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.pool = read_pool or ThreadPoolExecutor(max_workers=8, thread_name_prefix="read")
        self.undo_window = undo_window
        # Same database as the jobs (the store's connection factory): batches and their items commit side by side.
        self.sweeps = SweepService(store=store, batches=BatchStore(store._db, store.now), runner=runner, qbo=qbo,
                                   cb=cb, pool=self.pool, approvers=self.approvers, ttl=approval_ttl, now=self.now)

    # -- looking up ---------------------------------------------------------------------------
    def find_clients(self, text: str) -> list:
        return search_clients(self.cb, text)

    def load(self, org) -> ClientView:
        return load_client(qbo=self.qbo, cb=self.cb, org=org, pool=self.pool)

    # -- requesting ---------------------------------------------------------------------------
    def request(self, *, client: ClientView, user_id: str, channel_id: str, credit: str | None, invoice: str | None,
                amount: str | None, note: str | None) -> Job:
        """Validate the selection and open a job awaiting approval (raises Refusal or CreditBusy)."""
        sel = validate(client, credit_key=credit, invoice_id=invoice, amount_text=amount)
        note = (note or "").strip()[:500] or None
        try:
            return self.store.create(
                actor=user_id, kind="apply", state="awaiting_approval", requester_id=user_id, channel_id=channel_id,
                client_name=client.name, qbo_customer_id=client.qbo_customer_id, cb_org_id=client.org_id,
                credit_kind=sel.credit.kind, qbo_credit_id=sel.credit.qbo_id, cb_credit_id=sel.credit.cb_id,
                credit_number=sel.credit.number, invoice_qbo_id=sel.invoice.qbo_id,
                invoice_number=sel.invoice.number, cb_invoice_id=sel.invoice.cb_id, amount=sel.amount,
                currency=sel.invoice.currency, note=note, invoice_total=sel.invoice.total,
                invoice_balance_before=sel.invoice.balance, credit_remaining_before=sel.credit.remaining,
                expires_at=_iso(self.now() + self.ttl),
                details={"amount": str(sel.amount), "invoice": sel.invoice.number, "credit": sel.credit.key},
            )
        except CreditBusy as busy:
            raise Refusal("credit", f"Credit {sel.credit.cb_id or sel.credit.number} already has an open request "
                                    f"(#{busy.job.id}, {busy.job.state.replace('_', ' ')}); it can't be spent twice."
                          ) from None

    def request_resync_only(self, *, client: ClientView, user_id: str, channel_id: str, credit: str) -> Job:
        """The other half of the help article: nothing to write in QuickBooks, only resync, sync and verify."""
        option = client.credit(credit)
        if option is None or option.diagnosis != APPLIED_WAITING_SYNC:
            raise Refusal("credit", "Resync only is for a credit QuickBooks already shows as fully applied.")
        target = self._applied_invoice(client, option)
        try:
            job = self.store.create(
                actor=user_id, kind="resync_only", state="applied_in_quickbooks", requester_id=user_id,
                channel_id=channel_id, client_name=client.name, qbo_customer_id=client.qbo_customer_id,
                cb_org_id=client.org_id, credit_kind=option.kind, qbo_credit_id=option.qbo_id, cb_credit_id=option.cb_id,
                credit_number=option.number, invoice_qbo_id=target[0] if target else "",
                invoice_number=target[1] if target else "", cb_invoice_id=None,
                amount=option.cb_remaining or 0, currency=option.currency, event="resync_only_requested",
                details={"credit": option.key, "reason": "already applied in QuickBooks"},
            )
        except CreditBusy as busy:
            raise Refusal("credit", f"Credit {option.cb_id} already has an open request (#{busy.job.id}).") from None
        self.runner.publish(job)
        self.runner.submit(job.id)
        return job

    def _applied_invoice(self, client: ClientView, option) -> tuple[str, str] | None:
        """The invoice QuickBooks applied this credit to (the Payment linking the credit memo), if found."""
        if option.kind != "credit_memo":
            payment = self.qbo.get_payment(payment_id=option.qbo_id)
            lines = payment.get("Line", [])
        else:
            lines = []
            for payment in self.qbo.payments_for_customer(customer_id=client.qbo_customer_id):
                links = [l for line in payment.get("Line", []) for l in line.get("LinkedTxn", [])]
                if any(l.get("TxnType") == "CreditMemo" and l.get("TxnId") == option.qbo_id for l in links):
                    lines += payment.get("Line", [])
        for line in lines:
            for link in line.get("LinkedTxn", []):
                if link.get("TxnType") == "Invoice":
                    inv = self.qbo.get_invoice(invoice_id=link["TxnId"])
                    return inv.id, inv.number
        return None

    # -- deciding -----------------------------------------------------------------------------
    def _decidable(self, job_id: int, user_id: str, channel_id: str, message_ts: str) -> tuple[Job | None, str]:
        job = self.store.get(job_id)
        if job is None or job.channel_id != channel_id or job.parent_ts != message_ts:
            if job is not None:
                self.store.record(job.id, actor=user_id, kind="refused_click", details={"reason": "wrong message"})
            return None, "This button does not belong to that request; nothing was changed."
        if user_id not in self.approvers:
            return job, "Only approvers can decide credit applications (ask a finance approver); nothing was changed."
        if user_id == job.requester_id:
            return job, "You requested this application, so a colleague has to approve it; nothing was changed."
        if job.state != "awaiting_approval":
            who = f" by <@{job.approver_id}>" if job.approver_id else ""
            return job, f"Request #{job.id} was already decided ({job.state.replace('_', ' ')}{who}); nothing was changed."
        if job.expires_at and job.expires_at <= _iso(self.now()):
            self.expire(job)
            return job, f"Request #{job.id} expired at {job.expires_at}; ask the requester to start a new one."
        return job, ""

    def approve(self, *, job_id: int, user_id: str, channel_id: str, message_ts: str) -> Outcome:
        job, refusal = self._decidable(job_id, user_id, channel_id, message_ts)
        if refusal:
            if job is not None:
                self.store.record(job.id, actor=user_id, kind="refused_approval", details={"reason": refusal})
            return Outcome(False, refusal, job)
        moved = self.store.transition(job.id, from_states=["awaiting_approval"], to_state="approved", actor=user_id,
                                      approver_id=user_id, decided_at=_iso(self.now()))
        if moved is None:  # another click won the race
            latest = self.store.get(job.id)
            return Outcome(False, f"Request #{job.id} was already decided ({latest.state.replace('_', ' ')}); "
                                  "nothing was changed.", latest)
        self.runner.publish(moved)
        self.runner.submit(moved.id)
        return Outcome(True, job=moved)

    def reject(self, *, job_id: int, user_id: str, channel_id: str, message_ts: str) -> Outcome:
        job = self.store.get(job_id)
        if job is not None and user_id == job.requester_id and job.state == "awaiting_approval" \
                and job.channel_id == channel_id and job.parent_ts == message_ts:
            moved = self.store.transition(job.id, from_states=["awaiting_approval"], to_state="cancelled",
                                          actor=user_id, decided_at=_iso(self.now()))
        else:
            job, refusal = self._decidable(job_id, user_id, channel_id, message_ts)
            if refusal:
                return Outcome(False, refusal, job)
            moved = self.store.transition(job.id, from_states=["awaiting_approval"], to_state="rejected",
                                          actor=user_id, approver_id=user_id, decided_at=_iso(self.now()))
        if moved is None:
            return Outcome(False, "That request was already decided; nothing was changed.", self.store.get(job_id))
        self.runner.publish(moved)
        return Outcome(True, job=moved)

    def retry(self, *, job_id: int, user_id: str) -> Outcome:
        """Send a job that needs attention back to its resume state (approvers and the requester)."""
        job = self.store.get(job_id)
        if job is None:
            return Outcome(False, "Unknown job; nothing was changed.")
        if user_id not in self.approvers and user_id != job.requester_id:
            return Outcome(False, "Only approvers or the requester can retry a job; nothing was changed.", job)
        if job.state != "needs_attention" or not job.retryable or not job.resume_state:
            return Outcome(False, f"Job #{job.id} is {job.state.replace('_', ' ')}; there is nothing to retry.", job)
        moved = self.store.transition(job.id, from_states=["needs_attention"], to_state=job.resume_state,
                                      actor=user_id, event="retry", error=None, retryable=0)
        if moved is None:
            return Outcome(False, "Someone else already retried this job.", self.store.get(job.id))
        self.runner.publish(moved)
        self.runner.submit(moved.id)
        return Outcome(True, job=moved)

    def expire(self, job: Job) -> Job | None:
        moved = self.store.transition(job.id, from_states=["awaiting_approval"], to_state="expired", actor="bot",
                                      details={"expires_at": job.expires_at})
        self.runner.publish(moved)
        return moved

    def expire_due(self) -> int:
        """Expire every request whose approval window has passed; returns how many."""
        now = _iso(self.now())
        due = [j for j in self.store.in_states(["awaiting_approval"]) if j.expires_at and j.expires_at <= now]
        return sum(1 for j in due if self.expire(j)) + self.sweeps.expire_due()

    def undo(self, *, job_id: int, user_id: str, channel_id: str) -> Outcome:
        """Reverse a verified application (approvers, within the undo window); exactly one undo per job."""
        job = self.store.get(job_id)
        if job is None or job.channel_id != channel_id or job.kind != "apply" or not job.parent_ts:
            return Outcome(False, "That Undo button is not valid; nothing was changed.")
        if user_id not in self.approvers:
            self.store.record(job.id, actor=user_id, kind="refused_undo", details={"reason": "not an approver"})
            return Outcome(False, "Only approvers can undo a credit application; nothing was changed.", job)
        if job.state != "verified":
            return Outcome(False, f"Application #{job.id} is {job.state.replace('_', ' ')}; only a completed "
                                  "application can be undone. Nothing was changed.", job)
        if job.completed_at and job.completed_at < _iso(self.now() - self.undo_window):
            return Outcome(False, f"Application #{job.id} completed more than {self.undo_window.total_seconds() / 3600:g} "
                                  "hours ago, past the undo window; reverse it in QuickBooks. Nothing was changed.", job)
        try:
            undo = self.store.create(
                actor=user_id, kind="undo", state="approved", event="undo_requested", undo_of=job.id,
                requester_id=user_id, approver_id=user_id, channel_id=job.channel_id, parent_ts=job.parent_ts,
                client_name=job.client_name, qbo_customer_id=job.qbo_customer_id, cb_org_id=job.cb_org_id,
                credit_kind=job.credit_kind, qbo_credit_id=job.qbo_credit_id, cb_credit_id=job.cb_credit_id,
                credit_number=job.credit_number, invoice_qbo_id=job.invoice_qbo_id, invoice_number=job.invoice_number,
                cb_invoice_id=job.cb_invoice_id, amount=job.amount, currency=job.currency,
                invoice_total=job.invoice_total, invoice_balance_before=job.invoice_balance_after,
                qbo_payment_id=job.qbo_payment_id, decided_at=_iso(self.now()), details={"undo_of": job.id},
            )
        except CreditBusy as busy:
            what = "An undo" if busy.job.undo_of == job.id else "Another request"
            return Outcome(False, f"{what} (#{busy.job.id}) is already open on this credit; nothing was changed.", job)
        self.runner.publish(undo)
        self.runner.submit(undo.id)
        return Outcome(True, job=undo)

    def describe_amounts(self, job: Job) -> str:
        after = (job.invoice_balance_before or 0) - job.amount
        return f"{fmt(job.invoice_balance_before, job.currency)} → {fmt(after, job.currency)}"
