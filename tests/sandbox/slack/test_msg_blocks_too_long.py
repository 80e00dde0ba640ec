"""msg_blocks_too_long: more than 12,000 characters of text across one message's blocks is refused although every
block is within its own limit ([OBS] slackapi/bolt-js#2509, #2867; limits.blocks_text_length says what counts)."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.fake_slack import MESSAGE_BLOCKS_TEXT, FakeSlack, blocks_text_length

CH = "C0FINANCE"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def section(n: int, char: str = "x") -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": char * n}}


def full(extra: int) -> list[dict]:
    """Four sections at their 3,000 limit (12,000 characters) plus a context of `extra` characters."""
    blocks = [section(3000) for _ in range(4)]
    if extra:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "y" * extra}]})
    return blocks


def refused(call) -> tuple[int, dict]:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.status_code, info.value.response.data


def test_what_counts_is_every_text_string_in_the_blocks():
    option = {"text": plain("Invoice 10040"), "value": "130", "description": plain("$110.00")}
    blocks = [
        {"type": "header", "text": plain("Month end")},  # 9
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Atomar*"}, "fields": [plain("a"), plain("bc")],
         "accessory": {"type": "button", "action_id": "apply", "value": "v" * 500, "url": "https://x.invalid/",
                       "text": plain("Apply…")}},  # 8 + 1 + 2 + 6; the value and url do not count
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "note"},
                                         {"type": "image", "image_url": "https://x.invalid/i.png",
                                          "alt_text": "not counted"}]},  # 4
        {"type": "actions", "block_id": "ids-do-not-count", "elements": [
            {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"), "options": [option]}]},
        {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                            "elements": [{"type": "text", "text": "rich"}]}]},  # 4
    ]
    assert blocks_text_length(blocks) == 9 + 8 + 1 + 2 + 6 + 4 + 4 + 13 + 7 + 4
    assert blocks_text_length(full(1)) == MESSAGE_BLOCKS_TEXT + 1 == 12_001


def test_post_message_boundary(slack: FakeSlack, client: WebClient):
    assert client.chat_postMessage(channel=CH, text="12,000", blocks=full(0))["ok"]
    assert refused(lambda: client.chat_postMessage(channel=CH, text="12,001", blocks=full(1))) == \
        (200, {"ok": False, "error": "msg_blocks_too_long"})
    assert [m["text"] for m in slack.messages(CH)] == ["12,000"]
    # a button's text counts like any other: 11,998 + "OK" passes, "OKs" does not
    row = {"type": "actions", "elements": [{"type": "button", "action_id": "ok", "text": plain("OK")}]}
    base = [section(3000) for _ in range(3)] + [section(2998)]
    assert client.chat_postMessage(channel=CH, text="ok", blocks=[*base, row])["ok"]
    row["elements"][0]["text"] = plain("OKs")
    assert refused(lambda: client.chat_postMessage(channel=CH, text="x", blocks=[*base, row]))[1]["error"] \
        == "msg_blocks_too_long"


def test_update_and_ephemeral_refuse_too_and_change_nothing(slack: FakeSlack, client: WebClient):
    ts = client.chat_postMessage(channel=CH, text="short", blocks=[section(10)])["ts"]
    assert refused(lambda: client.chat_update(channel=CH, ts=ts, text="long", blocks=full(1)))[1]["error"] \
        == "msg_blocks_too_long"
    assert slack.message(CH, ts)["text"] == "short"
    assert client.chat_update(channel=CH, ts=ts, text="long", blocks=full(0))["ok"]
    assert refused(lambda: client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="x", blocks=full(1)))[1] \
        == {"ok": False, "error": "msg_blocks_too_long"}
    assert client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="x", blocks=full(0))["ok"]
    assert len(slack.ephemerals("U0REQUEST")) == 1


def test_a_response_url_answers_http_400_with_a_text_body(slack: FakeSlack):
    hook = WebhookClient(slack.issue_response_url(CH, "U0REQUEST"))
    answer = hook.send(text="too long", blocks=full(1))
    assert (answer.status_code, answer.body) == (400, "msg_blocks_too_long")
    assert slack.ephemerals("U0REQUEST") == []
    assert hook.send(text="just right", blocks=full(0)).status_code == 200
    assert [e["text"] for e in slack.ephemerals("U0REQUEST")] == ["just right"]
