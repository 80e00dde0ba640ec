"""The job state machine: every state, who moves a job out of it, and the one table of steps.

    request (Slack) ──────────────→ AWAITING_APPROVAL ─reject→ REJECTED   ─withdraw→ CANCELLED   ─expire→ EXPIRED
                                          │ approve (workflow/policy.py decides who may)
                                          ▼
    undo request ──────────────→ APPROVED ─figures changed→ STALE
                                          │ check, store requestid
                         ┌────────────────┴───────────────┐
                         ▼ apply                          ▼ undo
                      APPLYING                         UNDOING        (the one QuickBooks write; a repeat
                         │ write (or find our own)        │ reverse    reconciles first: never twice)
                         ▼                                ▼
    resync-only ──→ APPLIED ←────────────────────────────┘
                         │ find ConnectBooster's copy             sweep item: APPLIED ─park→ AWAITING_BATCH_SYNC
                         ▼                                                       (the sweep starts ONE sync)─┐
                     RESYNCING ─resync→ RESYNCED ─start/join sync→ SYNCING ←────────────────────────────────┘
                                                                     │ sync finished (poller)
                                                                     ▼
                                                               SYNC_FINISHED ─verify→ VERIFIED ─undo done→ UNDONE
    guided mode (issue 14, workflow/guided.py; a job with no ConnectBooster organization): a person does the
    ConnectBooster half, each step confirmed with a button in the thread:
        APPLIED ─step 1→ GUIDED_RESYNC ─"Resynced"→ GUIDED_SYNC ─"Sync finished"→ GUIDED_CHECK ─"All clear"→ VERIFIED
                          (a step unconfirmed for a day → NEEDS_ATTENTION, which resumes that step)
        a guided sweep's item: AWAITING_BATCH_SYNC ─the sweep's one checklist confirmed ("All done")→ VERIFIED
    any working state ─error→ NEEDS_ATTENTION ─Retry / Sync again→ its resume state (or FAILED for a sweep item
    that wrote nothing);  a sweep item behind a failed one of its client → SKIPPED

Working states (data.states.WORKING) are advanced by the runner, each through the step registered here for
the job's flavour: an undo or a sweep item registers its own step where it differs and falls back to the
plain application's step everywhere else. AWAITING_APPROVAL and NEEDS_ATTENTION wait for a person; SYNCING
waits for the sync poller; AWAITING_BATCH_SYNC waits for the sweep.
"""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from data.jobs import Job
from data.states import JobKind, JobState

if TYPE_CHECKING:
    from workflow.runner import JobRunner

Step = Callable[["JobRunner", Job], None]


class Flavor(StrEnum):
    """Which variant of the steps a job runs."""

    APPLY = "apply"
    RESYNC_ONLY = "resync_only"
    UNDO = "undo"
    SWEEP_ITEM = "sweep_item"
    GUIDED = "guided"  # issue 14: ConnectBooster's half done by a person (workflow/guided.py)


def is_guided(job: Job) -> bool:
    """A guided-mode job (issue 14): made without ConnectBooster, so it has no ConnectBooster organization."""
    return job.cb_org_id is None


def flavor_of(job: Job) -> Flavor:
    if job.kind != JobKind.UNDO and not job.batch_id and is_guided(job):  # guided mode (issue 14)
        return Flavor.GUIDED
    if job.kind == JobKind.UNDO:
        return Flavor.UNDO
    if job.kind == JobKind.RESYNC_ONLY:
        return Flavor.RESYNC_ONLY
    return Flavor.SWEEP_ITEM if job.batch_id else Flavor.APPLY


_STEPS: dict[tuple[Flavor, JobState], Step] = {}


def step(state: JobState, *flavors: Flavor) -> Callable[[Step], Step]:
    """Register the decorated function as the step for `state` (for the given flavours; default: APPLY)."""
    def register(fn: Step) -> Step:
        for flavor in flavors or (Flavor.APPLY,):
            key = (flavor, state)
            if key in _STEPS:
                raise ValueError(f"two steps for {flavor} in {state}")
            _STEPS[key] = fn
        return fn
    return register


def step_for(job: Job) -> Step:
    """The step to run for this job now: its flavour's own, else the plain application's."""
    _load()
    state = JobState(job.state)
    found = _STEPS.get((flavor_of(job), state)) or _STEPS.get((Flavor.APPLY, state))
    if found is None:
        raise LookupError(f"no step for a {flavor_of(job)} job in {state}")
    return found


def table() -> dict[tuple[Flavor, JobState], Step]:
    """Every registered step (for the architecture page and the tests)."""
    _load()
    return dict(_STEPS)


def _load() -> None:
    """Import the modules that register steps (they import this one)."""
    from workflow import guided, steps_apply, sweep_items, undo  # noqa: F401  (guided: issue 14)
