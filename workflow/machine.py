"""The job state machine: every allowed move, what makes it, and the one table of steps.

    request (Slack) ──────────────→ AWAITING_APPROVAL ─reject→ REJECTED   ─withdraw→ CANCELLED   ─expire→ EXPIRED
                                          │ approve (workflow/policy.py decides who may); above DUAL_APPROVAL_ABOVE
                                          │ the first of two: AWAITING_SECOND_APPROVAL ─another approver→ APPROVED
                                          ▼
    undo request ──────────────→ APPROVED ─figures changed→ STALE
                                          │ check, store requestid
                         ┌────────────────┴───────────────┐
                         ▼ apply                          ▼ undo
                      APPLYING                         UNDOING        (the one QuickBooks write; a repeat
                         │ write (or find our own)        │ reverse    reconciles first: never twice)
                         ▼                                ▼
    resync-only ──→ APPLIED ←────────────────────────────┘
                         │ the ConnectBooster half (a port, workflow/connectbooster.py or workflow/guided.py)
                         ▼
      API mode:      RESYNCING ─resync→ RESYNCED ─start/join sync→ SYNCING ─sync finished→ SYNC_FINISHED ─verify→ VERIFIED
      guided mode:   GUIDED_RESYNC ─"Resynced"→ GUIDED_SYNC ─"Sync finished"→ GUIDED_CHECK ─"All clear"→ VERIFIED
      a sweep item (a proposal's, or its undo): APPLIED ─park→ AWAITING_BATCH_SYNC ─the one sync (API) → SYNCING
                                                                  └─its one checklist confirmed (guided) → VERIFIED
                                                                                       VERIFIED ─undo done→ UNDONE
    any working state ─error→ NEEDS_ATTENTION ─Retry / Sync again→ its resume state;  a sweep item that wrote
    nothing → FAILED;  behind a failed item of its client → SKIPPED
    before every write (workflow/gate.py): APPLYING / UNDOING not straight after its check ─→ APPROVED (checked
    again);  APPROVED with a lapsed approval ─→ AWAITING_APPROVAL (an undo past its window → STALE)
    any working state ─QuickBooks refused the connection→ AWAITING_RECONNECT ─reconnected→ its resume state

`MOVES` below is that drawing as data: every change of a job's state goes through `move()`, which refuses a move
the table does not hold (IllegalMove: a bug, never a person's click). Sweeps have their own `BATCH_MOVES`; a new
credit's proposal is a batch of kind "proposal" (its items are that credit's planned applications).
Working states (data.states.WORKING) are advanced by the runner through `step_for`: the QuickBooks half's steps
are listed here; the ConnectBooster half's come from the port the bot picked (`ConnectBoosterHalf.steps`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from data.events import EventKind
from data.jobs import Job, JobStore
from data.states import BatchState, JobKind, JobState
from workflow import steps_apply, sweep_items, undo

if TYPE_CHECKING:
    from data.batches import Batch, BatchStore
    from workflow.runner import JobRunner

Step = Callable[["JobRunner", Job], None]
S = JobState

# Where a job is created (not a move): a request, a resync-only request, an undo, a sweep item (or its skip).
CREATED_IN = frozenset({S.AWAITING_APPROVAL, S.APPLIED, S.APPROVED, S.SKIPPED})
TROUBLE = "an error in the step: what happened and what is safe, said in the thread"
LAPSED = "QuickBooks refused the stored connection (invalid_grant, disconnected): wait for a reconnect"
RECHECK = "a Retry or a restart reached the write, not its check: checked again first (unless already written)"

# state -> {state it may go to: what moves it there}
MOVES: dict[JobState, dict[JobState, str]] = {
    S.AWAITING_APPROVAL: {S.APPROVED: "Approve, by an approver other than the requester", S.REJECTED: "Reject, by an approver",
                          S.CANCELLED: "the requester withdraws, or Slack refused the approval message",
                          S.EXPIRED: "the approval window passed",
                          S.AWAITING_SECOND_APPROVAL: "Approve above DUAL_APPROVAL_ABOVE: the first of two approvers"},
    S.AWAITING_SECOND_APPROVAL: {S.APPROVED: "Approve, by a second approver (neither the requester nor the first)",
                                 S.REJECTED: "Reject, by an approver", S.CANCELLED: "the requester withdraws",
                                 S.EXPIRED: "the approval window passed"},
    S.APPROVED: {S.APPLYING: "check: figures unchanged, requestid stored", S.UNDOING: "undo check: books unchanged",
                 S.STALE: "check: the figures changed since the request (an undo: or past its window)",
                 S.NEEDS_ATTENTION: TROUBLE, S.FAILED: "a sweep item that wrote nothing",
                 S.AWAITING_APPROVAL: "check: the approval lapsed (APPROVAL_TTL_HOURS); asked again with today's "
                                      "figures", S.AWAITING_RECONNECT: LAPSED},
    S.APPLYING: {S.APPLIED: "write, or our own earlier write found", S.NEEDS_ATTENTION: TROUBLE,
                 S.FAILED: "a sweep item QuickBooks refused", S.APPROVED: RECHECK, S.AWAITING_RECONNECT: LAPSED},
    S.UNDOING: {S.APPLIED: "reverse", S.NEEDS_ATTENTION: TROUBLE, S.APPROVED: RECHECK, S.AWAITING_RECONNECT: LAPSED},
    S.APPLIED: {S.RESYNCING: "find ConnectBooster's copy", S.RESYNCED: "no copy to resync / a sweep item on its own",
                S.AWAITING_BATCH_SYNC: "park: a sweep item waits for the sweep's one sync",
                S.GUIDED_RESYNC: "guided step 1 posted", S.GUIDED_SYNC: "guided step 2 posted (no invoice to resync)",
                S.NEEDS_ATTENTION: TROUBLE, S.AWAITING_RECONNECT: LAPSED},
    S.RESYNCING: {S.RESYNCED: "resync", S.NEEDS_ATTENTION: TROUBLE, S.AWAITING_RECONNECT: LAPSED},
    S.RESYNCED: {S.SYNCING: "start or join a sync", S.NEEDS_ATTENTION: TROUBLE, S.AWAITING_RECONNECT: LAPSED},
    S.AWAITING_BATCH_SYNC: {S.SYNCING: "the sweep's one sync", S.VERIFIED: "the sweep's checklist confirmed",
                            S.NEEDS_ATTENTION: "the sweep's bulk read shows another balance"},
    S.SYNCING: {S.SYNC_FINISHED: "the sync poller", S.NEEDS_ATTENTION: "the sync failed or is stuck"},
    S.SYNC_FINISHED: {S.VERIFIED: "verify", S.NEEDS_ATTENTION: TROUBLE, S.AWAITING_RECONNECT: LAPSED},
    S.GUIDED_RESYNC: {S.GUIDED_SYNC: "\"Resynced\"", S.NEEDS_ATTENTION: "a day without a confirmation"},
    S.GUIDED_SYNC: {S.GUIDED_CHECK: "\"Sync finished\"", S.NEEDS_ATTENTION: "a day without a confirmation"},
    S.GUIDED_CHECK: {S.VERIFIED: "\"All clear\"", S.NEEDS_ATTENTION: "a day without a confirmation"},
    S.NEEDS_ATTENTION: {**{s: "Retry, Sync again or Continue, as the policy allows" for s in (
        S.APPROVED, S.APPLYING, S.UNDOING, S.APPLIED, S.RESYNCING, S.RESYNCED, S.GUIDED_RESYNC,
        S.GUIDED_SYNC, S.GUIDED_CHECK)},
        S.SYNC_FINISHED: "Retry, Sync again or Continue, as the policy allows; or the stuck sync it waited for "
                         "finished after all"},
    S.VERIFIED: {S.UNDONE: "its undo verified"},
    S.AWAITING_RECONNECT: {s: "QuickBooks reconnected: back to its step" for s in (
        S.APPROVED, S.APPLYING, S.APPLIED, S.UNDOING, S.RESYNCING, S.RESYNCED, S.SYNC_FINISHED)},
}

BATCH_MOVES: dict[BatchState, dict[BatchState, str]] = {
    BatchState.PLANNING: {BatchState.AWAITING_APPROVAL: "planned", BatchState.CANCELLED: "nothing to sweep, or the "
                          "planning failed or died with the process"},
    BatchState.AWAITING_APPROVAL: {BatchState.RUNNING: "Approve (a proposal: Apply as proposed)",
                                   BatchState.REJECTED: "Reject (a proposal: Not now)",
                                   BatchState.CANCELLED: "the proposer withdraws, Slack refused its message, or "
                                   "every client was left out; a proposal: its credit changed in QuickBooks or was "
                                   "requested meanwhile",
                                   BatchState.EXPIRED: "the approval window passed",
                                   BatchState.AWAITING_SECOND_APPROVAL: "Approve above DUAL_APPROVAL_ABOVE: the "
                                   "first of two approvers"},
    BatchState.AWAITING_SECOND_APPROVAL: {BatchState.RUNNING: "Approve, by a second approver (not the first)",
                                          BatchState.REJECTED: "Reject (a proposal: Not now)",
                                          BatchState.CANCELLED: "as from awaiting approval",
                                          BatchState.EXPIRED: "the approval window passed"},
    BatchState.RUNNING: {BatchState.SYNCING: "every item left QuickBooks: one sync",
                         BatchState.GUIDED_CHECKLIST: "every item left QuickBooks: one checklist, in guided mode",
                         BatchState.FINISHED: "nothing was applied"},
    BatchState.SYNCING: {BatchState.FINISHED: "every item settled"},
    BatchState.GUIDED_CHECKLIST: {BatchState.FINISHED: "the checklist confirmed, every item settled"},
    BatchState.FINISHED: {BatchState.UNDOING: "Undo sweep, by an approver other than the proposer"},
    BatchState.UNDOING: {BatchState.UNDO_CHECKLIST: "every undo left QuickBooks: one checklist, in guided mode",
                         BatchState.UNDONE: "every undo job settled: after the one sync, or when nothing was reversed"},
    BatchState.UNDO_CHECKLIST: {BatchState.UNDONE: "the checklist confirmed, every undo job settled"},
}


# Where a batch is created: a sweep while it is planned; a proposal awaiting its decision, or running (auto-applied).
BATCH_CREATED_IN = frozenset({BatchState.PLANNING, BatchState.AWAITING_APPROVAL, BatchState.RUNNING})


class IllegalMove(Exception):
    """A move the table does not hold: a bug in the bot, never the answer to a person's click."""


