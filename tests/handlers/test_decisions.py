"""Approve / Reject / Retry / Undo listeners: every refusal is told to the clicker only, where they clicked,
and changes nothing (no state, message, thread reply or QuickBooks record; only an audit event)."""
from __future__ import annotations

import time

import pytest

from handlers.decisions import INVALID
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER, has_buttons


def click(world, job_id: int, action_id: str, user: str, **kw):
    return lambda: world.driver.click(user, action_id, source=world.parent(job_id), **kw)


# -- Approve / Reject on the approval message -------------------------------------------------------------------
@pytest.mark.parametrize(("action", "user", "requester", "fragment"), [
    ("approve", OUTSIDER, REQUESTER, "Only approvers can decide this"),
    ("approve", REQUESTER, REQUESTER, "Only approvers can decide this"),   # a requester who is no approver
    ("approve", APPROVER_2, APPROVER_2, "you requested this application, so a colleague has to approve it"),
    ("reject", OUTSIDER, REQUESTER, "Only approvers can decide this"),
    ("reject", APPROVER, OUTSIDER, None),  # control: an approver's reject is not refused (asserted below)
])
def test_who_may_decide(world, told, unchanged, action, user, requester, fragment):
    job_id = world.request(invoice="10040", amount="10", user=requester)
    if fragment is None:
        world.driver.click(user, action, source=world.parent(job_id))
        assert world.wait_state(job_id, "rejected").approver_id == APPROVER
        return
    with unchanged(world, job_id):
        eph = told(world, user, click(world, job_id, action, user))
    assert fragment.lower() in eph["text"].lower() and "nothing was changed" in eph["text"]
    assert eph["channel"] == CHANNEL and "thread_ts" not in eph  # the parent is not in a thread
    assert has_buttons(world.parent(job_id)) and world.payments_on("130") == []
    audit = "refused_approval" if action == "approve" else "refused_reject"  # the refusal's only other trace
    assert [e.kind for e in world.bot.store.events(job_id)][-1] == audit


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_button_moved_to_another_request_is_refused(world, told, unchanged, action):
    first = world.request(invoice="10040", amount="10")
    second = world.request("Blue Heron Marine", invoice="10050", amount="5")
    with unchanged(world, first):
        eph = told(world, APPROVER, click(world, first, action, APPROVER, value=str(second)))
    assert "does not belong to that request" in eph["text"]
    assert world.job(second).state == "awaiting_approval" and has_buttons(world.parent(second))


@pytest.mark.parametrize("action", ["approve", "reject", "job_retry", "job_undo"])
@pytest.mark.parametrize("value", ["abc", "", "12345678901234"])
def test_a_value_that_is_no_job_id_is_invalid(world, told, unchanged, action, value):
    job_id = world.request(invoice="10040", amount="10")
    with unchanged(world, job_id):
        eph = told(world, APPROVER, click(world, job_id, action, APPROVER, value=value, element_type="button",
                                          block_id=f"decide:{job_id}"))
    assert eph["text"] == INVALID


def test_an_unknown_job_id_is_refused(world, told, unchanged):
    job_id = world.request(invoice="10040", amount="10")
    with unchanged(world, job_id):
        eph = told(world, APPROVER, click(world, job_id, "approve", APPROVER, value="999"))
    assert "does not belong to a request I know" in eph["text"]


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_decided_request_cannot_be_decided_again(world, told, action):
    job_id = world.request(invoice="10040", amount="10")
    stale = world.parent(job_id)  # a copy of the message with its buttons, as a slow client still shows it
    world.driver.click(APPROVER, "reject", source=stale)
    world.wait_state(job_id, "rejected")
    world.slack.wait_for(lambda s: not has_buttons(world.parent(job_id)))
    payments = len(world.qbo.ledger.list("Payment"))
    eph = told(world, APPROVER_2, lambda: world.driver.click(APPROVER_2, action, source=stale))
    assert f"Request #{job_id} was already decided (rejected by <@{APPROVER}>); nothing was changed." in eph["text"]
    assert world.job(job_id).state == "rejected" and len(world.qbo.ledger.list("Payment")) == payments


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_an_expired_request_is_refused_and_expires(make_world, clock, told, action):
    world = make_world(overrides={"now": clock.now})
    job_id = world.request(invoice="10040", amount="10")
    clock.advance(24 * 3600 + 1)
    eph = told(world, APPROVER, click(world, job_id, action, APPROVER))
    assert f"Request #{job_id} expired; ask for a new one." == eph["text"]
    world.wait_state(job_id, "expired")
    assert world.payments_on("130") == [] and world.wait_thread(job_id, "expired without a decision")


