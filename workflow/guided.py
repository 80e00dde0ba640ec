"""Guided mode's ConnectBooster half (issue 14): after the QuickBooks write a person follows the help article's
steps in the portal and confirms each one with a button in the job's thread.

    APPLIED ─(runner step below)→ GUIDED_RESYNC ─Resynced→ GUIDED_SYNC ─Sync finished→ GUIDED_CHECK ─All clear→ VERIFIED

Every click is one guarded transition or one guarded event (the job's state must still be the step the button
belongs to), so a double click, a stale button or a restart between steps never repeats a step; nothing here
writes to QuickBooks, so a resumed checklist can never write twice. The job keeps its credit's open_credit_key
until VERIFIED, so a second request for the same credit is refused while the checklist is open.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from data.jobs import Event, Job, JobStore
from data.states import GUIDED, JobKind, JobState
from workflow.machine import Flavor, is_guided, step
from workflow.policy import Action, Policy, Refused

log = logging.getLogger(__name__)

ESCALATE_AFTER = timedelta(days=1)  # a step unconfirmed this long is listed under "needs attention"


@dataclass(frozen=True)
class Answer:
    """What a guided button does: the step (state) it belongs to, where it moves the job (None: stays), its event."""

    state: JobState
    to_state: JobState | None
    event: str


ANSWERS: dict[str, Answer] = {
    "guided_resynced": Answer(JobState.GUIDED_RESYNC, JobState.GUIDED_SYNC, "guided_resynced"),
    "guided_sync_started": Answer(JobState.GUIDED_SYNC, None, "guided_sync_started"),
    "guided_sync_finished": Answer(JobState.GUIDED_SYNC, JobState.GUIDED_CHECK, "guided_sync_finished"),
    "guided_sync_failed": Answer(JobState.GUIDED_SYNC, None, "guided_sync_failed"),
    "guided_all_clear": Answer(JobState.GUIDED_CHECK, JobState.VERIFIED, JobState.VERIFIED),
    "guided_still_shows": Answer(JobState.GUIDED_CHECK, None, "guided_credit_still_shows"),
}
# Events that start (or restart) a step: its reminder clock runs from the last of them.
STEP_STARTS = (JobState.GUIDED_RESYNC, "guided_resynced", "guided_sync_finished", "retry", "guided_sync_failed",
               "guided_mismatch", "guided_credit_still_shows")


def sync_from(job: Job, credit_date: str | None, today: date) -> date:
    """The sync date the article asks for: the day before the application, or the credit's date if older."""
    applied = _day(job.applied_at) or today
    start = applied - timedelta(days=1)
    credit = _day(credit_date)
    return min(start, credit) if credit else start


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@step(JobState.APPLIED, Flavor.GUIDED)
def guide(runner, job: Job) -> None:
    """Post step 1 (resync the invoice), or step 2 when there is no invoice to resync; store the sync date."""
    credit = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
    start = sync_from(job, credit.txn_date, runner.today())
    to_state = JobState.GUIDED_RESYNC if job.invoice_number else JobState.GUIDED_SYNC
    runner.move(job, to_state, event=to_state,
                sync_from=start.isoformat(),
                details={"step": to_state, "sync_from": start.isoformat(), "credit_date": credit.txn_date,
                         "expected_balance": str(job.invoice_balance_after) if job.invoice_balance_after is not None
                         else None, "total": str(job.invoice_total) if job.invoice_total is not None else None})


def _undo_applied(runner, job: Job) -> None:
    """An undo's APPLIED step: guided for a guided job, else the API mode's own (steps_apply.find_copy)."""
    if is_guided(job):
        guide(runner, job)
        return
    from workflow.steps_apply import find_copy

    find_copy(runner, job)


step(JobState.APPLIED, Flavor.UNDO)(_undo_applied)


