"""The driver against a minimal slack_bolt App served over HTTP (Bolt's WSGI adapter under werkzeug),
its Web API client and respond() pointed at the fake."""
from __future__ import annotations

import threading
import time

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack
from sandbox.serving import LoopbackServer
from sandbox.slack_driver import SlackDriver

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CH = "C0FINANCE"


def section(text: str) -> dict:
    return {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": text}}


DECIDE = {
    "type": "actions",
    "block_id": "decide",
    "elements": [
        {"type": "button", "action_id": "approve", "style": "primary", "value": "job-1",
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": "reject", "style": "danger", "value": "job-1",
         "text": {"type": "plain_text", "text": "Reject"}},
    ],
}
PICK = {
    "type": "input",
    "block_id": "invoice",
    "dispatch_action": True,
    "label": {"type": "plain_text", "text": "Invoice"},
    "element": {"type": "external_select", "action_id": "pick", "min_query_length": 0,
                "placeholder": {"type": "plain_text", "text": "Search"}},
}
MODAL = {
    "type": "modal",
    "callback_id": "apply_modal",
    "title": {"type": "plain_text", "text": "Apply credit"},
    "submit": {"type": "plain_text", "text": "Apply"},
    "private_metadata": "job-1",
    "blocks": [PICK],
}


class Bot:
    """A minimal Bolt app recording what its listeners saw."""

    def __init__(self, slack: FakeSlack) -> None:
        self.seen: list[tuple[str, dict]] = []
        self.done = threading.Event()
        app = App(
            signing_secret=SECRET,
            client=WebClient(base_url=slack.api_url),
            authorize=lambda **_: AuthorizeResult(
                enterprise_id=None, team_id=slack.team_id, bot_token="xoxb-test",
                bot_id=slack.bot_id, bot_user_id=slack.bot_user_id,
            ),
        )

        @app.command("/applycredit")
        def command(ack, command, client, respond):
            ack(f"Looking up {command['text']}…")
            self.seen.append(("command", command))
            if command["text"] == "modal":
                client.views_open(trigger_id=command["trigger_id"], view=MODAL)
            elif command["text"] == "ephemeral":
                ok = {"type": "button", "action_id": "eph_ok", "value": "x",
                      "text": {"type": "plain_text", "text": "OK"}}
                actions = {"type": "actions", "block_id": "eph", "elements": [ok]}
                respond(text="Pick one", blocks=[section("Pick one"), actions])
            else:
                blocks = [section("Apply $10.00?"), DECIDE]
                try:
                    client.chat_postMessage(channel=command["channel_id"], text="Apply $10.00?", blocks=blocks)
                except SlackApiError:
                    # A listener that raises after ack() races Bolt: its error path resets the ack to None, and if
                    # Bolt's request thread looks only then (it polls every 10 ms) it answers 404 "unhandled
                    # request" (slack_bolt/listener/thread_runner.py). An app catches what it can after its ack.
                    self.seen.append(("post_refused", command))

        @app.action("approve")
        def approve(ack, body, client):
            ack()
            self.seen.append(("approve", body))
            c = body["container"]
            client.chat_update(channel=c["channel_id"], ts=c["message_ts"], text="Approved",
                               blocks=[section(f"Approved by <@{body['user']['id']}>")])
            client.chat_postMessage(channel=c["channel_id"], thread_ts=c["message_ts"], text="active")

        @app.action("eph_ok")
        def eph_ok(ack, body, respond):
            ack()
            self.seen.append(("eph_ok", body))
            respond(text="Done", replace_original=True)

        @app.action("pick")
        def pick(ack, body):
            ack()
            self.seen.append(("pick", body))

        @app.options("pick")
        def options(ack, body):
            found = ("10031", "10040")
            ack(options=[{"text": {"type": "plain_text", "text": f"#{n} {body['value']}"}, "value": n} for n in found])

        @app.view("apply_modal")
        def submit(ack, view, body):
            self.seen.append(("submit", body))
            selected = view["state"]["values"]["invoice"]["pick"].get("selected_option")
            if selected is None:
                ack(response_action="errors", errors={"invoice": "Pick an invoice"})
            else:
                ack()

        self.app = app
        self.server = LoopbackServer(SlackRequestHandler(app), name="minimal-bolt")
        self.url = f"http://127.0.0.1:{self.server.start()}/slack/events"

    def stop(self) -> None:
        self.server.stop()

    def kinds(self) -> list[str]:
        return [k for k, _ in self.seen]


@pytest.fixture
def bot(slack: FakeSlack):
    b = Bot(slack)
    yield b
    b.stop()


@pytest.fixture
def driver(slack: FakeSlack, bot: Bot) -> SlackDriver:
    # the driver signs with real time: Bolt's SignatureVerifier checks against the wall clock
    return SlackDriver(bot_url=bot.url, signing_secret=SECRET, slack=slack, team_id="T0SANDBOX", clock=time.time)


def test_sign_matches_slack_sdk(driver: SlackDriver):
    body = "token=x&text=Atomar%27s+Best+Tackle"
    headers = driver.sign(body, 1_700_000_000)
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    expected = SignatureVerifier(SECRET).generate_signature(timestamp="1700000000", body=body)
    assert headers["X-Slack-Signature"] == expected


def test_signed_command_reaches_listener(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    resp = driver.command(user="U0REQUEST", channel=CH, text="Atomar's Best Tackle", command="/applycredit")
    assert resp.status == 200 and resp.text == "Looking up Atomar's Best Tackle…"  # Bolt acks a string as text/plain
    assert resp.response_url.startswith(f"{slack.url}/response/") and resp.trigger_id
    [msg] = slack.wait_for(lambda s: s.messages(CH))
    kind, command = bot.seen[0]
    assert kind == "command" and command["user_id"] == "U0REQUEST" and command["channel_id"] == CH
    assert (command["user_name"], command["channel_name"], command["team_id"]) == ("requester", "finance", "T0SANDBOX")
    assert command["response_url"] == resp.response_url and command["trigger_id"] == resp.trigger_id
    assert msg["blocks"][1]["elements"][0]["action_id"] == "approve"
    # the ack body is shown to the requester, as Slack does
    assert [e["text"] for e in slack.ephemerals("U0REQUEST", CH)] == ["Looking up Atomar's Best Tackle…"]


def test_click_on_message_has_slack_container_and_updates(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    driver.command(user="U0REQUEST", channel=CH, text="Atomar's Best Tackle")
    [msg] = slack.wait_for(lambda s: s.messages(CH))
    resp = driver.click(user="U0APPROVE", action_id="approve", source=msg)
    assert resp.status == 200
    slack.wait_for(lambda s: s.thread(CH, msg["ts"]))
    body = dict(bot.seen)["approve"]
    assert (body["type"], body["user"]["id"], body["user"]["username"]) == ("block_actions", "U0APPROVE", "approver")
    assert body["container"] == {"type": "message", "message_ts": msg["ts"], "channel_id": CH, "is_ephemeral": False}
    assert body["channel"] == {"id": CH, "name": "finance"} and body["message"]["ts"] == msg["ts"]
    assert "channel" not in body["message"] and body["response_url"] == resp.response_url and body["trigger_id"]
    [action] = body["actions"]
    assert (action["action_id"], action["block_id"], action["type"]) == ("approve", "decide", "button")
    assert action["value"] == "job-1" and action["text"]["text"] == "Approve" and action["style"] == "primary"
    assert action["action_ts"] and body["state"] == {"values": {}}
    updated = slack.message(CH, msg["ts"])
    assert updated["text"] == "Approved" and len(updated["blocks"]) == 1  # the buttons are gone
    assert [m["text"] for m in slack.thread(CH, msg["ts"])] == ["active"]
    with pytest.raises(LookupError):
        driver.click(user="U0APPROVE", action_id="approve", source=updated)  # no button left to click


def test_click_on_ephemeral_has_no_message_and_replaces_it(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    driver.command(user="U0REQUEST", channel=CH, text="ephemeral")
    eph = slack.wait_for(lambda s: [e for e in s.ephemerals("U0REQUEST", CH) if e["text"] == "Pick one"])[0]
    driver.click(user="U0REQUEST", action_id="eph_ok", source=eph)
    slack.wait_for(lambda s: any(e["text"] == "Done" for e in s.ephemerals("U0REQUEST", CH)))
    body = dict(bot.seen)["eph_ok"]
    assert body["container"]["is_ephemeral"] is True and body["container"]["message_ts"] == eph["ts"]
    assert "message" not in body
    # replaced in place, not added (the ack's text and the listener's post race, as with Slack: no order)
    texts = sorted(e["text"] for e in slack.ephemerals("U0REQUEST", CH))
    assert texts == ["Done", "Looking up ephemeral…"]


def test_modal_options_click_and_submission(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    driver.command(user="U0REQUEST", channel=CH, text="modal")
    [view] = slack.wait_for(lambda s: s.views("U0REQUEST")["modals"])
    assert view["callback_id"] == "apply_modal"

    opts = driver.options(user="U0REQUEST", action_id="pick", value="100", source=view)
    assert opts.status == 200 and [o["value"] for o in opts.json()["options"]] == ["10031", "10040"]

    choice = opts.json()["options"][1]
    assert driver.click(user="U0REQUEST", action_id="pick", source=view, selected_option=choice).status == 200
    slack.wait_for(lambda s: "pick" in bot.kinds())
    body = dict(bot.seen)["pick"]
    assert body["container"] == {"type": "view", "view_id": view["id"]} and "message" not in body
    assert body["actions"][0]["selected_option"] == choice and body["actions"][0]["type"] == "external_select"
    assert body["view"]["state"]["values"]["invoice"]["pick"]["selected_option"] == choice

    empty = {"invoice": {"pick": {"type": "external_select", "selected_option": None}}}
    resp = driver.submit_view(user="U0REQUEST", view=view, values=empty)
    assert resp.json() == {"response_action": "errors", "errors": {"invoice": "Pick an invoice"}}
    [still_open] = slack.views("U0REQUEST")["modals"]
    assert still_open["validation_errors"] == {"invoice": "Pick an invoice"}

    values = {"invoice": {"pick": {"type": "external_select", "selected_option": choice}}}
    resp = driver.submit_view(user="U0REQUEST", view=view, values=values)
    assert resp.status == 200 and resp.text == ""
    sub = bot.seen[-1][1]
    assert sub["type"] == "view_submission" and sub["view"]["private_metadata"] == "job-1"
    assert sub["view"]["state"]["values"]["invoice"]["pick"]["selected_option"]["value"] == "10040"
    assert slack.views("U0REQUEST")["modals"] == []  # an empty ack closes the modal


def test_bad_signature_and_old_timestamp_are_refused(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    wrong = driver.command(user="U0REQUEST", channel=CH, text="x", signature="v0=" + "0" * 64)
    assert wrong.status == 401
    old = driver.command(user="U0REQUEST", channel=CH, text="x", timestamp=time.time() - 600)
    assert old.status == 401
    other_secret = SlackDriver(bot_url=bot.url, signing_secret="not-the-secret", slack=slack)
    assert other_secret.command(user="U0REQUEST", channel=CH, text="x").status == 401
    body = "token=x&team_id=T0SANDBOX&channel_id=C0FINANCE&user_id=U0REQUEST&command=%2Fapplycredit&text=x"
    assert driver.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    ts = int(time.time())
    tampered = {**driver.sign(body, ts), "Content-Type": "application/x-www-form-urlencoded"}
    assert driver.post_raw(body + "&user_id=U0EVIL", tampered).status == 401
    assert driver.post_raw(body, tampered).status == 200  # the untampered body passes
    slack.wait_for(lambda s: s.messages(CH))
    assert bot.kinds() == ["command"]  # only the correctly signed request reached a listener


def test_command_from_a_channel_the_bot_is_not_in(slack: FakeSlack, bot: Bot, driver: SlackDriver):
    # real-world.md §1: the command reaches the app, only its chat.* calls fail there
    resp = driver.command(user="U0REQUEST", channel="C0ELSEWHERE", text="Atomar's Best Tackle")
    assert resp.status == 200
    failed = slack.wait_for(lambda s: s.calls_to("chat.postMessage"), timeout=20)[-1]
    assert failed["error"] == "not_in_channel" and slack.messages("C0ELSEWHERE") == []
    # the ack's text still reaches the requester: it does not need the bot in the channel
    assert [e["text"] for e in slack.ephemerals("U0REQUEST", "C0ELSEWHERE")] == ["Looking up Atomar's Best Tackle…"]
