"""Socket Mode against a real slack_bolt App and slack-sdk's built-in SocketModeHandler (real-world.md §3).

The app's WebClient points at the fake, so `apps.connections.open` and the WebSocket are the fake's; the
SlackDriver with transport="socket" plays Slack's side and reads the acks.
"""
from __future__ import annotations

import threading
import time

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack
from sandbox.slack_driver import SlackDriver

CH = "C0FINANCE"
APP_TOKEN = "xapp-1-A0SANDBOX-1-secret"
MODAL = {"type": "modal", "callback_id": "apply_modal", "title": {"type": "plain_text", "text": "Apply credit"},
         "submit": {"type": "plain_text", "text": "Apply"},
         "blocks": [{"type": "input", "block_id": "amount", "label": {"type": "plain_text", "text": "Amount"},
                     "element": {"type": "plain_text_input", "action_id": "amount"}}]}


def build_app(slack: FakeSlack) -> App:
    """A minimal Bolt app: its Web API calls (apps.connections.open included) go to the fake."""
    app = App(client=WebClient(base_url=slack.api_url), signing_secret="unused-in-socket-mode",
              authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id=slack.team_id, bot_token="xoxb-test",
                                                    bot_id=slack.bot_id, bot_user_id=slack.bot_user_id))

    @app.command("/applycredit")
    def command(ack, command):
        ack(f"Looking up {command['text']}…")

    @app.view("apply_modal")
    def submit(ack, view):
        if not view["state"]["values"]["amount"]["amount"].get("value"):
            ack(response_action="errors", errors={"amount": "Enter an amount"})
        else:
            ack()

    @app.options("pick")
    def options(ack, body):
        ack(options=[{"text": {"type": "plain_text", "text": f"#{n} {body['value']}"}, "value": n}
                     for n in ("10031", "10040")])

    @app.action("approve")
    def approve(ack):
        ack()

    @app.command("/silent")
    def silent(ack):  # never acks: Bolt then sends no ack at all (real-world.md §3, "non-200")
        pass

    return app


@pytest.fixture(scope="module")
def connected():
    """One fake and one connected app for the module: slack-sdk needs ~3 s to close a handler."""
    fake = FakeSlack(ack_timeout=1.0, connect_wait=5.0)
    fake.start(port=0)
    fake.add_user("U0REQUEST", "requester", "Rita Requester")
    fake.add_channel(CH, "finance")
    h = SocketModeHandler(build_app(fake), APP_TOKEN, ping_interval=1)
    h.connect()
    assert fake.socket.wait_connected(5)
    yield fake, h
    close_later(h)  # xdist may spread the module over workers: each would wait out the ~3 s close
    fake.stop()


@pytest.fixture
def slack(connected) -> FakeSlack:
    return connected[0]


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url, timeout=5)


@pytest.fixture
def driver(slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot_url="", signing_secret="", slack=slack, transport="socket")


def close_later(h: SocketModeHandler) -> None:
    """Close a second handler without waiting out slack-sdk's ~3 s shutdown."""
    threading.Thread(target=h.close, daemon=True).start()


def frames(slack: FakeSlack, direction: str, type_: str | None = None) -> list[dict]:
    return [f for f in list(slack.socket.frames) if f["dir"] == direction and (type_ is None or f.get("type") == type_)]


def test_hello_first_with_connection_details(slack: FakeSlack):
    first = frames(slack, "out")[0]
    assert first["type"] == "hello" and first["num_connections"] == 1
    assert first["connection_info"] == {"app_id": "A0SANDBOX"} and first["debug_info"]["approximate_connection_time"]
    assert slack.calls_to("apps.connections.open")[0]["ok"]


def test_slash_command_acked_with_text(slack: FakeSlack, driver: SlackDriver):
    resp = driver.command(user="U0REQUEST", channel=CH, text="Atomar's Best Tackle")
    assert resp.status == 200 and resp.json() == {"text": "Looking up Atomar's Best Tackle…"}
    envelope = frames(slack, "out", "slash_commands")[-1]
    assert envelope["accepts_response_payload"] is True and envelope["payload"]["command"] == "/applycredit"
    assert envelope["payload"]["response_url"] == resp.response_url and envelope["envelope_id"]
    # Slack shows the ack's text to the requester, as over HTTP
    assert [e["text"] for e in slack.ephemerals("U0REQUEST", CH)][-1] == "Looking up Atomar's Best Tackle…"


