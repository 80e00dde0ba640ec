"""Guided mode's sweep: the QuickBooks items run as in API mode, then ONE ConnectBooster checklist for
the whole batch (every invoice to resync, one Sync Now, one check), confirmed once.

    running ─every item left QuickBooks→ guided_checklist ─"All done" (recorded: confirmed_by)→ finished
                                             │ "Something's off": the help article's advice, the checklist stays
                                             ├ unconfirmed for GUIDED_REMIND_MINUTES: one reminder to the proposer
                                             └ unconfirmed for a day: under "needs attention" (digest, App Home)

The confirmation is stored on the batch first; the items then move from awaiting_batch_sync to verified and the
batch to finished, each a guarded transition inside `SweepService.advance`, which a restart runs again: a crash
between two steps finishes the same way, and nothing here writes to QuickBooks, so nothing can be written twice.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from data.batches import Batch
from data.events import EventKind
from data.jobs import Job, stamp
from data.states import SETTLED, BatchState, JobState
from workflow.digest import parse_time
from workflow.guided import ESCALATE_AFTER, sync_from
from workflow.machine import move, move_batch
from workflow.policy import REFUSAL_EVENTS, Action, NotAllowed, Policy


def open_checklist(sweeps, batch: Batch, parked: list[Job], to: BatchState = BatchState.GUIDED_CHECKLIST) -> Batch:
    """Every item (or every undo, `to` UNDO_CHECKLIST) left QuickBooks: post the one checklist (the sync date
    covers every item's credit)."""
    today = sweeps.runner.today()
    credit_dates = {i["seq"]: i.get("credit_date") for i in batch.plan}
    start = min(sync_from(j, credit_dates.get(j.batch_seq), today) for j in parked)
    moved = move_batch(sweeps.batches, batch, to, sync_from=start.isoformat(),
                       checklist_at=stamp(sweeps.now()))
    if moved is not None:
        sweeps.store.record(None, actor="bot", kind=EventKind.SWEEP_GUIDED_CHECKLIST,
                            details={"batch": batch.id, "invoices": len(parked), "sync_from": start.isoformat()})
    return moved or sweeps.batches.get(batch.id)


def settle(sweeps, batch: Batch) -> Batch:
    """Once confirmed: every parked item verified (confirmed by that person), then the batch finished."""
    if batch.state != BatchState.GUIDED_CHECKLIST:
        return batch
    if batch.confirmed_by:
        for job in sweeps.store.in_batch(batch.id):
            if job.state == JobState.AWAITING_BATCH_SYNC:
                move(sweeps.store, job, JobState.VERIFIED, actor=batch.confirmed_by,
                     details={"batch": batch.id, "guided": True, "confirmed_by": batch.confirmed_by})
    if all(j.state in SETTLED for j in sweeps.store.in_batch(batch.id)):
        return move_batch(sweeps.batches, batch, BatchState.FINISHED) or sweeps.batches.get(batch.id)
    return batch


def overdue(batches, now: datetime) -> list[Batch]:
    """Checklists unconfirmed for a day: listed under "needs attention" in the digest and App Home."""
    due = stamp(now - ESCALATE_AFTER)
    return [b for b in batches.in_states([BatchState.GUIDED_CHECKLIST, BatchState.UNDO_CHECKLIST])
            if not b.checklist_confirmed_by and b.checklist_at and b.checklist_at <= due]


class GuidedSweep:
    """The person's answers to a sweep's checklist, and its reminder."""

    def __init__(self, *, sweeps, policy: Policy, remind_after: timedelta,
                 now: Callable[[], datetime] | None = None) -> None:
        self.sweeps, self.policy, self.remind_after = sweeps, policy, remind_after
        self.now = now or (lambda: datetime.now(UTC))

    def _permit(self, batch_id: int | None, user: str, channel: str | None, thread_ts: str | None,
                undo: bool = False) -> Batch:
        """`undo`: the button sits on the undo's checklist (both checklists share the sweep's thread)."""
        batch = self.sweeps.batches.get(batch_id) if batch_id is not None else None
        if batch is not None and not undo and batch.undo_by:  # the sweep's own checklist, now closed
            raise NotAllowed(f"Sweep #{batch.id}'s checklist was already confirmed by <@{batch.confirmed_by}>; the "
                             "undo's checklist is the newer one in this thread. Nothing was changed.", record=False)
        try:
            self.policy.check(Action.GUIDED_CONFIRM, user, batch, channel=channel, message_ts=thread_ts)
        except NotAllowed as refused:
            if batch is not None and refused.record:
                self.sweeps.store.record(None, actor=user, kind=REFUSAL_EVENTS[Action.GUIDED_CONFIRM, "sweep"],
                                         details={"batch": batch.id, "reason": refused.message})
            raise
        return batch

    def confirm(self, *, batch_id: int | None, user: str, channel: str | None, thread_ts: str | None,
                undo: bool = False) -> Batch:
        """"All done": ConnectBooster is up to date for the whole batch, or its undo (raises NotAllowed)."""
        batch = self._permit(batch_id, user, channel, thread_ts, undo)
        with self.sweeps.lock:  # two clicks at once: one confirms, the other is told who did
            self._permit(batch.id, user, channel, thread_ts, undo)  # again: another click may have confirmed meanwhile
            now = self.sweeps.batches.get(batch.id)
            confirmed = "undo_confirmed_by" if now.state == BatchState.UNDO_CHECKLIST else "confirmed_by"
            move_batch(self.sweeps.batches, now, **{confirmed: user})
            self.sweeps.store.record(None, actor=user, kind=EventKind.SWEEP_GUIDED_CONFIRMED,
                                     details={"batch": batch.id})
        self.sweeps.advance(batch.id)
        return self.sweeps.batches.get(batch.id)

    def problem(self, *, batch_id: int | None, user: str, channel: str | None, thread_ts: str | None,
                undo: bool = False) -> int:
        """"Something's off": recorded, and answered in the thread with the help article's advice."""
        batch = self._permit(batch_id, user, channel, thread_ts, undo)
        event = self.sweeps.store.record(None, actor=user, kind=EventKind.SWEEP_GUIDED_PROBLEM,
                                         details={"batch": batch.id, "sync_from": batch.sync_from})
        self._reply(batch, event, "problem", user)
        return event

    def remind_due(self) -> int:
        """One reminder for each checklist left unconfirmed for remind_after; returns how many were sent."""
        sent = 0
        for batch in self.sweeps.batches.in_states([BatchState.GUIDED_CHECKLIST, BatchState.UNDO_CHECKLIST]):
            if batch.reminded_at or batch.checklist_confirmed_by or not batch.checklist_at:
                continue
            waited = self.now() - parse_time(batch.checklist_at)
            if waited < self.remind_after:
                continue
            moved = move_batch(self.sweeps.batches, batch, reminded_at=stamp(self.now()))
            if moved is None:
                continue  # confirmed (and finished) meanwhile: nothing to remind of
            who = batch.undo_by or batch.owner  # whoever the checklist asked: the proposer (a proposal: its approver), or the undoer
            event = self.sweeps.store.record(None, actor="bot", kind=EventKind.SWEEP_GUIDED_REMINDER,
                                             details={"batch": batch.id, "who": who,
                                                      "waited_minutes": int(waited.total_seconds() // 60)})
            self._reply(moved, event, "reminder", who,
                        waited_minutes=int(waited.total_seconds() // 60))
            sent += 1
        return sent

    def _reply(self, batch: Batch, event: int, kind: str, who: str, **details) -> None:
        self.sweeps.runner.notifier.batch_reply(batch, event, kind, who, **details)

