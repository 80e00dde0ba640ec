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
from data.states import DECIDING, JobKind, JobState
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView
from workflow.machine import move
from workflow.policy import REFUSAL_EVENTS, Action, NotAllowed, Permit, Policy
from workflow.runner import JobRunner
from workflow.undo import open_undo
from workflow.validation import InvalidRequest, validate

log = logging.getLogger(__name__)


def cancel_unposted(store: JobStore, job: Job, error: str) -> Job | None:
    """Slack refused a request's approval message for good: cancel it (its credit is free again); None when it
    was decided meanwhile."""
    if job.state not in DECIDING:
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
        self.proposals = None  # workflow.proposals.ProposalService (bot.py): a request closes its credit's proposal

    # -- requesting ---------------------------------------------------------------------------
    def request(self, *, client: ClientView, user_id: str, channel_id: str, credit: str | None, invoice: str | None,
                amount: str | None, note: str | None) -> Job:
        """Validate the selection and open a job awaiting approval (raises InvalidRequest)."""
        sel = validate(client, credit_key=credit, invoice_id=invoice, amount_text=amount)
        note = (note or "").strip()[:500] or None
        try:
            job = self.store.create(
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
        if self.proposals is not None:
            self.proposals.requested(job)
        return job

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
        permit = self._permit(Action.APPROVE, user_id, job, channel=channel_id, message_ts=message_ts)
        if permit.first_of_two:  # above DUAL_APPROVAL_ABOVE: nothing is written before the second approver
            moved = move(self.store, job, JobState.AWAITING_SECOND_APPROVAL, actor=user_id, first_approver_id=user_id)
        else:
            moved = move(self.store, job, JobState.APPROVED, actor=user_id, approver_id=user_id,
                         decided_at=stamp(self.now()))
        if moved is None:  # another click won the race
            raise NotAllowed(f"Request #{job.id} was already decided ({self.store.get(job.id).state.label}); "
                          "nothing was changed.")
        self.runner.publish(moved)
        if moved.state == JobState.APPROVED:
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

    def retry(self, *, job_id: int, user_id: str, channel_id: str | None = None,
              message_ts: str | None = None) -> Job:
        """Send a job that needs attention back to its resume state (raises NotAllowed). `message_ts`: the message
        the clicked button belongs to (the job's thread, or its sweep's message).

        Whatever it resumes, a QuickBooks write runs again only after its check re-read QuickBooks and the policy
        found the approval still standing (workflow/gate.py): a lapsed one goes back to people with today's figures."""
        job = self.store.get(job_id)
        self._permit(Action.RETRY, user_id, job, channel=channel_id, message_ts=message_ts, home=self._home(job))
        moved = move(self.store, job, JobState(job.resume_state), actor=user_id, event=EventKind.RETRY, error=None,
                     retryable=0)
        if moved is None:
            raise NotAllowed("Someone else already retried this job.", record=False)
        self.runner.publish(moved)
        self.runner.submit(moved.id)
        return moved

    def _home(self, job: Job | None) -> str | None:
        """The message a job's Retry / Undo buttons belong to: its own, else (a sweep item) its sweep's."""
        if job is None or job.parent_ts or not job.batch_id or self.sweeps is None:
            return job.parent_ts if job is not None else None
        batch = self.sweeps.batches.get(job.batch_id)
        return batch.parent_ts if batch is not None else None

    def expire(self, job: Job) -> Job | None:
        moved = move(self.store, job, JobState.EXPIRED, details={"expires_at": job.expires_at})
        self.runner.publish(moved)
        return moved

    def expire_due(self) -> int:
        """Expire every request whose approval window has passed; returns how many."""
        now = stamp(self.now())
        due = [j for j in self.store.in_states(DECIDING) if j.expires_at and j.expires_at <= now]
        return sum(1 for j in due if self.expire(j)) + self.sweeps.expire_due()

    def undo(self, *, job_id: int, user_id: str, channel_id: str, message_ts: str | None = None) -> Job:
        """Reverse a verified application (raises NotAllowed); exactly one undo per job. `message_ts`: the thread
        the Undo button sits in, which must be the application's."""
        job = self.store.get(job_id)
        self._permit(Action.UNDO, user_id, job, channel=channel_id, message_ts=message_ts, home=self._home(job))
        try:
            undo = open_undo(self.store, job, user_id=user_id, decided_at=stamp(self.now()), parent_ts=job.parent_ts or self._home(job))
        except CreditBusy as busy:
            what = "An undo" if busy.job.undo_of == job.id else "Another request"
            raise NotAllowed(f"{what} (#{busy.job.id}) is already open on this credit; nothing was changed.",
                          record=False) from None
        self.runner.publish(undo)
        self.runner.submit(undo.id)
        return undo
