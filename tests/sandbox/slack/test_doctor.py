"""What a `doctor` command reads from Slack: the token's scopes (x-oauth-scopes header), auth.test, and
conversations.info for the bot's channels (sources in sandbox/fake_slack/routes.py, server.py, membership.py)."""
from __future__ import annotations

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack

CH = "C0FINANCE"


def refused(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def test_every_answer_to_the_bot_token_carries_its_scopes(slack: FakeSlack, client: WebClient):
    slack.scopes.clear()
    slack.scopes.update({"chat:write", "commands", "channels:join"})  # an install from before the export and doctor
    assert client.auth_test().headers["x-oauth-scopes"] == "channels:join,chat:write,commands"
    slack.scopes.add("files:write")
    error = refused(lambda: client.chat_postMessage(channel="C0NOWHERE", text="x"))
    assert error.response.headers["x-oauth-scopes"] == "channels:join,chat:write,commands,files:write"
    slack.faults.inject("ratelimited", method="chat.postMessage")
    limited = refused(lambda: client.chat_postMessage(channel=CH, text="x"))
    assert limited.response.status_code == 429 and "chat:write" in limited.response.headers["x-oauth-scopes"]
    anonymous = requests.post(slack.api_url + "auth.test", timeout=5)
    assert anonymous.json()["error"] == "not_authed" and "x-oauth-scopes" not in anonymous.headers


def test_auth_test_answers_as_documented(client: WebClient):
    auth = client.auth_test().data
    assert auth == {"ok": True, "url": "https://sandbox.slack.local/", "team": "Sandbox", "user": "applycredit",
                    "team_id": "T0SANDBOX", "user_id": "UBOT0001", "bot_id": "B0SANDBOX",
                    "is_enterprise_install": False}


def test_conversations_info_needs_the_read_scope_of_the_conversations_type(slack: FakeSlack, client: WebClient):
    slack.scopes.difference_update({"channels:read", "groups:read"})  # an install from before doctor asked for them
    err = refused(lambda: client.conversations_info(channel=CH)).response.data
    assert (err["error"], err["needed"]) == ("missing_scope", "channels:read")
    slack.scopes.add("channels:read")
    slack.add_channel("G0PRIVATE1", "private-finance", private=True)
    err = refused(lambda: client.conversations_info(channel="G0PRIVATE1")).response.data
    assert (err["error"], err["needed"]) == ("missing_scope", "groups:read")


def test_conversations_info_for_the_bot(slack: FakeSlack, client: WebClient):
    slack.scopes.update({"channels:read", "groups:read"})
    slack.add_channel("C0PUBLIC01", "public", bot_member=False)
    slack.add_channel("C0ARCHIVE1", "old")
    slack.archive("C0ARCHIVE1")
    slack.add_channel("G0PRIVATE1", "private-in", private=True)
    slack.add_channel("G0PRIVATE2", "private-out", private=True, bot_member=False)

    def info(channel: str) -> dict:
        c = client.conversations_info(channel=channel)["channel"]
        return {k: c[k] for k in ("id", "name", "is_member", "is_private", "is_archived", "is_channel", "is_group")}

    assert info(CH) == {"id": CH, "name": "finance", "is_member": True, "is_private": False, "is_archived": False,
                        "is_channel": True, "is_group": False}
    assert info("C0PUBLIC01")["is_member"] is False  # a public channel is visible to the bot outside it
    assert info("C0ARCHIVE1")["is_archived"] is True
    assert info("G0PRIVATE1") | {"name": None} == {"id": "G0PRIVATE1", "name": None, "is_member": True,
                                                   "is_private": True, "is_archived": False, "is_channel": False,
                                                   "is_group": True}
    for hidden in ("G0PRIVATE2", "C0NOWHERE1"):  # a private channel the bot is not in does not exist for it
        assert refused(lambda h=hidden: client.conversations_info(channel=h)).response.data \
            == {"ok": False, "error": "channel_not_found"}


def test_a_token_the_workspace_did_not_issue_is_invalid_auth_and_has_no_scopes(slack: FakeSlack, client: WebClient):
    slack.tokens = {client.token, "xapp-1-A0SANDBOX-1-good"}
    assert client.auth_test()["ok"]
    stranger = WebClient(token="xoxb-revoked", base_url=slack.api_url)
    error = refused(stranger.auth_test)
    assert error.response.data == {"ok": False, "error": "invalid_auth"}
    assert "x-oauth-scopes" not in error.response.headers
    assert WebClient(base_url=slack.api_url).apps_connections_open(app_token="xapp-1-A0SANDBOX-1-good")["ok"]
    wrong_app = refused(lambda: WebClient(base_url=slack.api_url).apps_connections_open(app_token="xapp-1-A0SANDBOX-1-bad"))
    assert wrong_app.response["error"] == "invalid_auth"