def allowed(from_state: str, to_state: str) -> bool:
    return JobState(to_state) in MOVES.get(JobState(from_state), {})


def move(store: JobStore, job: Job, to: JobState, *, actor: str = "bot", event: EventKind | None = None,
         details: dict | None = None, **values: Any) -> Job | None:
    """Move `job` from the state it was read in to `to`, with its event, in one guarded transaction.

    None when someone else moved it first (the caller lost a race); IllegalMove when the table forbids it."""
    if not allowed(job.state, to):
        raise IllegalMove(f"job {job.id}: {JobState(job.state).label} -> {JobState(to).label} is not a move")
    return store.transition(job.id, from_states=[job.state], to_state=to, actor=actor, event=event,
                            details=details, **values)


def note(store: JobStore, job: Job, event: EventKind, *, actor: str = "bot", details: dict | None = None,
         **values: Any) -> Job | None:
    """Record an event and set fields without changing the state (guarded by it); None if the job moved."""
    return store.update(job.id, expect_state=job.state, actor=actor, event=event, details=details, **values)


def move_batch(batches: BatchStore, batch: Batch, to: BatchState | None = None, **values: Any) -> Batch | None:
    """The same for a sweep; `to` None sets fields in its current state. None when another caller won."""
    to = to or batch.state
    if to != batch.state and to not in BATCH_MOVES.get(batch.state, {}):
        raise IllegalMove(f"sweep {batch.id}: {batch.state.label} -> {BatchState(to).label} is not a move")
    return batches.transition(batch.id, from_states=[batch.state], to_state=to, **values)