def test_refusal_falls_back_to_the_response_url_when_the_bot_left_the_channel(world, told):
    job_id = world.request(invoice="10040", amount="10")
    world.slack.set_bot_member(CHANNEL, False)  # chat.postEphemeral now answers not_in_channel
    eph = told(world, OUTSIDER, click(world, job_id, "approve", OUTSIDER))
    assert "Only approvers can decide this" in eph["text"]
    refused = [c for c in world.slack.calls_to("chat.postEphemeral") if c["args"].get("user") == OUTSIDER]
    assert refused and not refused[-1]["ok"]  # the answer came through the click's response_url instead
    assert world.job(job_id).state == "awaiting_approval"


# -- Retry / Sync again in the thread ----------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "requester", "fragment"), [
    (REQUESTER, REQUESTER, "Only approvers can retry"),
    (OUTSIDER, REQUESTER, "Only approvers can retry"),
    (APPROVER_2, APPROVER_2, "You requested this application, so a colleague has to retry it"),
])
def test_who_may_retry_a_write(world, told, unchanged, in_attention, user, requester, fragment):
    job_id, reply = in_attention(world, user=requester)
    with unchanged(world, job_id):
        eph = told(world, user, lambda: world.driver.click(user, "job_retry", source=reply))
    assert fragment in eph["text"]
    # The Retry button sits in the job's thread: the refusal is shown in that thread, not the channel.
    assert eph["thread_ts"] == world.job(job_id).parent_ts
    assert world.job(job_id).state == "needs_attention" and world.payments_on("130") == []


def test_retry_of_a_job_that_needs_nothing_is_refused(world, told, unchanged, in_attention):
    job_id, reply = in_attention(world)
    world.qbo.ledger.close_books(through="2000-01-01")
    other = world.request("Blue Heron Marine", invoice="10050", amount="5")  # awaiting approval, nothing to retry
    with unchanged(world, other):  # a Retry on that job's own message (a button there would name it)
        eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, "job_retry", value=str(other),
                                                              source=world.parent(other), element_type="button"))
    assert eph["text"] == f"Job #{other} is awaiting approval; there is nothing to retry."
    with unchanged(world, other):  # this thread's Retry naming that job: it belongs to another request
        eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, "job_retry", value=str(other), source=reply))
    assert eph["text"] == "This button does not belong to that request; nothing was changed."
    assert eph["thread_ts"] == world.job(job_id).parent_ts


def test_retry_from_another_channel_is_refused(world, told, in_attention):
    job_id, reply = in_attention(world)
    world.qbo.ledger.close_books(through="2000-01-01")
    world.slack.add_channel("C0ELSEWHERE", "elsewhere")
    moved = {**reply, "channel": "C0ELSEWHERE"}  # the same button, claimed from another channel
    eph = told(world, APPROVER, lambda: world.driver.click(APPROVER, "job_retry", source=moved))
    assert eph["text"] == "That button is not valid; nothing was changed."
    assert world.job(job_id).state == "needs_attention" and world.payments_on("130") == []


# -- Undo on the verified reply ------------------------------------------------------------------------------------
def undo_reply(world, job_id: int) -> dict:
    parent_ts = world.job(job_id).parent_ts
    return world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, parent_ts)
                                           if "job_undo" in str(m.get("blocks"))], timeout=10)[-1]


