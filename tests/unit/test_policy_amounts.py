"""Approval by amount in the one policy, table-driven: two approvers above DUAL_APPROVAL_ABOVE (never the requester,
the same person counting once), proposals accepted like requests, auto-apply at or under AUTO_APPLY_MAX."""
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from data.batches import PROPOSAL, SWEEP, Batch
from data.jobs import Job
from data.states import BatchState, JobKind, JobState
from workflow.machine import BATCH_CREATED_IN, BATCH_MOVES
from workflow.policy import Action, NotAllowed, Policy

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = Policy(approvers=frozenset({"U0APPROVE", "U0APPROVE2", "U0APPROVE3"}), undo_window=timedelta(hours=72),
                now=lambda: NOW, dual_above=Decimal("1000.00"), auto_max=Decimal("50.00"))
PARENT = "1.000100"


def _job(amount: str = "10.00", **values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(id=4, kind=JobKind.APPLY, state=JobState.AWAITING_APPROVAL, requester_id="U0REQUEST",
               channel_id="C0FINANCE", parent_ts=PARENT, amount=Decimal(amount))
    row.update(values)
    return Job(**row)


def _batch(total: str = "10.00", kind: str = PROPOSAL, **values) -> Batch:
    row = {f.name: None for f in fields(Batch)}
    row.update(id=9, kind=kind, state=BatchState.AWAITING_APPROVAL, requester_id="bot", channel_id="C0FINANCE",
               parent_ts=PARENT, plan=[], total=Decimal(total))
    row.update(values)
    return Batch(**row)


SECOND = {"state": JobState.AWAITING_SECOND_APPROVAL, "first_approver_id": "U0APPROVE"}
SECOND_B = {"state": BatchState.AWAITING_SECOND_APPROVAL, "first_approver_id": "U0APPROVE"}


@pytest.mark.parametrize("action, subject, user, outcome", [
    # one approver at or under the limit; the first of two above it
    (Action.APPROVE, _job("1000.00"), "U0APPROVE", "approved"),
    (Action.APPROVE, _job("1000.01"), "U0APPROVE", "first of two"),
    (Action.APPROVE, _job("1000.01", **SECOND), "U0APPROVE2", "approved"),
    (Action.APPROVE, _job("1000.01", **SECOND), "U0APPROVE", "You already approved Request #4"),
    (Action.APPROVE, _job("1000.01", **SECOND), "U0REQUEST", "Only approvers can decide"),
    (Action.APPROVE, _job("1000.01", requester_id="U0APPROVE2", **SECOND), "U0APPROVE2", "a colleague has to approve"),
    (Action.REJECT, _job("1000.01", **SECOND), "U0APPROVE", "approved"),  # the first approver may still reject
    (Action.REJECT, _job("1000.01", **SECOND), "U0REQUEST", "withdrawn"),
    # a sweep above the limit
    (Action.SWEEP_APPROVE, _batch("5000.00", kind=SWEEP, requester_id="U0APPROVE3"), "U0APPROVE", "first of two"),
    (Action.SWEEP_APPROVE, _batch("5000.00", kind=SWEEP, requester_id="U0APPROVE3", **SECOND_B), "U0APPROVE",
     "You already approved Sweep #9"),
    (Action.SWEEP_APPROVE, _batch("5000.00", kind=SWEEP, requester_id="U0APPROVE3", **SECOND_B), "U0APPROVE3",
     "a colleague has to approve"),
    # a proposal: the bot proposed it, so any approver accepts; two above the limit
    (Action.ACCEPT, _batch("10.00"), "U0APPROVE", "approved"),
    (Action.ACCEPT, _batch("10.00"), "U0REQUEST", "Only approvers can decide"),
    (Action.ACCEPT, _batch("2500.00"), "U0APPROVE", "first of two"),
    (Action.ACCEPT, _batch("2500.00", **SECOND_B), "U0APPROVE", "You already approved Proposal #9"),
    (Action.ACCEPT, _batch("2500.00", **SECOND_B), "U0APPROVE2", "approved"),
    (Action.ACCEPT, _batch("10.00", state=BatchState.CANCELLED), "U0APPROVE", "Proposal #9 was already decided"),
    (Action.ACCEPT, _batch("10.00", parent_ts="2.000200"), "U0APPROVE", "does not belong"),
    (Action.NOT_NOW, _batch("10.00"), "U0APPROVE2", "approved"),
    (Action.NOT_NOW, _batch("10.00"), "U0REQUEST", "Only approvers can decide"),
])
def test_approval_by_amount(action, subject, user, outcome):
    if outcome in ("approved", "first of two", "withdrawn"):
        permit = POLICY.check(action, user, subject, channel="C0FINANCE", message_ts=PARENT)
        assert permit.first_of_two == (outcome == "first of two") and permit.withdraw == (outcome == "withdrawn")
        return
    with pytest.raises(NotAllowed) as refused:
        POLICY.check(action, user, subject, channel="C0FINANCE", message_ts=PARENT)
    assert outcome in refused.value.message


@pytest.mark.parametrize("amount, auto", [("0.01", True), ("50.00", True), ("50.01", False), ("0", False)])
def test_auto_apply_at_or_under_the_limit(amount, auto):
    assert POLICY.auto_apply(Decimal(amount)) is auto


def test_auto_apply_off_by_default_and_never_above_the_dual_limit():
    off = Policy(approvers=frozenset(), undo_window=timedelta(hours=1))
    assert not off.auto_apply(Decimal("0.01")) and not off.needs_two(Decimal("1000000"))
    both = Policy(approvers=frozenset(), undo_window=timedelta(hours=1), dual_above=Decimal("10"), auto_max=Decimal("50"))
    assert both.auto_apply(Decimal("10")) and not both.auto_apply(Decimal("10.01"))


def test_undo_of_an_auto_applied_item_by_any_approver_in_the_window():
    item = _job("10.00", state=JobState.VERIFIED, requester_id="bot", parent_ts=None, batch_id=9,
                completed_at="2026-11-29T11:00:00.000Z")
    POLICY.check(Action.UNDO, "U0APPROVE", item, channel="C0FINANCE")
    with pytest.raises(NotAllowed):
        POLICY.check(Action.UNDO, "U0REQUEST", item, channel="C0FINANCE")


def test_every_batch_state_is_reachable_or_a_starting_state():
    reachable = {b for targets in BATCH_MOVES.values() for b in targets} | BATCH_CREATED_IN
    assert reachable == set(BatchState)
