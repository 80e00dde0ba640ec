"""The states a job or a sweep (batch) can be in, as stored in the database.

The transitions between them and the step that runs in each working state are in `workflow/machine.py`
(its docstring draws the diagram). Values are the strings stored in the `state` columns: a StrEnum member
compares equal to its string, so rows read back as plain text still match.
"""
from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """How the ConnectBooster half of a job is done, chosen once per bot (CONNECTBOOSTER_MODE) and stored on each job."""

    API = "api"          # through the ConnectBooster gateway's REST contract: resync, sync and verify by the bot
    GUIDED = "guided"    # no API: a person follows the checklist in the thread, confirming each step


class JobKind(StrEnum):
    """What a job does."""

    APPLY = "apply"                   # a credit applied to an invoice (single request or a sweep's item)
    RESYNC_ONLY = "resync_only"       # already applied in QuickBooks: only resync, sync, verify
    UNDO = "undo"                     # reverse a verified application


class JobState(StrEnum):
    """Where a job is; see workflow/machine.py for who moves it where."""

    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"  # above DUAL_APPROVAL_ABOVE: one of two approvers so far
    APPROVED = "approved"
    APPLYING = "applying_in_quickbooks"
    APPLIED = "applied_in_quickbooks"
    UNDOING = "undoing_in_quickbooks"
    RESYNCING = "resyncing_invoice"
    RESYNCED = "invoice_resynced"
    AWAITING_BATCH_SYNC = "awaiting_batch_sync"
    SYNCING = "syncing"
    SYNC_FINISHED = "sync_finished"
    NEEDS_ATTENTION = "needs_attention"
    # guided mode: a person does ConnectBooster's half, confirming each step with a button
    GUIDED_RESYNC = "guided_resync"   # waiting for "Resynced" (Entities > Invoices > Resync)
    GUIDED_SYNC = "guided_sync"       # waiting for "Sync finished" (Integrations > QuickBooks Online > Sync Now)
    GUIDED_CHECK = "guided_check"     # waiting for "All clear" (credit gone, invoice at the new balance)
    # QuickBooks refused the stored connection (invalid_grant, a disconnect): waits, then resumes by itself
    AWAITING_RECONNECT = "awaiting_quickbooks_reconnect"
    # final
    VERIFIED = "verified"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    STALE = "stale"
    FAILED = "failed"
    UNDONE = "undone"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        """The state as people read it ("needs attention")."""
        return self.value.replace("_", " ")


TERMINAL = frozenset({JobState.VERIFIED, JobState.REJECTED, JobState.CANCELLED, JobState.EXPIRED, JobState.STALE,
                      JobState.FAILED, JobState.UNDONE, JobState.SKIPPED})
# States the runner advances by itself (each has a step in workflow/machine.py).
WORKING = frozenset({JobState.APPROVED, JobState.APPLYING, JobState.APPLIED, JobState.UNDOING, JobState.RESYNCING,
                     JobState.RESYNCED, JobState.SYNC_FINISHED})
# Guided mode: states that wait for a person's confirmation in the thread.
GUIDED = frozenset({JobState.GUIDED_RESYNC, JobState.GUIDED_SYNC, JobState.GUIDED_CHECK})
# A sweep item still in its QuickBooks steps (the next item of the same client waits for it).
IN_QUICKBOOKS = frozenset({JobState.APPROVED, JobState.APPLYING, JobState.APPLIED, JobState.AWAITING_RECONNECT})
# A sweep item that will not move again by itself.
SETTLED = TERMINAL | {JobState.NEEDS_ATTENTION}
# Past the QuickBooks write: what a sweep counts as done in QuickBooks.
PAST_QUICKBOOKS = frozenset({JobState.AWAITING_BATCH_SYNC, JobState.SYNCING, JobState.SYNC_FINISHED,
                             JobState.VERIFIED, JobState.RESYNCED, JobState.RESYNCING}) | GUIDED


class BatchState(StrEnum):
    """Where a sweep is."""

    PLANNING = "planning"             # the one-sweep slot is claimed; reading both systems in the background
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"  # above DUAL_APPROVAL_ABOVE: one of two approvers so far
    RUNNING = "running"
    SYNCING = "syncing"
    GUIDED_CHECKLIST = "guided_checklist"  # guided mode: one ConnectBooster checklist for the batch, confirmed once
    FINISHED = "finished"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    # a finished sweep undone by an approver other than its proposer (workflow/sweep_controls.py)
    UNDOING = "undoing"               # each item's undo job: QuickBooks, then (API mode) one sync
    UNDO_CHECKLIST = "undo_checklist"  # guided mode: one ConnectBooster checklist for the whole undo
    UNDONE = "undone"                 # every undo job settled; the summary says which items were undone

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


BATCH_TERMINAL = frozenset({BatchState.FINISHED, BatchState.REJECTED, BatchState.EXPIRED, BatchState.CANCELLED,
                            BatchState.UNDONE})
# Waiting for a decision (a request, a sweep, a proposal): the first approval, or the second of two.
DECIDING = frozenset({JobState.AWAITING_APPROVAL, JobState.AWAITING_SECOND_APPROVAL})
BATCH_DECIDING = frozenset({BatchState.AWAITING_APPROVAL, BatchState.AWAITING_SECOND_APPROVAL})
BATCH_UNDOING = frozenset({BatchState.UNDOING, BatchState.UNDO_CHECKLIST})
BATCH_OPEN = frozenset({BatchState.PLANNING, *BATCH_DECIDING, BatchState.RUNNING, BatchState.SYNCING,
                        BatchState.GUIDED_CHECKLIST})