@pytest.mark.parametrize(("user", "requester", "fragment"), [
    (REQUESTER, REQUESTER, "Only approvers can undo a credit application"),
    (OUTSIDER, REQUESTER, "Only approvers can undo a credit application"),
    (APPROVER_2, APPROVER_2, "You requested this application, so a colleague (an approver) has to undo it"),
])
def test_who_may_undo(world, told, unchanged, applied, user, requester, fragment):
    job_id = applied(world, user=requester)
    reply = undo_reply(world, job_id)
    with unchanged(world, job_id):
        eph = told(world, user, lambda: world.driver.click(user, "job_undo", source=reply))
    assert fragment in eph["text"] and eph["thread_ts"] == world.job(job_id).parent_ts
    assert world.job(job_id).state == "verified" and len(world.payments_on("130")) == 1


def test_undo_past_the_window_is_refused(make_world, clock, told, unchanged, applied):
    clock.set(time.time())  # the store stamps completed_at from the real clock; the policy reads this one
    world = make_world(overrides={"now": clock.now})
    job_id = applied(world)
    reply = undo_reply(world, job_id)
    clock.advance(72 * 3600 + 60)
    with unchanged(world, job_id):
        eph = told(world, APPROVER_2, lambda: world.driver.click(APPROVER_2, "job_undo", source=reply))
    assert f"Application #{job_id} completed more than 72 hours ago, past the undo window" in eph["text"]


def test_undo_of_an_unfinished_application_is_refused(world, told, unchanged, applied):
    done = applied(world)
    reply = undo_reply(world, done)
    waiting = world.request("Blue Heron Marine", invoice="10050", amount="5")
    with unchanged(world, waiting):  # an Undo on that request's own message
        eph = told(world, APPROVER_2, lambda: world.driver.click(APPROVER_2, "job_undo", value=str(waiting),
                                                                source=world.parent(waiting), element_type="button"))
    assert f"Application #{waiting} is awaiting approval; only a completed application can be undone" in eph["text"]
    with unchanged(world, waiting):  # the verified thread's Undo naming that request: not its button
        eph = told(world, APPROVER_2, lambda: world.driver.click(APPROVER_2, "job_undo", value=str(waiting),
                                                                source=reply))
    assert eph["text"] == "This button does not belong to that request; nothing was changed."


def test_sync_again_is_for_approvers_and_the_requester(world, told, unchanged):
    world.cb.faults.inject("fail_sync")  # stops after the QuickBooks write: a new sync writes nothing to the books
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=15)
    reply = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, world.job(job_id).parent_ts)
                                            if "Sync again" in str(m.get("blocks"))])[-1]
    with unchanged(world, job_id):
        eph = told(world, OUTSIDER, lambda: world.driver.click(OUTSIDER, "job_retry", source=reply))
    assert eph["text"] == "Only approvers or the requester can run the sync again; nothing was changed."
    assert eph["thread_ts"] == world.job(job_id).parent_ts
    assert world.driver.click(REQUESTER, "job_retry", source=reply).ok  # the requester may: nothing is written
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_retry_on_an_approval_past_its_window_asks_for_a_new_approval(make_world, clock, in_attention):
    clock.set(time.time())
    world = make_world(overrides={"now": clock.now})
    job_id, reply = in_attention(world)
    world.qbo.ledger.close_books(through="2000-01-01")
    clock.advance(24 * 3600 + 60)  # the approval is older than APPROVAL_TTL_HOURS: it is not reused for a write
    assert world.driver.click(APPROVER_2, "job_retry", source=reply).ok
    job = world.wait_state(job_id, "awaiting_approval")
    assert job.approver_id is None and world.payments_on("130") == []
    kinds = [e.kind for e in world.bot.store.events(job_id)]
    asked = kinds.index("reapproval_requested")  # re-approval, not a re-run: no write started after the Retry
    assert kinds.index("retry") < asked and "quickbooks_write_started" not in kinds[kinds.index("retry"):], kinds
    world.slack.wait_for(lambda s: has_buttons(world.parent(job_id)))  # Approve / Reject are offered again
    assert world.approve(job_id, APPROVER).ok
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1
