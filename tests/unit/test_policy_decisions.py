"""The one decision policy on an approval, table-driven: who, which message, when."""
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from data.jobs import Job
from data.states import JobKind, JobState
from workflow.policy import Action, NotAllowed, Policy

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = Policy(approvers=frozenset({"U0APPROVE", "U0APPROVE2"}), undo_window=timedelta(hours=72), now=lambda: NOW)
PARENT = "1.000100"


def _job(**values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(id=4, kind=JobKind.APPLY, state=JobState.AWAITING_APPROVAL, requester_id="U0REQUEST",
               channel_id="C0FINANCE", parent_ts=PARENT, expires_at="2026-11-30T12:00:00.000Z")
    row.update(values)
    return Job(**row)


@pytest.mark.parametrize("job, user, channel, message, outcome", [
    (_job(), "U0APPROVE", "C0FINANCE", PARENT, None),
    # Clicked in the instant before the outbox stored the message's ts: it can only be that message.
    (_job(parent_ts=None), "U0APPROVE", "C0FINANCE", "1.000100", None),
    (_job(), "U0APPROVE", "C0FINANCE", "9.000900", "does not belong to that request"),
    (_job(parent_ts=None), "U0APPROVE", "C0OTHER", "1.000100", "does not belong to that request"),
    (_job(), "U0REQUEST", "C0FINANCE", PARENT, "Only approvers can decide"),
    (_job(requester_id="U0APPROVE"), "U0APPROVE", "C0FINANCE", PARENT, "a colleague has to approve it"),
    (_job(state=JobState.REJECTED, approver_id="U0APPROVE2"), "U0APPROVE", "C0FINANCE", PARENT,
     "already decided (rejected by <@U0APPROVE2>)"),
    (_job(expires_at="2026-11-29T11:59:59.000Z"), "U0APPROVE", "C0FINANCE", PARENT, "expired"),
])
def test_approve(job, user, channel, message, outcome):
    if outcome is None:
        POLICY.check(Action.APPROVE, user, job, channel=channel, message_ts=message)
        return
    with pytest.raises(NotAllowed) as refused:
        POLICY.check(Action.APPROVE, user, job, channel=channel, message_ts=message)
    assert outcome in refused.value.message
