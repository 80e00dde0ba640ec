"""Every kind of audit event, named once: the `events` table stores their values.

Crash safety reads these (a write may have been sent when `QUICKBOOKS_WRITE_SENT` follows the attempt's
`QUICKBOOKS_WRITE_STARTED`), the thread replies are chosen by them, and `bot.py history` words them: nothing else
in the code spells an event's name. A move into a state records the event named after that state (`of_state`)
unless the move names its own. A StrEnum member compares equal to its stored string, so rows read back match.
"""
from __future__ import annotations

from enum import StrEnum

from data.states import JobState


class EventKind(StrEnum):
    """What happened to a job or a sweep (the `kind` column of `events`)."""

    # a request is made
    REQUESTED = "requested"
    RESYNC_ONLY_REQUESTED = "resync_only_requested"
    UNDO_REQUESTED = "undo_requested"
    SWEEP_ITEM = "sweep_item"
    REAPPROVAL_REQUESTED = "reapproval_requested"
    # Slack
    PARENT_POSTED = "parent_posted"
    APPROVAL_MESSAGE_RESENT = "approval_message_resent"  # sent again after a crash: an earlier copy may show
    APPROVAL_MESSAGE_REFUSED = "approval_message_refused"
    JOB_MESSAGE_REFUSED = "job_message_refused"
    # a move into a state, named after it (of_state)
    AWAITING_APPROVAL = JobState.AWAITING_APPROVAL.value
    APPROVED = JobState.APPROVED.value
    APPLYING = JobState.APPLYING.value
    APPLIED = JobState.APPLIED.value
    UNDOING = JobState.UNDOING.value
    RESYNCING = JobState.RESYNCING.value
    RESYNCED = JobState.RESYNCED.value
    AWAITING_BATCH_SYNC = JobState.AWAITING_BATCH_SYNC.value
    SYNCING = JobState.SYNCING.value
    SYNC_FINISHED = JobState.SYNC_FINISHED.value
    NEEDS_ATTENTION = JobState.NEEDS_ATTENTION.value
    GUIDED_RESYNC = JobState.GUIDED_RESYNC.value
    GUIDED_SYNC = JobState.GUIDED_SYNC.value
    GUIDED_CHECK = JobState.GUIDED_CHECK.value
    VERIFIED = JobState.VERIFIED.value
    REJECTED = JobState.REJECTED.value
    CANCELLED = JobState.CANCELLED.value
    EXPIRED = JobState.EXPIRED.value
    STALE = JobState.STALE.value
    FAILED = JobState.FAILED.value
    UNDONE = JobState.UNDONE.value
    SKIPPED = JobState.SKIPPED.value
    # the QuickBooks write (crash safety: steps_apply.write_was_sent)
    QUICKBOOKS_WRITE_STARTED = "quickbooks_write_started"
    QUICKBOOKS_WRITE_SENT = "quickbooks_write_sent"
    QUICKBOOKS_WRITE_FOUND = "quickbooks_write_found"
    QUICKBOOKS_BALANCE_CONFIRMED = "quickbooks_balance_confirmed"
    UNDO_WRITE_STARTED = "undo_write_started"
    UNDONE_IN_QUICKBOOKS = "undone_in_quickbooks"
    UNDO_REFUSED = "undo_refused"
    # ConnectBooster
    RESYNC_STARTED = "resync_started"
    RESYNC_SKIPPED = "resync_skipped"
    SYNC_KEY_STORED = "sync_key_stored"
    SYNC_REQUESTED = "sync_requested"
    SYNC_PROGRESS = "sync_progress"
    WAITING_FOR_SWEEP_SYNC = "waiting_for_sweep_sync"
    # people
    RETRY = "retry"
    UPDATED = "updated"
    REFUSED_APPROVAL = "refused_approval"
    REFUSED_REJECT = "refused_reject"
    REFUSED_RETRY = "refused_retry"
    REFUSED_SYNC_AGAIN = "refused_sync_again"
    REFUSED_UNDO = "refused_undo"
    REFUSED_GUIDED_CONFIRM = "refused_guided_confirm"
    # guided mode: a person's answers in the thread
    GUIDED_RESYNCED = "guided_resynced"
    GUIDED_SYNC_STARTED = "guided_sync_started"
    GUIDED_SYNC_FINISHED = "guided_sync_finished"
    GUIDED_SYNC_FAILED = "guided_sync_failed"
    GUIDED_CREDIT_STILL_SHOWS = "guided_credit_still_shows"
    GUIDED_MISMATCH = "guided_mismatch"
    GUIDED_REMINDER = "guided_reminder"
    # sweeps (recorded with job_id NULL and details.batch)
    SWEEP_REQUESTED = "sweep_requested"
    SWEEP_APPROVED = "sweep_approved"
    SWEEP_REJECTED = "sweep_rejected"
    SWEEP_CANCELLED = "sweep_cancelled"
    SWEEP_REFUSED_APPROVE = "sweep_refused_sweep_approve"
    SWEEP_REFUSED_REJECT = "sweep_refused_sweep_reject"
    SWEEP_REFUSED_GUIDED_CONFIRM = "sweep_refused_guided_confirm"
    SWEEP_GUIDED_CHECKLIST = "sweep_guided_checklist"
    SWEEP_GUIDED_CONFIRMED = "sweep_guided_confirmed"
    SWEEP_GUIDED_PROBLEM = "sweep_guided_problem"
    SWEEP_GUIDED_REMINDER = "sweep_guided_reminder"
    # history, export, sweep controls
    SYNC_STUCK = "sync_stuck"                    # the sync ran past SYNC_TIMEOUT_SECONDS: watched on, said so
    SYNC_UNSTUCK = "sync_unstuck"                # the stuck sync ended (ConnectBooster or support ended it)
    EXPORTED = "exported"                        # a month's CSV sent to an approver (job_id NULL, details.month)
    SWEEP_CLIENTS_LEFT_OUT = "sweep_clients_left_out"  # before approval: clients taken out of the plan
    SWEEP_UNDO_REQUESTED = "sweep_undo_requested"      # a whole sweep undone, item by item
    SWEEP_UNDONE = "sweep_undone"                      # every item of that undo settled: the summary
    # new credits: approval by amount, proposals (batches of kind "proposal": details.batch)
    AWAITING_SECOND_APPROVAL = JobState.AWAITING_SECOND_APPROVAL.value
    SWEEP_FIRST_APPROVAL = "sweep_first_approval"    # a sweep's or a proposal's first of two approvals
    PROPOSED = "proposed"                            # a new credit's proposal, planned and posted
    AUTO_APPLIED = "auto_applied"                    # at or under AUTO_APPLY_MAX: applied without a click
    PROPOSAL_ACCEPTED = "proposal_accepted"          # Apply as proposed (the last approval it needed)
    PROPOSAL_NOT_NOW = "proposal_not_now"
    PROPOSAL_WITHDRAWN = "proposal_withdrawn"        # its credit changed in QuickBooks, or was requested
    PROPOSAL_REFUSED_ACCEPT = "proposal_refused_accept"
    PROPOSAL_REFUSED_NOT_NOW = "proposal_refused_not_now"
    # the QuickBooks connection (the company-wide ones are recorded with job_id NULL)
    AWAITING_RECONNECT = JobState.AWAITING_RECONNECT.value  # a job waits for QuickBooks to be reconnected
    RESUMED_AFTER_RECONNECT = "resumed_after_reconnect"    # ...and goes back to its step
    QUICKBOOKS_LAPSED = "quickbooks_connection_lapsed"     # Intuit refused the stored connection
    QUICKBOOKS_EXPIRY_WARNING = "quickbooks_expiry_warning"
    QUICKBOOKS_CONNECT_LINK = "quickbooks_connect_link"    # an admin asked for a one-time authorization link
    QUICKBOOKS_CONNECTED = "quickbooks_connected"          # new tokens stored through /applycredit connect
    QUICKBOOKS_CONNECT_REFUSED = "quickbooks_connect_refused"
    # hardening: a write reached other than straight from its check goes back to it (workflow/gate.py)
    RECHECK = "recheck_before_write"

    @classmethod
    def of_state(cls, state: JobState) -> EventKind:
        """The event recorded by a move into `state` that names no event of its own."""
        return cls(state.value)
