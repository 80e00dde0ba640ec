"""Block ids as Slack gives them (a block sent without `block_id` gets one of Slack's, stored, returned and sent back in
interaction payloads) and views' `hash` ([DOC] api.slack.com/methods/views.update: `hash_conflict`)."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.console.page import modal_html
from sandbox.console.server import Console
from sandbox.fake_slack import FakeSlack
from sandbox.slack_driver import SlackDriver

CH = "C0FINANCE"


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def apply_row(client_name: str, value: str) -> dict:
    """One credit inbox row: the same action_id in every row, no block_id (as the bot's inbox sends them)."""
    button = {"type": "button", "action_id": "inbox_apply", "value": value,
              "text": {"type": "plain_text", "text": "Apply…"}}
    return section(f"*{client_name}*", accessory=button)


def ids(blocks: list[dict]) -> list[str]:
    return [b["block_id"] for b in blocks]


def stale(call) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data["error"]


# ---- messages ---------------------------------------------------------------------------------------


def test_a_message_posted_without_block_ids_comes_back_with_slacks(slack: FakeSlack, client: WebClient):
    sent = [section("one"), section("two", block_id="mine"), {"type": "divider"}, apply_row("Atomar", "11261")]
    posted = client.chat_postMessage(channel=CH, text="x", blocks=sent)
    stored = slack.message(CH, posted["ts"])["blocks"]
    assert ids(posted["message"]["blocks"]) == ids(stored)  # the answer and the message agree
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]{3,5}", i) for i in ids(stored) if i != "mine")
    assert len(set(ids(stored))) == 4 and ids(stored)[1] == "mine"  # unique; the app's own id kept
    assert "block_id" not in sent[0]  # the caller's blocks are not touched


def test_an_update_replaces_the_ids_of_blocks_sent_without(slack: FakeSlack, client: WebClient):
    ts = client.chat_postMessage(channel=CH, text="x", blocks=[section("pending"), section("keep", block_id="k")])["ts"]
    before = ids(slack.message(CH, ts)["blocks"])
    answer = client.chat_update(channel=CH, ts=ts, text="y", blocks=[section("approved"), section("keep", block_id="k")])
    after = ids(slack.message(CH, ts)["blocks"])
    assert ids(answer["message"]["blocks"]) == after and after[1] == before[1] == "k"
    assert after[0] and after[0] != before[0]  # a new block, a new id


def test_ephemerals_and_response_url_messages_get_ids_too(slack: FakeSlack, client: WebClient):
    client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="x", blocks=[section("only you")])
    WebhookClient(slack.issue_response_url(CH, "U0APPROVE")).send(text="y", blocks=[section("via url")])
    [eph] = slack.ephemerals("U0REQUEST")
    [via_url] = slack.ephemerals("U0APPROVE")
    assert eph["blocks"][0]["block_id"] and via_url["blocks"][0]["block_id"]


# ---- views and App Home -----------------------------------------------------------------------------


def amount_input(**extra) -> dict:
    return {"type": "input", "label": {"type": "plain_text", "text": "Amount"},
            "element": {"type": "plain_text_input", "action_id": "amount", "initial_value": "10"}, **extra}


def modal(*blocks: dict, title: str = "Apply credit") -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Apply"}, "blocks": list(blocks)}


def test_views_get_ids_and_state_is_keyed_by_them(slack: FakeSlack, client: WebClient):
    view = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal(amount_input()))["view"]
    [block_id] = ids(view["blocks"])
    assert view["state"]["values"] == {block_id: {"amount": {"type": "plain_text_input", "value": "10"}}}
    slack.set_view_state(view["id"], {block_id: {"amount": {"type": "plain_text_input", "value": "25"}}})
    # the same input sent again without an id is a new block: what the user typed is not carried over
    # ([DOC] views.update: keep input "with identical block_id and action_id values")
    again = client.views_update(view_id=view["id"], view=modal(amount_input()))["view"]
    assert ids(again["blocks"]) != [block_id] and list(again["state"]["values"].values())[0]["amount"]["value"] == "10"
    home = client.views_publish(user_id="U0REQUEST", view={"type": "home", "blocks": [section("Home")]})["view"]
    assert home["blocks"][0]["block_id"] and slack.views("U0REQUEST")["home"]["blocks"] == home["blocks"]