class Flavor(StrEnum):
    """Which variant of the steps a job runs (its ConnectBooster half comes from the bot's port)."""

    APPLY = "apply"
    RESYNC_ONLY = "resync_only"
    UNDO = "undo"
    SWEEP_ITEM = "sweep_item"
    SWEEP_UNDO = "sweep_undo"  # the undo of a sweep's item: parks for the undo's one sync, else as an undo


def flavor_of(job: Job) -> Flavor:
    if job.kind == JobKind.UNDO:
        return Flavor.SWEEP_UNDO if job.batch_id else Flavor.UNDO
    if job.kind == JobKind.RESYNC_ONLY:
        return Flavor.RESYNC_ONLY
    return Flavor.SWEEP_ITEM if job.batch_id else Flavor.APPLY


# The QuickBooks half: the same in both modes.
QUICKBOOKS_STEPS: dict[tuple[Flavor, JobState], Step] = {
    (Flavor.APPLY, S.APPROVED): steps_apply.check,
    (Flavor.APPLY, S.APPLYING): steps_apply.write,
    (Flavor.UNDO, S.APPROVED): undo.check,
    (Flavor.UNDO, S.UNDOING): undo.reverse,
    (Flavor.SWEEP_ITEM, S.APPLIED): sweep_items.park,
    (Flavor.SWEEP_UNDO, S.APPLIED): sweep_items.park,
}
# A flavour with no step of its own in a state takes its parent's, else the plain application's.
PARENT = {Flavor.SWEEP_UNDO: Flavor.UNDO}