def test_view_submission_errors_come_back_to_the_driver(slack: FakeSlack, driver: SlackDriver, client: WebClient):
    view = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=MODAL)["view"]
    resp = driver.submit_view(user="U0REQUEST", view=view, values={"amount": {"amount": {"type": "plain_text_input",
                                                                                         "value": ""}}})
    assert resp.status == 200 and resp.json() == {"response_action": "errors", "errors": {"amount": "Enter an amount"}}
    assert slack.views("U0REQUEST")["modals"][0]["validation_errors"] == {"amount": "Enter an amount"}
    ok = driver.submit_view(user="U0REQUEST", view=view, values={"amount": {"amount": {"type": "plain_text_input",
                                                                                       "value": "10"}}})
    assert ok.status == 200 and ok.text == "" and slack.views("U0REQUEST")["modals"] == []


def test_block_suggestion_acked_with_options(driver: SlackDriver):
    resp = driver.options(user="U0REQUEST", action_id="pick", block_id="invoice", value="100")
    assert resp.status == 200 and [o["value"] for o in resp.json()["options"]] == ["10031", "10040"]


def test_block_actions_and_events_are_acked_without_payload(slack: FakeSlack, driver: SlackDriver, client: WebClient):
    msg = client.chat_postMessage(channel=CH, text="Approve?", blocks=[{"type": "actions", "elements": [
        {"type": "button", "action_id": "approve", "value": "1", "text": {"type": "plain_text", "text": "Approve"}}]}])
    resp = driver.click(user="U0REQUEST", action_id="approve", source=slack.message(CH, msg["ts"]))
    assert resp.status == 200 and resp.text == ""
    assert frames(slack, "out", "interactive")[-1]["accepts_response_payload"] is False
    unheard = driver.event({"type": "app_home_opened", "user": "U0REQUEST", "tab": "home"})
    assert unheard.status == 504  # no listener: Bolt sends no ack (real-world.md §3)
    envelope = frames(slack, "out", "events_api")[-1]
    assert envelope["retry_attempt"] == 0 and envelope["payload"]["type"] == "event_callback"


def test_disconnect_refresh_requested_loses_nothing(slack: FakeSlack, driver: SlackDriver):
    opened = len(slack.calls_to("apps.connections.open"))
    assert slack.socket.disconnect("refresh_requested") == 1
    resp = driver.command(user="U0REQUEST", channel=CH, text="after the refresh")  # waits for the new socket
    assert resp.status == 200 and resp.json() == {"text": "Looking up after the refresh…"}
    assert len(slack.calls_to("apps.connections.open")) > opened  # slack-sdk asked for a new URL
    assert frames(slack, "out", "disconnect")[-1]["reason"] == "refresh_requested"
    again = driver.command(user="U0REQUEST", channel=CH, text="and again")
    assert again.status == 200 and again.json() == {"text": "Looking up and again…"}


def test_periodic_refresh_is_off_unless_asked(slack: FakeSlack):
    assert slack.socket.refresh_interval is None
    fake = FakeSlack(refresh_interval=0.2)
    fake.start()
    h = SocketModeHandler(build_app(fake), APP_TOKEN)
    try:
        h.connect()
        fake.wait_for(lambda s: len(s.calls_to("apps.connections.open")) >= 2, timeout=5)
        fake.socket.refresh_interval = None  # one refresh is enough to see
        assert frames(fake, "out", "disconnect")[0]["reason"] == "refresh_requested"
    finally:
        close_later(h)
        fake.stop()


def test_unacked_command_is_a_timeout_the_user_sees(slack: FakeSlack, driver: SlackDriver):
    started = time.monotonic()
    resp = driver.command(user="U0REQUEST", channel=CH, text="x", command="/silent")
    assert resp.status == 504 and resp.extra["error"] == "ack_timeout" and time.monotonic() - started < 3
    shown = slack.ephemerals("U0REQUEST", CH)[-1]
    assert shown["text"] == '/silent failed with the error "operation_timeout"' and shown["user"] == "USLACKBOT"


def test_bot_token_refused_by_apps_connections_open(slack: FakeSlack):
    err = pytest.raises(SlackApiError, WebClient(base_url=slack.api_url).apps_connections_open, app_token="xoxb-bot")
    assert err.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as info:  # and the app token does not work for the Web API
        WebClient(token=APP_TOKEN, base_url=slack.api_url).chat_postMessage(channel=CH, text="x")
    assert info.value.response["error"] == "not_allowed_token_type"


def test_no_app_connected_fails_clearly():
    fake = FakeSlack(connect_wait=0.1)
    fake.start()
    try:
        fake.add_user("U0REQUEST", "requester")
        with pytest.raises(ConnectionError, match="no app is connected"):
            SlackDriver(bot_url="", signing_secret="", slack=fake, transport="socket").command("U0REQUEST", CH, "x")
    finally:
        fake.stop()


def test_a_ticket_opens_one_connection(slack: FakeSlack):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = WebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    with connect(url) as ws:
        assert '"hello"' in ws.recv(timeout=2)
    with pytest.raises(InvalidStatus):
        connect(url)
