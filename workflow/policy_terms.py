"""The policy's vocabulary: the actions people take, what a refusal and a permit are, and the audit event of each
refusal. workflow/policy.py decides; everything here is re-exported there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from data.events import EventKind
from data.states import JobState
from workflow.declined import Declined

# Resume states that (re)run a QuickBooks write: a Retry there is a change to the books.
WRITES = frozenset({JobState.APPROVED, JobState.APPLYING, JobState.UNDOING})


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETRY = "retry"
    SYNC_AGAIN = "sync_again"
    UNDO = "undo"
    PROPOSE_SWEEP = "propose_sweep"
    SWEEP_APPROVE = "sweep_approve"
    SWEEP_REJECT = "sweep_reject"
    GUIDED_CONFIRM = "guided_confirm"  # a person confirms a guided ConnectBooster step
    # history, export, sweep controls
    SWEEP_LEAVE_OUT = "sweep_leave_out"  # take clients out of a plan before it is approved
    SWEEP_UNDO = "sweep_undo"            # reverse every application of a finished sweep
    HISTORY = "history"
    EXPORT = "export"
    ACCEPT = "accept"                  # Apply as proposed: a new credit's proposal
    NOT_NOW = "not_now"                # a proposal closed without applying
    CONNECT = "connect"                # an admin connects QuickBooks from Slack


APPROVALS = frozenset({Action.APPROVE, Action.SWEEP_APPROVE, Action.ACCEPT})


# The audit event of a refused click, by action and by what was clicked on (a job, or a sweep).
REFUSAL_EVENTS: dict[tuple[Action, str], EventKind] = {
    (Action.APPROVE, "job"): EventKind.REFUSED_APPROVAL, (Action.REJECT, "job"): EventKind.REFUSED_REJECT,
    (Action.RETRY, "job"): EventKind.REFUSED_RETRY, (Action.SYNC_AGAIN, "job"): EventKind.REFUSED_SYNC_AGAIN,
    (Action.UNDO, "job"): EventKind.REFUSED_UNDO, (Action.GUIDED_CONFIRM, "job"): EventKind.REFUSED_GUIDED_CONFIRM,
    (Action.SWEEP_APPROVE, "sweep"): EventKind.SWEEP_REFUSED_APPROVE,
    (Action.SWEEP_REJECT, "sweep"): EventKind.SWEEP_REFUSED_REJECT,
    (Action.GUIDED_CONFIRM, "sweep"): EventKind.SWEEP_REFUSED_GUIDED_CONFIRM,
    (Action.SWEEP_LEAVE_OUT, "sweep"): EventKind.SWEEP_REFUSED_APPROVE,
    (Action.SWEEP_UNDO, "sweep"): EventKind.REFUSED_UNDO,
    (Action.ACCEPT, "sweep"): EventKind.PROPOSAL_REFUSED_ACCEPT, (Action.NOT_NOW, "sweep"): EventKind.PROPOSAL_REFUSED_NOT_NOW,
}


class NotAllowed(Declined):
    """A click this person may not make now; `message` is shown to the clicker only, and nothing changed."""

    def __init__(self, message: str, *, expired: bool = False, record: bool = True) -> None:
        super().__init__(message)
        self.expired = expired    # the request's window has passed: the caller expires it
        self.record = record      # worth an audit event (a wrong-message click is, a stale one too)


@dataclass(frozen=True)
class Permit:
    """An allowed decision; `withdraw` when the requester takes their own request back; `first_of_two` when this
    approval is the first of the two DUAL_APPROVAL_ABOVE asks for (nothing is written yet)."""

    withdraw: bool = False
    first_of_two: bool = False


NOTHING = "nothing was changed"
# Buttons that sit in a job's thread (or on its sweep's message) and name the job in their value.
BOUND = frozenset({Action.RETRY, Action.SYNC_AGAIN, Action.UNDO})


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}"