# Every QuickBooks write, with how to tell it is already in QuickBooks. A write runs only straight after its check
# in the same pass of the runner; reached any other way (a Retry, a restart, any path added later) it goes back to
# that check unless QuickBooks already shows it (workflow/gate.py). The checks re-read and ask the policy first.
WRITES: dict[tuple[Flavor, JobState], Callable[[JobRunner, Job], bool]] = {
    (Flavor.APPLY, S.APPLYING): steps_apply.already_written,
    (Flavor.UNDO, S.UNDOING): undo.already_reversed,
}
CHECKS = frozenset({(Flavor.APPLY, S.APPROVED), (Flavor.UNDO, S.APPROVED)})


def steps(half_steps: Mapping[tuple[Flavor, JobState], Step]) -> dict[tuple[Flavor, JobState], Step]:
    """The whole step table: the QuickBooks half's steps and a ConnectBooster half's."""
    overlap = QUICKBOOKS_STEPS.keys() & half_steps.keys()
    if overlap:
        raise ValueError(f"two steps for {sorted(overlap)}")
    return {**QUICKBOOKS_STEPS, **half_steps}


def stage(table: Mapping[tuple[Flavor, JobState], Step], job: Job) -> tuple[Flavor, JobState]:
    """The row of the step table this job runs now: its flavour's own, else its parent flavour's, else the plain
    application's."""
    state, flavor = JobState(job.state), flavor_of(job)
    return next(((f, state) for f in (flavor, PARENT.get(flavor, flavor)) if (f, state) in table), (Flavor.APPLY, state))


def step_for(table: Mapping[tuple[Flavor, JobState], Step], job: Job) -> Step:
    """The step to run for this job now: its flavour's own, else the plain application's."""
    found = table.get(stage(table, job))
    if found is None:
        raise LookupError(f"no step for a {flavor_of(job)} job in {JobState(job.state)}")
    return found
