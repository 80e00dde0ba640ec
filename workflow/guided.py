"""Guided mode's ConnectBooster half: after the QuickBooks write a person follows the help article's steps in the
portal and confirms each one with a button in the job's thread.

    APPLIED ─(step: guide)→ GUIDED_RESYNC ─Resynced→ GUIDED_SYNC ─Sync finished→ GUIDED_CHECK ─All clear→ VERIFIED
    a sweep: its items park, then ONE checklist for the whole batch (workflow/sweep_guided.py)

The port (the `guide` step, the sweep's checklist) is workflow/guided_half.py; this module holds the answers a
person gives in the thread, and the reminders.

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

from data.events import EventKind
from data.jobs import Event, Job, JobStore
from data.states import GUIDED, JobKind, JobState
from workflow.machine import move, note
from workflow.policy import REFUSAL_EVENTS, Action, NotAllowed, Policy

log = logging.getLogger(__name__)

ESCALATE_AFTER = timedelta(days=1)  # a step unconfirmed this long is listed under "needs attention"


@dataclass(frozen=True)
class Answer:
    """What a guided button does: the step (state) it belongs to, where it moves the job (None: stays), its event."""

    state: JobState
    to_state: JobState | None
    event: EventKind


# The buttons' action ids (handlers/guided.py) and what each answers.
ANSWERS: dict[str, Answer] = {
    "guided_resynced": Answer(JobState.GUIDED_RESYNC, JobState.GUIDED_SYNC, EventKind.GUIDED_RESYNCED),
    "guided_sync_started": Answer(JobState.GUIDED_SYNC, None, EventKind.GUIDED_SYNC_STARTED),
    "guided_sync_finished": Answer(JobState.GUIDED_SYNC, JobState.GUIDED_CHECK, EventKind.GUIDED_SYNC_FINISHED),
    "guided_sync_failed": Answer(JobState.GUIDED_SYNC, None, EventKind.GUIDED_SYNC_FAILED),
    "guided_all_clear": Answer(JobState.GUIDED_CHECK, JobState.VERIFIED, EventKind.VERIFIED),
    "guided_still_shows": Answer(JobState.GUIDED_CHECK, None, EventKind.GUIDED_CREDIT_STILL_SHOWS),
}
# Events that start (or restart) a step: its reminder clock runs from the last of them.
STEP_STARTS = (EventKind.GUIDED_RESYNC, EventKind.GUIDED_RESYNCED, EventKind.GUIDED_SYNC_FINISHED, EventKind.RETRY,
               EventKind.GUIDED_SYNC_FAILED, EventKind.GUIDED_MISMATCH, EventKind.GUIDED_CREDIT_STILL_SHOWS)


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


class GuidedService:
    """The person's answers to the guided steps, the reminders, and the day-old escalation."""

    def __init__(self, *, store: JobStore, runner, policy: Policy, remind_after: timedelta = timedelta(minutes=30),
                 now: Callable[[], datetime] | None = None, sweep=None) -> None:
        """`sweep`: the answers to a sweep's one checklist (workflow/sweep_guided.GuidedSweep), reminded alike."""
        self.store = store
        self.runner = runner
        self.policy = policy
        self.remind_after = remind_after
        self.now = now or (lambda: datetime.now(UTC))
        self.sweep = sweep

    def _permit(self, job_id: int | None, user: str, channel: str | None, thread_ts: str | None) -> Job:
        job = self.store.get(job_id) if job_id is not None else None
        try:
            self.policy.check(Action.GUIDED_CONFIRM, user, job, channel=channel, message_ts=thread_ts)
        except NotAllowed as refused:
            if job is not None and refused.record:
                self.store.record(job.id, actor=user, kind=REFUSAL_EVENTS[Action.GUIDED_CONFIRM, "job"],
                                  details={"reason": refused.message})
            raise
        return job

    def check(self, *, job_id: int | None, user: str, channel: str | None, thread_ts: str | None) -> Job:
        """May this user answer step 1 now? (before asking "what does it show?"; raises NotAllowed)."""
        job = self._permit(job_id, user, channel, thread_ts)
        if job.state != JobState.GUIDED_RESYNC:
            raise NotAllowed(_stale(job, JobState.GUIDED_RESYNC), record=False)
        return job

    def answer(self, *, job_id: int | None, action: str, user: str, channel: str | None,
               thread_ts: str | None) -> Job:
        """Record a click on a step's button (raises NotAllowed when the step is not the job's current one)."""
        what = ANSWERS.get(action)
        if what is None:
            raise NotAllowed("That button is not valid; nothing was changed.", record=False)
        job = self._permit(job_id, user, channel, thread_ts)
        if job.state != what.state:
            raise NotAllowed(_stale(job, what.state), record=False)
        details = {"step": what.state, "answer": action}
        if what.to_state == JobState.VERIFIED:
            details.update(confirmed_by=user, guided=True)
            if job.kind == JobKind.UNDO and job.undo_of:
                self.runner.mark_undone(job)  # the original first: after a crash the undo is confirmed again
        if what.to_state is None:
            moved = note(self.store, job, what.event, actor=user, details=details)
        else:
            moved = move(self.store, job, what.to_state, actor=user, event=what.event, details=details)
        if moved is None:
            raise NotAllowed(_stale(self.store.get(job.id), what.state), record=False)
        self.runner.publish(moved)
        return moved

    def mismatch(self, *, job_id: int | None, user: str, shown: str, channel: str | None,
                 thread_ts: str | None) -> Job:
        """"Shows something else": record what ConnectBooster shows and explain the usual cause."""
        job = self.check(job_id=job_id, user=user, channel=channel, thread_ts=thread_ts)
        shown_amount = _money(shown)
        qbo_balance = self.runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id).balance if job.invoice_qbo_id \
            else None
        details = {"step": JobState.GUIDED_RESYNC, "shown": shown.strip()[:200],
                   "shown_amount": str(shown_amount) if shown_amount is not None else None,
                   "expected": str(job.invoice_balance_after) if job.invoice_balance_after is not None else None,
                   "qbo_balance": str(qbo_balance) if qbo_balance is not None else None,
                   "cause": _cause(job, shown_amount, qbo_balance)}
        moved = note(self.store, job, EventKind.GUIDED_MISMATCH, actor=user, details=details)
        if moved is None:
            raise NotAllowed(_stale(self.store.get(job.id), JobState.GUIDED_RESYNC), record=False)
        self.runner.publish(moved)
        return moved

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
                moved = note(self.store, job, EventKind.GUIDED_REMINDER,
                             details={"step": job.state, "who": job.requester_id,
                                      "waited_minutes": int(waited.total_seconds() // 60)})
                self.runner.publish(moved)
                done += 1 if moved else 0
        return done + (self.sweep.remind_due() if self.sweep is not None else 0)


def _step_start(events: list[Event]) -> datetime | None:
    starts = [e.at for e in events if e.kind in STEP_STARTS]
    return _parse(starts[-1]) if starts else None


def _reminded(events: list[Event], state: str, since: datetime) -> bool:
    return any(e.kind == EventKind.GUIDED_REMINDER and e.details.get("step") == state and _parse(e.at) >= since
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
