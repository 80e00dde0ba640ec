"""`/applycredit sweep` and its Approve / Reject buttons in-process: who may propose and decide, one sweep at a
time, and what the proposer is told when planning or posting fails (the sweep is then cancelled)."""
from __future__ import annotations

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER


def propose(world, user: str = APPROVER_2) -> dict:
    """Run `/applycredit sweep` and return the approval message once its ts is stored."""
    resp = world.driver.command(user, CHANNEL, "sweep")
    assert resp.status == 200 and "Planning the sweep" in resp.json()["text"]
    message = world.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if m["text"].startswith("Sweep #")],
                                   timeout=20)[-1]
    batch_id = int(message["text"].split("#", 1)[1].split()[0].rstrip(":"))
    world.slack.wait_for(lambda s: batch(world, batch_id).parent_ts == message["ts"], timeout=10)
    return message


def batch(world, batch_id: int = 1):
    return world.bot.service.sweeps.batches.get(batch_id)


@pytest.mark.parametrize("user", [REQUESTER, OUTSIDER])
def test_only_approvers_propose_a_sweep(world, user):
    resp = world.driver.command(user, CHANNEL, "sweep")
    assert resp.json()["text"].startswith("Only approvers can propose a sweep")
    assert batch(world) is None and world.slack.messages(CHANNEL) == []


def test_one_sweep_at_a_time(world):
    propose(world)
    resp = world.driver.command(APPROVER, CHANNEL, "sweep")
    assert "one sweep at a" in resp.json()["text"] and batch(world, 2) is None


@pytest.mark.parametrize(("action", "user", "fragment"), [
    ("sweep_approve", APPROVER_2, "You requested this sweep, so a colleague has to approve it; nothing was changed."),
    ("sweep_approve", OUTSIDER, "Only approvers can decide this (ask a finance approver); nothing was changed."),
    ("sweep_reject", OUTSIDER, "Only approvers can decide this (ask a finance approver); nothing was changed."),
])
def test_sweep_decision_refusals(world, told, action, user, fragment):
    message = propose(world)
    payments = len(world.qbo.ledger.list("Payment"))
    eph = told(world, user, lambda: world.driver.click(user, action, source=message))
    assert eph["text"] == fragment
    assert batch(world).state == "awaiting_approval" and len(world.qbo.ledger.list("Payment")) == payments
    assert world.slack.message(CHANNEL, message["ts"])["blocks"] == message["blocks"]  # buttons still there


@pytest.mark.parametrize("action", ["sweep_approve", "sweep_reject"])
def test_a_sweep_button_without_a_sweep_id_is_invalid(world, told, action):
    message = propose(world)
    eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, action, value="sweep", source=message))
    assert eph["text"] == "That button is not valid; nothing was changed."
    assert batch(world).state == "awaiting_approval"


def test_a_decided_sweep_cannot_be_decided_again(world, told):
    message = propose(world)
    assert world.driver.click(APPROVER_2, "sweep_reject", source=message).ok  # the proposer withdraws
    world.slack.wait_for(lambda s: batch(world).state == "cancelled")
    eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, "sweep_approve", source=message))
    assert "already decided" in eph["text"] and batch(world).state == "cancelled"


def test_connectbooster_down_while_planning_tells_the_proposer(world):
    world.cb.faults.inject("503", times=50)
    assert world.driver.command(APPROVER, CHANNEL, "sweep").ok
    said = world.slack.wait_for(lambda s: [e["text"] for e in s.ephemerals(APPROVER) if "couldn't read" in e["text"]],
                                timeout=10)
    assert said[-1].startswith(":warning: I couldn't read from connectbooster just now (TransientError). Nothing was "
                               "changed")
    assert world.slack.messages(CHANNEL) == []


def test_a_sweep_proposed_where_the_app_cannot_post_is_cancelled(world):
    world.slack.add_channel("C0PRIVATE", "finance-private", private=True, bot_member=False)
    assert world.driver.command(APPROVER, "C0PRIVATE", "sweep").ok
    said = world.slack.wait_for(lambda s: [e["text"] for e in s.ephemerals(APPROVER) if "refused" in e["text"]],
                                timeout=20)
    assert said[-1] == ("Slack refused the sweep's message (channel_not_found); the sweep was cancelled and nothing "
                        "was changed. Invite the app to this channel with `/invite @applycredit`, then run the sweep "
                        "again.")
    world.slack.wait_for(lambda s: batch(world).state == "cancelled")
    assert propose(world, APPROVER)  # the slot is free again


def test_an_expired_sweep_cannot_be_approved(make_world, clock, told):
    world = make_world(overrides={"now": clock.now})
    message = propose(world)
    clock.advance(24 * 3600 + 1)
    eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, "sweep_approve", source=message))
    assert eph["text"] == "Sweep #1 expired; ask for a new one."
    world.slack.wait_for(lambda s: batch(world).state == "expired")
    assert world.bot.store.all() == []  # no item job was created
