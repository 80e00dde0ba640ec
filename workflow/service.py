"""What the Slack edge asks of the domain: request, decide, retry, undo. No Slack here (lookups: the directory).

Every decision is checked against the stored job (never against what a button claims): the clicker must be
an approver and not the requester, the request must be open and unexpired, and the button must sit on that
job's own message.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from data.events import EventKind
from data.jobs import CreditBusy, Job, JobStore, stamp
from data.states import JobKind, JobState
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView
from workflow.machine import move
from workflow.policy import REFUSAL_EVENTS, Action, NotAllowed, Permit, Policy
from workflow.runner import JobRunner
from workflow.steps_apply import own_write
from workflow.undo import open_undo
from workflow.validation import InvalidRequest, validate

log = logging.getLogger(__name__)


def cancel_unposted(store: JobStore, job: Job, error: str) -> Job | None:
    """Slack refused a request's approval message for good: cancel it (its credit is free again); None when it
    was decided meanwhile."""
    if job.state != JobState.AWAITING_APPROVAL:
        return None
    return move(store, job, JobState.CANCELLED, event=EventKind.APPROVAL_MESSAGE_REFUSED,
                details={"error": error, "channel": job.channel_id})


class CreditService:
    """Requests and decisions on single jobs; sweeps are `runner.sweeps` (workflow/sweep_run.py)."""

    def __init__(self, *, store: JobStore, runner: JobRunner, policy: Policy,
                 approval_ttl: timedelta = timedelta(hours=24), now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.runner = runner
        self.qbo = runner.qbo
        self.mode = runner.half.mode  # every job made here is done in the bot's ConnectBooster mode
        self.policy = policy
        self.approvers = policy.approvers
        self.ttl = approval_ttl
        self.now = now or (lambda: datetime.now(UTC))
        self.sweeps = runner.sweeps

    # -- requesting ---------------------------------------------------------------------------
    def request(self, *, client: ClientView, user_id: str, channel_id: str, credit: str | None, invoice: str | None,
                amount: str | None, note: str | None) -> Job:
        """Validate the selection and open a job awaiting approval (raises InvalidRequest)."""
        sel = validate(client, credit_key=credit, invoice_id=invoice, amount_text=amount)
        note = (note or "").strip()[:500] or None
        try:
            return self.store.create(
                actor=user_id, kind=JobKind.APPLY, state=JobState.AWAITING_APPROVAL, requester_id=user_id, channel_id=channel_id,
                client_name=client.name, qbo_customer_id=client.qbo_customer_id, cb_org_id=client.org_id,
                credit_kind=sel.credit.kind, qbo_credit_id=sel.credit.qbo_id, cb_credit_id=sel.credit.cb_id,
                credit_number=sel.credit.number, invoice_qbo_id=sel.invoice.qbo_id,
                invoice_number=sel.invoice.number, cb_invoice_id=sel.invoice.cb_id, amount=sel.amount,
                currency=sel.invoice.currency, note=note, invoice_total=sel.invoice.total,
                invoice_balance_before=sel.invoice.balance, credit_remaining_before=sel.credit.remaining,
                expires_at=stamp(self.now() + self.ttl), mode=self.mode,
                details={"amount": str(sel.amount), "invoice": sel.invoice.number, "credit": sel.credit.key},
            )
        except CreditBusy as busy:
            raise InvalidRequest("credit", f"Credit {sel.credit.cb_id or sel.credit.number} already has an open request "
                                    f"(#{busy.job.id}, {busy.job.state.label}); it can't be spent twice."
                          ) from None

    def request_resync_only(self, *, client: ClientView, user_id: str, channel_id: str, credit: str) -> Job:
        """The other half of the help article: nothing to write in QuickBooks, only the ConnectBooster half.

        The job carries the invoice's figures as QuickBooks has them now (the verification and the steps compare
        ConnectBooster's copy with them)."""
        option = client.credit(credit)
        if option is None or option.diagnosis != APPLIED_WAITING_SYNC:
            raise InvalidRequest("credit", "This is only for a credit QuickBooks already shows as fully applied "
                                           "(nothing left to apply, only ConnectBooster to bring up to date).")
        target = self.qbo.applied_invoice_for_credit(customer_id=client.qbo_customer_id, kind=option.kind,
                                                     credit_id=option.qbo_id)
        figures = {"invoice_total": target.total if target else None,
                   "invoice_balance_after": target.balance if target else None}
        try:
            job = self.store.create(
                actor=user_id, kind=JobKind.RESYNC_ONLY, state=JobState.APPLIED, requester_id=user_id,
                channel_id=channel_id, client_name=client.name, qbo_customer_id=client.qbo_customer_id,
                cb_org_id=client.org_id, credit_kind=option.kind, qbo_credit_id=option.qbo_id, cb_credit_id=option.cb_id,
                credit_number=option.number, invoice_qbo_id=target.id if target else "",
                invoice_number=target.number if target else "", cb_invoice_id=None,
                amount=option.cb_remaining or 0, currency=option.currency, event=EventKind.RESYNC_ONLY_REQUESTED,
                mode=self.mode, details={"credit": option.key, "reason": "already applied in QuickBooks"}, **figures)
        except CreditBusy as busy:
            raise InvalidRequest("credit", f"Credit {option.cb_id or '#' + option.number} already has an open request "
                                    f"(#{busy.job.id}, {busy.job.state.label}).") from None
        self.runner.publish(job)
        self.runner.submit(job.id)
        return job

    # -- deciding (who may: workflow/policy.py) --------------------------------------------------
    def _permit(self, action: Action, user_id: str, job: Job | None, **where) -> Permit:
        """Ask the policy; record a refusal in the audit trail and expire a request found past its window."""
        try:
            return self.policy.check(action, user_id, job, **where)
        except NotAllowed as refused:
            if job is not None and refused.record:
                self.store.record(job.id, actor=user_id, kind=REFUSAL_EVENTS[action, "job"],
                                  details={"reason": refused.message})
            if refused.expired and job is not None:
                self.expire(job)
            raise

    def _copy(self, job: Job | None, channel_id: str, message_ts: str) -> str | None:
        """The click's message when it is an earlier copy of the job's approval message: one Slack took before a
        crash lost its answer, so the message went out again (the same request, the same figures)."""
        if job is None or not job.parent_ts or message_ts == job.parent_ts or channel_id != job.channel_id:
            return None
        return message_ts if self.store.parent_resent(job.id) else None

    def _retire(self, job: Job, copy: str | None) -> None:
        """Replace an earlier copy's buttons with a pointer to the request's message."""
        if copy:
            self.runner.notifier.retire_copy(job, copy)

    def approve(self, *, job_id: int, user_id: str, channel_id: str, message_ts: str) -> Job:
        """Approve a request (raises NotAllowed); the runner takes it from there."""
        job = self.store.get(job_id)
        copy = self._copy(job, channel_id, message_ts)
        message_ts = job.parent_ts if copy else message_ts
        self._permit(Action.APPROVE, user_id, job, channel=channel_id, message_ts=message_ts)
        moved = move(self.store, job, JobState.APPROVED, actor=user_id, approver_id=user_id,
                     decided_at=stamp(self.now()))
        if moved is None:  # another click won the race
            raise NotAllowed(f"Request #{job.id} was already decided ({self.store.get(job.id).state.label}); "
                          "nothing was changed.")
        self.runner.publish(moved)
        self.runner.submit(moved.id)
        self._retire(moved, copy)
        return moved

    def reject(self, *, job_id: int, user_id: str, channel_id: str, message_ts: str) -> Job:
        """Reject (an approver) or withdraw (the requester) a request (raises NotAllowed)."""
        job = self.store.get(job_id)
        copy = self._copy(job, channel_id, message_ts)
        message_ts = job.parent_ts if copy else message_ts
        permit = self._permit(Action.REJECT, user_id, job, channel=channel_id, message_ts=message_ts)
        to_state, approver = (JobState.CANCELLED, None) if permit.withdraw else (JobState.REJECTED, user_id)
        moved = move(self.store, job, to_state, actor=user_id, decided_at=stamp(self.now()),
                     **({"approver_id": approver} if approver else {}))
        if moved is None:
            raise NotAllowed("That request was already decided; nothing was changed.")
        self.runner.publish(moved)
        self._retire(moved, copy)
        return moved

    def retry(self, *, job_id: int, user_id: str, channel_id: str | None = None) -> Job:
        """Send a job that needs attention back to its resume state (raises NotAllowed).

        A Retry that would write to QuickBooks on an approval older than the approval window goes back for
        a fresh approval with today's figures instead (an old approval is not reused). A write whose outcome was
        unknown is looked for first: found, the Retry only finishes what the approval already did."""
        job = self.store.get(job_id)
        self._permit(Action.RETRY, user_id, job, channel=channel_id)
        resume = JobState(job.resume_state)
        if job.kind == JobKind.APPLY and not job.batch_id and self._approval_old(job) and (
                resume == JobState.APPROVED or (resume == JobState.APPLYING and own_write(self.qbo, job) is None)):
            return self._reopen(job, user_id)
        moved = move(self.store, job, resume, actor=user_id, event=EventKind.RETRY, error=None, retryable=0)
        if moved is None:
            raise NotAllowed("Someone else already retried this job.", record=False)
        self.runner.publish(moved)
        self.runner.submit(moved.id)
        return moved

    def _approval_old(self, job: Job) -> bool:
        return bool(job.decided_at) and job.decided_at < stamp(self.now() - self.ttl)

    def _reopen(self, job: Job, user_id: str) -> Job:
        """Back to awaiting approval with the figures QuickBooks has now (the old approval has lapsed)."""
        invoice = self.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
        credit = self.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
        moved = move(
            self.store, job, JobState.AWAITING_APPROVAL, actor=user_id,
            event=EventKind.REAPPROVAL_REQUESTED, error=None, retryable=0, approver_id=None, decided_at=None,
            invoice_balance_before=invoice.balance, credit_remaining_before=credit.remaining,
            expires_at=stamp(self.now() + self.ttl),
            details={"reason": "approval older than the approval window", "approved_at": job.decided_at,
                     "invoice_balance": str(invoice.balance), "credit_remaining": str(credit.remaining)})
        if moved is None:
            raise NotAllowed("Someone else already retried this job.", record=False)
        self.runner.publish(moved)
        return moved

    def expire(self, job: Job) -> Job | None:
        moved = move(self.store, job, JobState.EXPIRED, details={"expires_at": job.expires_at})
        self.runner.publish(moved)
        return moved



    def expire_due(self) -> int:
        """Expire every request whose approval window has passed; returns how many."""
        now = stamp(self.now())
        due = [j for j in self.store.in_states([JobState.AWAITING_APPROVAL]) if j.expires_at and j.expires_at <= now]
        return sum(1 for j in due if self.expire(j)) + self.sweeps.expire_due()

    def undo(self, *, job_id: int, user_id: str, channel_id: str) -> Job:
        """Reverse a verified application (raises NotAllowed); exactly one undo per job."""
        job = self.store.get(job_id)
        self._permit(Action.UNDO, user_id, job, channel=channel_id)
        try:
            undo = open_undo(self.store, job, user_id=user_id, decided_at=stamp(self.now()))
        except CreditBusy as busy:
            what = "An undo" if busy.job.undo_of == job.id else "Another request"
            raise NotAllowed(f"{what} (#{busy.job.id}) is already open on this credit; nothing was changed.",
                          record=False) from None
        self.runner.publish(undo)
        self.runner.submit(undo.id)
        return undo