class GuidedService:
    """The person's answers to the guided steps, the reminders, and the day-old escalation."""

    def __init__(self, *, store: JobStore, runner, policy: Policy, remind_minutes: float = 30.0,
                 now: Callable[[], datetime] | None = None, sweeps=None) -> None:
        from workflow.sweep_guided import GuidedSweep

        self.store = store
        self.runner = runner
        self.policy = policy
        self.remind_after = timedelta(minutes=remind_minutes)
        self.now = now or (lambda: datetime.now(UTC))
        # A sweep's one checklist (workflow/sweep_guided.py): same people, same reminder delay.
        self.sweep = GuidedSweep(sweeps=sweeps, policy=policy, remind_after=self.remind_after, now=self.now) \
            if sweeps is not None else None

    def _permit(self, job_id: int | None, user: str, channel: str | None, thread_ts: str | None) -> Job:
        job = self.store.get(job_id) if job_id is not None else None
        try:
            self.policy.check(Action.GUIDED_CONFIRM, user, job, channel=channel, message_ts=thread_ts)
        except Refused as refused:
            if job is not None and refused.record:
                self.store.record(job.id, actor=user, kind=f"refused_{Action.GUIDED_CONFIRM}",
                                  details={"reason": refused.message})
            raise
        return job

    def check(self, *, job_id: int | None, user: str, channel: str | None, thread_ts: str | None) -> Job:
        """May this user answer step 1 now? (before asking "what does it show?"; raises Refused)."""
        job = self._permit(job_id, user, channel, thread_ts)
        if job.state != JobState.GUIDED_RESYNC:
            raise Refused(_stale(job, JobState.GUIDED_RESYNC), record=False)
        return job

    def answer(self, *, job_id: int | None, action: str, user: str, channel: str | None,
               thread_ts: str | None) -> Job:
        """Record a click on a step's button (raises Refused when the step is not the job's current one)."""
        what = ANSWERS.get(action)
        if what is None:
            raise Refused("That button is not valid; nothing was changed.", record=False)
        job = self._permit(job_id, user, channel, thread_ts)
        details = {"step": what.state, "answer": action}
        if what.to_state == JobState.VERIFIED:
            details.update(confirmed_by=user, guided=True)
            if job.kind == JobKind.UNDO and job.undo_of:
                self._mark_original_undone(job)
        if what.to_state is None:
            moved = self.store.update(job.id, expect_state=what.state, actor=user, event=what.event, details=details)
        else:
            moved = self.store.transition(job.id, from_states=[what.state], to_state=what.to_state, actor=user,
                                          event=what.event, details=details)
        if moved is None:
            raise Refused(_stale(self.store.get(job.id), what.state), record=False)
        self.runner.publish(moved)
        return moved

    def mismatch(self, *, job_id: int | None, user: str, shown: str, channel: str | None,
                 thread_ts: str | None) -> Job:
        """"Shows something else": record what ConnectBooster shows and explain the usual cause."""
        job = self._permit(job_id, user, channel, thread_ts)
        shown_amount = _money(shown)
        qbo_balance = self.runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id).balance if job.invoice_qbo_id \
            else None
        details = {"step": JobState.GUIDED_RESYNC, "shown": shown.strip()[:200],
                   "shown_amount": str(shown_amount) if shown_amount is not None else None,
                   "expected": str(job.invoice_balance_after) if job.invoice_balance_after is not None else None,
                   "qbo_balance": str(qbo_balance) if qbo_balance is not None else None,
                   "cause": _cause(job, shown_amount, qbo_balance)}
        moved = self.store.update(job.id, expect_state=JobState.GUIDED_RESYNC, actor=user, event="guided_mismatch",
                                  details=details)
        if moved is None:
            raise Refused(_stale(self.store.get(job.id), JobState.GUIDED_RESYNC), record=False)
        self.runner.publish(moved)
        return moved

    def _mark_original_undone(self, job: Job) -> None:
        # The original first (as workflow/undo.py does): a crash in between leaves the undo to confirm again.
        self.runner.publish(self.store.transition(job.undo_of, from_states=[JobState.VERIFIED],
                                                  to_state=JobState.UNDONE, event=JobState.UNDONE,
                                                  details={"undo_job": job.id}))

    # -- reminders --------------------------------------------------------------------------------
    def remind_due(self) -> int:
        """One reminder per step left unconfirmed for remind_minutes; after a day, needs attention. Returns
        how many jobs got either."""
        now = self.now()
        done = 0
        for job in self.store.in_states(sorted(GUIDED)):
            events = self.store.events(job.id)
            started = _step_start(events)
            if started is None:
                continue
            waited = now - started
            if waited >= ESCALATE_AFTER:
                self.runner.attention(job, f"{_step_name(job.state)} has waited a day for a confirmation in the "
                                           "thread. Continue the checklist when the step is done in ConnectBooster.",
                                      resume=job.state, retryable=True, action="guided_continue",
                                      extra={"guided": True, "step": job.state})
                done += 1
            elif waited >= self.remind_after and not _reminded(events, job.state, started):
                moved = self.store.update(job.id, expect_state=job.state, event="guided_reminder",
                                          details={"step": job.state, "who": job.requester_id,
                                                   "waited_minutes": int(waited.total_seconds() // 60)})
                self.runner.publish(moved)
                done += 1 if moved else 0
        return done + (self.sweep.remind_due() if self.sweep is not None else 0)


def _step_start(events: list[Event]) -> datetime | None:
    starts = [e.at for e in events if e.kind in STEP_STARTS]
    return _parse(starts[-1]) if starts else None


def _reminded(events: list[Event], state: str, since: datetime) -> bool:
    return any(e.kind == "guided_reminder" and e.details.get("step") == state and _parse(e.at) >= since
               for e in events)


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _money(text: str) -> Decimal | None:
    """The first amount in what the person typed ("$120.00 of $120.00" -> 120.00)."""
    for word in text.replace(",", "").split():
        try:
            return Decimal(word.strip("$").rstrip("."))
        except InvalidOperation:
            continue
    return None


def _cause(job: Job, shown: Decimal | None, qbo_balance: Decimal | None) -> str:
    """Which explanation fits what the person saw (handlers/blocks/guided.py words it)."""
    if shown is None:
        return "unreadable"
    if job.invoice_balance_before is not None and shown == job.invoice_balance_before:
        return "not_picked_up"       # the resync ran before QuickBooks had the payment, or on another invoice
    if qbo_balance is not None and shown == qbo_balance:
        return "invoice_changed"     # QuickBooks itself moved on (another payment): ConnectBooster is right
    return "other"


def _step_name(state: str) -> str:
    return {JobState.GUIDED_RESYNC: "Step 1 (resync the invoice)", JobState.GUIDED_SYNC: "Step 2 (run the sync)",
            JobState.GUIDED_CHECK: "Step 3 (check)"}.get(state, "This step")


def _stale(job: Job | None, expected: str) -> str:
    if job is None:
        return "That checklist is gone; nothing was changed."
    if job.state in GUIDED:
        return f"That button belongs to an earlier step; the checklist is at {_step_name(job.state).lower()}. " \
               "Nothing was changed."
    return f"Job #{job.id} is {job.state.label}; nothing was changed."
