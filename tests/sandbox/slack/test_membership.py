"""Channel membership as Slack enforces it for a bot with chat:write (real-world.md §1 "Slack channel membership")."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.fake_slack import FakeSlack

PUBLIC, PRIVATE, ARCHIVED = "C0PUBLIC", "G0PRIVATE", "C0ARCHIVE"


def error(call) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response["error"]


@pytest.fixture
def rooms(slack: FakeSlack) -> FakeSlack:
    slack.add_channel(PUBLIC, "general", bot_member=False)
    slack.add_channel(PRIVATE, "finance-private", private=True, bot_member=False)
    slack.add_channel(ARCHIVED, "old", bot_member=True)
    slack.archive(ARCHIVED)
    return slack


# (channel, what the bot gets) for a bot that is not a member
POST_REFUSALS = [
    (PUBLIC, "not_in_channel"),
    (PRIVATE, "channel_not_found"),  # private channels are invisible
    ("C0NOWHERE", "channel_not_found"),
    (ARCHIVED, "is_archived"),
]


@pytest.mark.parametrize(("channel", "expected"), POST_REFUSALS)
def test_post_message_refused_where_the_bot_is_not(rooms: FakeSlack, client: WebClient, channel: str, expected: str):
    assert error(lambda: client.chat_postMessage(channel=channel, text="Request #1")) == expected
    assert rooms.messages(channel) == []


@pytest.mark.parametrize(("channel", "expected"), POST_REFUSALS)
def test_post_ephemeral_refused_where_the_bot_is_not(rooms: FakeSlack, client: WebClient, channel: str, expected: str):
    assert error(lambda: client.chat_postEphemeral(channel=channel, user="U0REQUEST", text="x")) == expected
    assert rooms.ephemerals("U0REQUEST") == []


def test_update_in_an_archived_channel_is_inactive(slack: FakeSlack, client: WebClient):
    slack.add_channel("C0SOON", "soon-archived")
    ts = client.chat_postMessage(channel="C0SOON", text="pending")["ts"]
    slack.archive("C0SOON")
    assert error(lambda: client.chat_update(channel="C0SOON", ts=ts, text="approved")) == "is_inactive"


def test_ephemeral_to_a_user_not_in_the_channel(slack: FakeSlack, client: WebClient):
    slack.add_user("U0GUEST", "guest")  # joined the workspace after the channel was made
    assert error(lambda: client.chat_postEphemeral(channel="C0FINANCE", user="U0GUEST", text="x")) == \
        "user_not_in_channel"


def test_join_a_public_channel_then_post(rooms: FakeSlack, client: WebClient):
    joined = client.conversations_join(channel=PUBLIC)
    assert joined["channel"]["id"] == PUBLIC and joined["channel"]["is_member"] and "warning" not in joined
    assert client.chat_postMessage(channel=PUBLIC, text="Request #1")["ok"]
    again = client.conversations_join(channel=PUBLIC)
    assert again["ok"] and again["warning"] == "already_in_channel"
    assert again["response_metadata"]["warnings"] == ["already_in_channel"]


def test_join_refusals(rooms: FakeSlack, client: WebClient):
    assert error(lambda: client.conversations_join(channel=PRIVATE)) == "method_not_supported_for_channel_type"
    rooms.private_join_error = "channel_not_found"  # what some peers observe instead (real-world.md §1)
    assert error(lambda: client.conversations_join(channel=PRIVATE)) == "channel_not_found"
    assert error(lambda: client.conversations_join(channel=ARCHIVED)) == "is_archived"
    assert error(lambda: client.conversations_join(channel="C0NOWHERE")) == "channel_not_found"
    rooms.scopes.discard("channels:join")
    with pytest.raises(SlackApiError) as info:
        client.conversations_join(channel=PUBLIC)
    assert info.value.response["error"] == "missing_scope" and info.value.response["needed"] == "channels:join"


def test_only_an_invite_lets_the_bot_into_a_private_channel(rooms: FakeSlack, client: WebClient):
    rooms.set_bot_member(PRIVATE, True)  # /invite @applycredit
    assert client.chat_postMessage(channel=PRIVATE, text="Request #1")["ok"]
    rooms.set_bot_member(PRIVATE, False)  # removed again
    assert error(lambda: client.chat_postMessage(channel=PRIVATE, text="x")) == "channel_not_found"


def test_chat_write_public_posts_in_public_channels_only(rooms: FakeSlack, client: WebClient):
    rooms.scopes.add("chat:write.public")
    assert client.chat_postMessage(channel=PUBLIC, text="hello")["ok"]
    assert error(lambda: client.chat_postMessage(channel=PRIVATE, text="x")) == "channel_not_found"


def test_response_url_and_views_ignore_membership(rooms: FakeSlack, client: WebClient):
    hook = WebhookClient(rooms.issue_response_url(PRIVATE, "U0REQUEST"))
    assert hook.send(text="Invite the app with /invite @applycredit").status_code == 200
    assert [e["text"] for e in rooms.ephemerals("U0REQUEST", PRIVATE)] == ["Invite the app with /invite @applycredit"]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Apply"}, "blocks": []}
    assert client.views_open(trigger_id=rooms.issue_trigger_id("U0REQUEST"), view=view)["ok"]


def test_a_dm_by_user_id_opens_one_the_bot_is_in(slack: FakeSlack, client: WebClient):
    dm = client.chat_postMessage(channel="U0REQUEST", text="Your request was cancelled")["channel"]
    assert dm == "D0REQUEST" and slack.is_member(dm, "UBOT0001")


def test_an_unknown_channel_from_a_command_is_public_without_the_bot(slack: FakeSlack, client: WebClient):
    slack.ensure_user_channel("C0RANDOM", "U0REQUEST")
    assert slack.is_member("C0RANDOM", "U0REQUEST") and not slack.is_member("C0RANDOM", "UBOT0001")
    assert error(lambda: client.chat_postMessage(channel="C0RANDOM", text="x")) == "not_in_channel"
    slack.ensure_user_channel("D0HUMANS", "U0REQUEST")  # a human-to-human DM: the app is not in it
    assert error(lambda: client.chat_postMessage(channel="D0HUMANS", text="x")) == "channel_not_found"
