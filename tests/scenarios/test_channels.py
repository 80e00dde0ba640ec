"""Channels the app is not in (real-world.md §1): nothing waits invisibly, nothing stays locked.

With `chat:write` alone Slack answers `not_in_channel` in a public channel the app has not joined and
`channel_not_found` in a private one; `channels:join` lets the bot join a public channel, never a private one.
"""
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, REQUESTER, has_buttons

PRIVATE, PUBLIC = "C0PRIVATE", "C0PUBLIC"


def dm_texts(world, user: str) -> list[str]:
    """The app's direct messages to a user (chat.postMessage to a user id lands in the app's DM)."""
    return [m.get("text", "") for m in world.slack.messages("D" + user[1:])]


def test_private_channel_the_app_is_not_in_cancels_the_request_and_tells_the_requester(world):
    world.slack.add_channel(PRIVATE, "finance-private", private=True, bot_member=False)
    job_id = world.request(invoice="10040", amount="10", channel=PRIVATE, wait_parent=False)
    world.wait_state(job_id, "cancelled")
    told = world.slack.wait_for(lambda s: [t for t in dm_texts(world, REQUESTER) if f"#{job_id}" in t])
    assert "could not be posted" in told[0] and "/invite @applycredit" in told[0] and "credit is free again" in told[0]
    assert [e.kind for e in world.bot.store.events(job_id)][-1] == "approval_message_refused"
    assert world.payments_on("130") == []
    # The credit is not locked: the same credit can be requested at once where the app is.
    again = world.request(invoice="10040", amount="10")
    world.approve(again, APPROVER)
    world.wait_state(again, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_public_channel_the_app_is_not_in_is_joined_and_used(world):
    world.slack.add_channel(PUBLIC, "finance-public", private=False, bot_member=False)
    job_id = world.request(invoice="10040", amount="10", channel=PUBLIC)
    parent = world.parent(job_id)
    assert has_buttons(parent) and world.slack.is_member(PUBLIC, world.slack.bot_user_id)
    assert any(c["method"] == "conversations.join" for c in world.slack.calls)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    assert world.wait_thread(job_id, "Verified")


def test_refused_approval_message_layout_cancels_the_request(world):
    world.slack.faults.inject("invalid_blocks", "chat.postMessage")
    job_id = world.request(invoice="10040", amount="10", wait_parent=False)
    world.wait_state(job_id, "cancelled")
    told = world.slack.wait_for(lambda s: [t for t in dm_texts(world, REQUESTER) if f"#{job_id}" in t])
    assert "layout" in told[0]


def test_notice_channel_the_app_is_not_in_is_reported_in_the_thread(world):
    world.slack.add_channel(NOTIFY, "finance-notices", private=True, bot_member=False)
    world.slack.set_bot_member(NOTIFY, False)  # a private notices channel the app was never invited to
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    texts = world.wait_thread(job_id, "couldn't post the completion notice")
    line = next(t for t in texts if "couldn't post the completion notice" in t)
    assert f"<#{NOTIFY}>" in line and "/invite @applycredit" in line


def test_sweep_plan_in_a_private_channel_is_cancelled_and_explained(world):
    world.slack.add_channel(PRIVATE, "finance-private", private=True, bot_member=False,
                            members=[REQUESTER, APPROVER, APPROVER_2])
    assert world.driver.command(APPROVER_2, PRIVATE, "sweep").status == 200
    batches = world.bot.service.sweeps.batches
    world.slack.wait_for(lambda s: (b := batches.get(1)) is not None and b.state == "cancelled", timeout=20)
    said = world.slack.wait_for(lambda s: [r for r in s.calls_to("response_url") if "invite" in str(r)], timeout=5)
    assert said and world.bot.store.in_batch(1) == []
    assert world.slack.messages(CHANNEL) == [] or all("Sweep #" not in m.get("text", "") for m in world.slack.messages(CHANNEL))
