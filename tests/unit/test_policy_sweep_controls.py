"""The policy on a sweep's two controls, table-driven: leave out (any approver, the proposer too, before approval)
and undo (an approver other than the proposer, finished, within the window); a sweep's own message only."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from data.batches import Batch
from data.states import BatchState
from workflow.policy import Action, NotAllowed, Policy

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = Policy(approvers=frozenset({"U0APPROVE", "U0APPROVE2"}), undo_window=timedelta(hours=72), now=lambda: NOW)
PARENT = "1.000100"


def _batch(**values) -> Batch:
    row = dict(id=3, kind="sweep", state=BatchState.AWAITING_APPROVAL, requester_id="U0APPROVE2", approver_id=None,
               channel_id="C0FINANCE", parent_ts=PARENT, plan=[], total=Decimal(0), sync_key=None, sync_id=None,
               open_key="sweep", created_at="", updated_at="", expires_at="2026-11-30T12:00:00.000Z",
               decided_at=None, completed_at=None)
    row.update(values)
    return Batch(**row)


FINISHED = {"state": BatchState.FINISHED, "approver_id": "U0APPROVE", "completed_at": "2026-11-28T12:00:00.000Z"}


@pytest.mark.parametrize("action, batch, user, message, outcome", [
    (Action.SWEEP_LEAVE_OUT, _batch(), "U0APPROVE", PARENT, None),
    (Action.SWEEP_LEAVE_OUT, _batch(), "U0APPROVE2", PARENT, None),  # the proposer narrows their own plan
    (Action.SWEEP_LEAVE_OUT, _batch(), "U0REQUEST", PARENT, "Only approvers can change a sweep's plan"),
    (Action.SWEEP_LEAVE_OUT, _batch(), "U0APPROVE", "9.9", "does not belong to that sweep"),
    (Action.SWEEP_LEAVE_OUT, _batch(state=BatchState.RUNNING), "U0APPROVE", PARENT, "only change before it is"),
    (Action.SWEEP_LEAVE_OUT, _batch(expires_at="2026-11-29T11:00:00.000Z"), "U0APPROVE", PARENT, "expired"),
    (Action.SWEEP_LEAVE_OUT, _batch(kind="proposal"), "U0APPROVE", PARENT, "not valid"),
    (Action.SWEEP_UNDO, _batch(**FINISHED), "U0APPROVE", PARENT, None),
    (Action.SWEEP_UNDO, _batch(**FINISHED), "U0APPROVE2", PARENT, "You proposed this sweep"),
    (Action.SWEEP_UNDO, _batch(**FINISHED), "U0REQUEST", PARENT, "Only approvers can undo a sweep"),
    (Action.SWEEP_UNDO, _batch(**FINISHED), "U0APPROVE", "9.9", "does not belong to that sweep"),
    (Action.SWEEP_UNDO, _batch(**{**FINISHED, "completed_at": "2026-11-26T11:00:00.000Z"}), "U0APPROVE", PARENT,
     "past the undo window"),
    (Action.SWEEP_UNDO, _batch(**{**FINISHED, "state": BatchState.UNDOING}), "U0APPROVE", PARENT,
     "only a finished sweep can be undone"),
    (Action.SWEEP_UNDO, _batch(**{**FINISHED, "kind": "proposal"}), "U0APPROVE", PARENT, "not valid"),
])
def test_sweep_controls(action, batch, user, message, outcome):
    if outcome is None:
        POLICY.check(action, user, batch, channel="C0FINANCE", message_ts=message)
        return
    with pytest.raises(NotAllowed) as refused:
        POLICY.check(action, user, batch, channel="C0FINANCE", message_ts=message)
    assert outcome in refused.value.message
