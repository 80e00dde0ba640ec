"""Every documented Block Kit limit (real-world.md §2 "Block Kit limits"): at the limit accepted, one over refused
with Slack's error and JSON pointer, through the real WebClient / WebhookClient."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.fake_slack import FakeSlack, validate_blocks, validate_view

CH = "C0FINANCE"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def section(text: str = "x") -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def option(text: str = "o", value: str = "v", **extra) -> dict:
    return {"text": plain(text), "value": value, **extra}


def button(**over) -> dict:
    return {"type": "button", "action_id": "b", "text": plain("Go"), "value": "1", **over}


def actions(*elements: dict) -> dict:
    return {"type": "actions", "block_id": "a", "elements": list(elements)}


def select(**over) -> dict:
    return {"type": "static_select", "action_id": "s", "placeholder": plain("Pick"), "options": [option()], **over}


def confirm(**over) -> dict:
    return {"title": plain("Sure?"), "text": plain("Really?"), "confirm": plain("Yes"), "deny": plain("No"), **over}


def opts(n: int) -> list[dict]:
    return [option(str(i), str(i)) for i in range(n)]


def groups(n: int, per: int = 1, label: str = "g") -> list[dict]:
    return [{"label": plain(f"{label}{i}" if label == "g" else label), "options": opts(per)} for i in range(n)]


# name -> (blocks for a length/count n, the limit, the JSON pointer of the violation)
MESSAGE_LIMITS = {
    "blocks per message": (lambda n: [section(str(i)) for i in range(n)], 50, "/blocks"),
    "section text": (lambda n: [section("x" * n)], 3000, "/blocks/0/text/text"),
    "section fields": (lambda n: [{"type": "section", "fields": [plain("f")] * n}], 10, "/blocks/0/fields"),
    "section field text": (lambda n: [{"type": "section", "fields": [plain("f" * n)]}], 2000,
                           "/blocks/0/fields/0/text"),
    "header text": (lambda n: [{"type": "header", "text": plain("h" * n)}], 150, "/blocks/0/text/text"),
    "context elements": (lambda n: [{"type": "context", "elements": [plain("c")] * n}], 10, "/blocks/0/elements"),
    "actions elements": (lambda n: [actions(*[button(action_id=f"b{i}") for i in range(n)])], 25, "/blocks/0/elements"),
    "block_id": (lambda n: [{**section(), "block_id": "b" * n}], 255, "/blocks/0/block_id"),
    "action_id": (lambda n: [actions(button(action_id="a" * n))], 255, "/blocks/0/elements/0/action_id"),
    "button text": (lambda n: [actions(button(text=plain("t" * n)))], 75, "/blocks/0/elements/0/text/text"),
    "button value": (lambda n: [actions(button(value="v" * n))], 2000, "/blocks/0/elements/0/value"),
    "button url": (lambda n: [actions(button(url="https://x.io/" + "u" * (n - 13)))], 3000, "/blocks/0/elements/0/url"),
    "option text": (lambda n: [actions(select(options=[option("t" * n)]))], 75,
                    "/blocks/0/elements/0/options/0/text/text"),
    "option value": (lambda n: [actions(select(options=[option(value="v" * n)]))], 150,
                     "/blocks/0/elements/0/options/0/value"),
    "option description": (lambda n: [actions(select(options=[option(description=plain("d" * n))]))], 75,
                           "/blocks/0/elements/0/options/0/description/text"),
    "options per select": (lambda n: [actions(select(options=opts(n)))], 100, "/blocks/0/elements/0/options"),
    "option groups per select": (lambda n: [actions(select(options=None, option_groups=groups(n)))], 100,
                                 "/blocks/0/elements/0/option_groups"),
    "options per group": (lambda n: [actions(select(options=None, option_groups=groups(1, n)))], 100,
                          "/blocks/0/elements/0/option_groups/0/options"),
    "option group label": (lambda n: [actions(select(options=None, option_groups=groups(1, 1, "l" * n)))], 75,
                           "/blocks/0/elements/0/option_groups/0/label/text"),
    "select placeholder": (lambda n: [actions(select(placeholder=plain("p" * n)))], 150,
                           "/blocks/0/elements/0/placeholder/text"),
    "overflow options": (lambda n: [actions({"type": "overflow", "action_id": "o", "options": opts(n)})], 5,
                         "/blocks/0/elements/0/options"),
    "radio options": (lambda n: [actions({"type": "radio_buttons", "action_id": "r", "options": opts(n)})], 10,
                      "/blocks/0/elements/0/options"),
    "confirm title": (lambda n: [actions(button(confirm=confirm(title=plain("t" * n))))], 100,
                      "/blocks/0/elements/0/confirm/title/text"),
    "confirm text": (lambda n: [actions(button(confirm=confirm(text=plain("t" * n))))], 300,
                     "/blocks/0/elements/0/confirm/text/text"),
    "confirm button": (lambda n: [actions(button(confirm=confirm(confirm=plain("c" * n))))], 30,
                       "/blocks/0/elements/0/confirm/confirm/text"),
    "deny button": (lambda n: [actions(button(confirm=confirm(deny=plain("d" * n))))], 30,
                    "/blocks/0/elements/0/confirm/deny/text"),
}


def modal(**over) -> dict:
    return {"type": "modal", "title": plain("Apply credit"), "submit": plain("Apply"), "blocks": [section()], **over}


def input_block(**over) -> dict:
    element = {"type": "plain_text_input", "action_id": "note", **over.pop("element", {})}
    return {"type": "input", "block_id": "note", "label": plain("Note"), "element": element, **over}


VIEW_LIMITS = {
    "blocks per view": (lambda n: modal(blocks=[section(str(i)) for i in range(n)]), 100, "/view/blocks"),
    "modal title": (lambda n: modal(title=plain("t" * n)), 24, "/view/title/text"),
    "modal submit": (lambda n: modal(submit=plain("s" * n)), 24, "/view/submit/text"),
    "modal close": (lambda n: modal(close=plain("c" * n)), 24, "/view/close/text"),
    "private_metadata": (lambda n: modal(private_metadata="m" * n), 3000, "/view/private_metadata"),
    "callback_id": (lambda n: modal(callback_id="c" * n), 255, "/view/callback_id"),
    "external_id": (lambda n: modal(external_id="e" * n), 255, "/view/external_id"),
    "input label": (lambda n: modal(blocks=[input_block(label=plain("l" * n))]), 2000, "/view/blocks/0/label/text"),
    "input hint": (lambda n: modal(blocks=[input_block(hint=plain("h" * n))]), 2000, "/view/blocks/0/hint/text"),
    "input placeholder": (lambda n: modal(blocks=[input_block(element={"placeholder": plain("p" * n)})]), 150,
                          "/view/blocks/0/element/placeholder/text"),
}


def refused(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


@pytest.mark.parametrize("name", list(MESSAGE_LIMITS))
def test_message_limit(name: str, client: WebClient):
    build, limit, pointer = MESSAGE_LIMITS[name]
    assert validate_blocks(build(limit)) == []
    assert client.chat_postMessage(channel=CH, text="at the limit", blocks=build(limit))["ok"]
    err = refused(lambda: client.chat_postMessage(channel=CH, text="one over", blocks=build(limit + 1)))
    assert err["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in err["errors"]), err["errors"]
    assert all(m.startswith("[ERROR] ") for m in err["response_metadata"]["messages"])


@pytest.mark.parametrize("name", list(VIEW_LIMITS))
def test_view_limit(name: str, slack: FakeSlack, client: WebClient):
    build, limit, pointer = VIEW_LIMITS[name]
    assert validate_view(build(limit)) == []
    assert client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=build(limit))["ok"]
    err = refused(lambda: client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=build(limit + 1)))
    assert err["error"] == "invalid_arguments"  # views answer invalid_arguments, not invalid_blocks
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in err["errors"]), err["errors"]


def test_section_text_wording_matches_slack(client: WebClient):
    err = refused(lambda: client.chat_postMessage(channel=CH, text="x", blocks=[section("&amp;" * 601)]))
    # counted as sent, i.e. after escaping: 601 escaped ampersands are 3,005 characters
    assert err["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]


def test_plain_text_input_lengths(slack: FakeSlack, client: WebClient):
    ok = modal(blocks=[input_block(element={"min_length": 0, "max_length": 3000})])
    assert client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=ok)["ok"]
    for bad in ({"max_length": 3001}, {"max_length": 0}, {"min_length": 3001}):
        errors = validate_view(modal(blocks=[input_block(element=bad)]))
        assert errors and "[json-pointer:/view/blocks/0/element/" in errors[0], bad


def test_message_text_truncated_past_40000_and_update_refused_past_4000(slack: FakeSlack, client: WebClient):
    ts = client.chat_postMessage(channel=CH, text="t" * 40_001)["ts"]
    assert len(slack.message(CH, ts)["text"]) == 40_000 and slack.calls_to("chat.postMessage")[-1]["args"]["truncated"]
    assert client.chat_update(channel=CH, ts=ts, text="u" * 4_000)["ok"]
    assert refused(lambda: client.chat_update(channel=CH, ts=ts, text="u" * 4_001))["error"] == "msg_too_long"


def test_view_too_large(slack: FakeSlack, client: WebClient):
    huge = modal(blocks=[section("x" * 2900) for _ in range(95)])  # ~280kb of JSON
    assert refused(lambda: client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=huge))["error"] == \
        "view_too_large"


def test_response_url_refuses_invalid_blocks_with_a_bare_400(slack: FakeSlack):
    hook = WebhookClient(slack.issue_response_url(CH, "U0REQUEST"))
    resp = hook.send(text="x", blocks=[section("x" * 3001)])
    assert resp.status_code == 400 and resp.body == "invalid_blocks"  # no detail, as real-world.md §2 says
    assert slack.ephemerals("U0REQUEST") == []