# ---- views' hash ------------------------------------------------------------------------------------


def test_every_view_answer_has_a_new_hash(slack: FakeSlack, client: WebClient):
    opened = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal(section("a")))["view"]
    updated = client.views_update(view_id=opened["id"], view=modal(section("b")))["view"]
    pushed = client.views_push(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal(section("c")))["view"]
    home1 = client.views_publish(user_id="U0REQUEST", view={"type": "home", "blocks": []})["view"]
    home2 = client.views_publish(user_id="U0REQUEST", view={"type": "home", "blocks": []})["view"]
    hashes = [v["hash"] for v in (opened, updated, pushed, home1, home2)]
    assert all(hashes) and len(set(hashes)) == 5
    assert slack.view(opened["id"])["hash"] == updated["hash"]  # the stored view carries the latest


def test_views_update_with_a_stale_hash_changes_nothing(slack: FakeSlack, client: WebClient):
    opened = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal(title="Loading"))["view"]
    current = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(title="Pick"))["view"]
    assert stale(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(title="Late")))\
        == "hash_conflict"
    assert slack.view(opened["id"])["title"]["text"] == "Pick" and slack.view(opened["id"])["hash"] == current["hash"]
    # without a hash the update applies, whatever came in between
    assert client.views_update(view_id=opened["id"], view=modal(title="Forced"))["view"]["title"]["text"] == "Forced"
    home = client.views_publish(user_id="U0REQUEST", view={"type": "home", "blocks": []})["view"]
    client.views_publish(user_id="U0REQUEST", view={"type": "home", "blocks": [section("new")]})
    assert stale(lambda: client.views_publish(user_id="U0REQUEST", hash=home["hash"],
                                              view={"type": "home", "blocks": []})) == "hash_conflict"


# ---- the id in interaction payloads -----------------------------------------------------------------


@pytest.fixture
def received(slack: FakeSlack, clock):
    """A SlackDriver whose payloads land in a list (in-process transport, no bot)."""
    payloads: list[dict] = []

    def dispatch(body: str, headers: dict) -> tuple[int, str, dict]:
        payloads.append(json.loads(parse_qs(body)["payload"][0]))
        return 200, "", {}

    driver = SlackDriver("http://bot.invalid", "secret", slack, clock=clock, transport="inprocess", dispatch=dispatch)
    return SimpleNamespace(driver=driver, payloads=payloads)


def test_a_click_carries_the_block_id_slack_gave(slack: FakeSlack, client: WebClient, received):
    ts = client.chat_postMessage(channel=CH, text="inbox", blocks=[apply_row("Atomar", "11261"),
                                                                  apply_row("Reel Deal", "11262")])["ts"]
    message = slack.message(CH, ts)
    second = message["blocks"][1]["block_id"]
    assert received.driver.click("U0REQUEST", "inbox_apply", source=message, block_id=second).ok
    [payload] = received.payloads
    assert payload["actions"][0]["block_id"] == second and payload["actions"][0]["value"] == "11262"
    assert ids(payload["message"]["blocks"]) == ids(message["blocks"])


def test_the_console_sends_the_id_it_rendered(slack: FakeSlack, client: WebClient, received):
    """The credit inbox's Apply… on the second row: the console must find that row ("That control is gone"
    was the answer while blocks had no ids)."""
    view = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"),
                             view=modal(apply_row("Atomar", "11261"), apply_row("Reel Deal", "11262")))["view"]
    html = modal_html(slack.view(view["id"]), {}, {})
    rendered = re.findall(r'data-action-id="inbox_apply" data-block-id="([^"]*)"', html)
    assert rendered == ids(view["blocks"])
    console = Console(SimpleNamespace(slack=slack), received.driver, channel=CH, notify="C0NOTICES", users={})
    body = {"kind": "view", "view_id": view["id"], "action_id": "inbox_apply", "block_id": rendered[1]}
    assert console.action("U0REQUEST", body) == {"ok": True}
    assert received.payloads[-1]["actions"][0]["block_id"] == rendered[1]
    assert received.payloads[-1]["actions"][0]["value"] == "11262"
