"""A whole running world for scenario tests: both emulators, the fake Slack, and the real bot.

Requests reach the bot exactly as Slack sends them (signed, form-encoded) through the SlackDriver: by default
in-process (`App.dispatch(BoltRequest(...))`, what Bolt's HTTP adapters call after reading the socket), or
over HTTP / Socket Mode when a test is about that path (transport="http" | "socket").
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest

from bot import Bot, Overrides
from config import Settings
from integrations.http import RateLimiter, RetryPolicy
from sandbox.cb_sync import SyncTiming
from sandbox.run import APPROVER, APPROVER_2, CALLBACK, CHANNEL, NOTIFY, OUTSIDER, REQUESTER, Sandbox
from sandbox.serving import free_port
from sandbox.slack_driver import SlackDriver

__all__ = ["World", "dispatcher", "has_buttons", "BOTH_TRANSPORTS", "REQUESTER", "APPROVER", "APPROVER_2", "OUTSIDER", "CHANNEL", "NOTIFY"]


APP_TOKEN = "xapp-1-A0SANDBOX-1-scenario"
# A scenario module runs its stories over both ways Slack reaches the bot with: pytestmark = BOTH_TRANSPORTS
BOTH_TRANSPORTS = pytest.mark.parametrize("world", ["http", "socket"], indirect=True)


# A whole sync in 0.12 s and a resync in 0.05 s, still a few 0.05 s polls long (SyncTiming.fast() takes 0.25 s).
# A story about what the thread shows of each stage, or one that needs a sync still running, sets its own timing.
QUICK_SYNC = SyncTiming(to_active=0.02, psa_seconds=0.05, accounting_seconds=0.05, resync_seconds=0.05)
# The fake Slack enforces Slack's documented rate tiers, its rate clock 20 times faster than the wall's, and the
# bot's pacer runs 20 times faster too: the same limits, in proportion, at a twentieth of the wait.
SLACK_SCALE = 20.0


def fast_retry() -> RetryPolicy:
    """Real retry logic with sleeps recorded instead of slept (tests assert on `waits`)."""
    return RetryPolicy(attempts=3, sleep=lambda s: None, jitter=lambda a, b: b)


def fast_limiter() -> RateLimiter:
    """The real client-side limiter, paced far above QuickBooks' 10/s: a world's QuickBooks emulator enforces no
    rate (Sandbox(limits=None)), so at 9/s it only made every sweep and picker wait. Pacing itself is tested in
    tests/unit/test_rate_limiter_slot.py and measured by bench/throughput.py; the real-process bots keep 9/s."""
    return RateLimiter(per_second=200, per_minute=9000)


class World:
    def __init__(self, tmp_path, *, settings: dict | None = None, overrides: dict | None = None, prepare=None,
                 timing=None, transport: str = "inprocess", qbo_clock=None, slack_scale: float = SLACK_SCALE) -> None:
        """`prepare(ledger)` adds QuickBooks records before ConnectBooster's first sync; `timing` its sync timing;
        `transport` how Slack reaches the bot: "inprocess" (signed requests handed to `app.dispatch`), "http"
        (signed POSTs to the bot's own HTTP server, which also receives QuickBooks' OAuth redirect) or "socket"
        (Socket Mode envelopes); `qbo_clock` the QuickBooks emulator's clock (pass the same as
        overrides["token_clock"] to move token lifetimes); `slack_scale` how much faster the fake Slack's rate
        clock and the bot's pacer run (SLACK_SCALE)."""
        self.transport = transport
        self._socket = None
        self.sandbox = Sandbox(fast=True, prepare=prepare, timing=timing or QUICK_SYNC, qbo_clock=qbo_clock,
                               slack_scale=slack_scale)
        self.qbo, self.cb, self.slack = self.sandbox.qbo, self.sandbox.cb, self.sandbox.slack
        # No change data capture unless a story turns it on (tests/scenarios/credits.py): a watcher reading
        # QuickBooks in the background would be in every other story's request counts.
        self.port = free_port() if transport == "http" else 0  # known first: it is in QBO_REDIRECT_URI
        base = Settings(sandbox=True, database_path=str(tmp_path / "bot.db"), sync_poll_seconds=0.05,
                        sync_timeout_seconds=20.0, qbo_cdc_poll_seconds=0,
                        qbo_redirect_uri=f"http://127.0.0.1:{self.port}{CALLBACK}")
        socket = {"slack_app_token": APP_TOKEN} if transport == "socket" else {}  # as `make run` would be set up
        self.settings = replace(self.sandbox.settings(base), **{**socket, **(settings or {})})
        self.qbo_retry, self.cb_retry = fast_retry(), fast_retry()
        opts = {"qbo_retry": self.qbo_retry, "cb_retry": self.cb_retry, "qbo_limiter": fast_limiter(),
                "outbox_idle_seconds": 0.05, "http_timeout": 2.0, "slack_pace_scale": slack_scale,
                **(overrides or {})}
        self.bot = self._start_bot(Overrides(**opts))

    def _start_bot(self, overrides: Overrides) -> Bot:
        bot = Bot(self.settings, overrides)
        bot.start()
        self.overrides = overrides
        if self.transport == "socket":  # what `make run` does when SLACK_APP_TOKEN is set
            self._socket = SocketModeHandler(bot.app, APP_TOKEN)
            self._socket.connect()
            self.driver = SlackDriver(bot_url="", signing_secret=self.settings.slack_signing_secret, slack=self.slack,
                                      transport="socket")
            return bot
        if self.transport == "inprocess":  # no server: the driver's signed requests go straight to Bolt
            self.driver = SlackDriver(bot_url="", signing_secret=self.settings.slack_signing_secret, slack=self.slack,
                                      transport="inprocess", dispatch=dispatcher(bot.app))
            return bot
        server = bot.serve_http(self.port, host="127.0.0.1")
        self.driver = SlackDriver(bot_url=f"http://127.0.0.1:{server.effective_port}/slack/events",
                                  signing_secret=self.settings.slack_signing_secret, slack=self.slack)
        return bot

    def _close_socket(self) -> None:
        if self._socket is not None:  # slack-sdk's close waits ~3 s for its threads: don't make the test wait
            threading.Thread(target=self._socket.close, daemon=True).start()
            self._socket = None

    def restart(self) -> None:
        """Stop the bot and start a new one on the same database (what a process restart does)."""
        self._close_socket()
        self.bot.stop()
        self.bot = self._start_bot(self.overrides)

    def close(self) -> None:
        self._close_socket()
        self.bot.stop()
        self.sandbox.stop()

    # -- the conversation ------------------------------------------------------------------------
    def open_picker(self, text: str = "Atomar's Best Tackle", user: str = REQUESTER, channel: str = CHANNEL) -> dict:
        """Run the command and wait until the modal shows something other than 'Looking up…'."""
        # The command returns at ack(), before the listener's views.open: a modal the user still has open from
        # an earlier request must not be taken for this one.
        earlier = {v["id"] for v in self.slack.views(user)["modals"]}
        resp = self.driver.command(user, channel, text)
        assert resp.status == 200, resp.text
        return self.slack.wait_for(lambda s: self._settled_view(user, earlier))

    def _settled_view(self, user: str, earlier: set[str] = frozenset()) -> dict | None:
        modals = [v for v in self.slack.views(user)["modals"] if v["id"] not in earlier]
        if not modals:
            return None
        view = modals[-1]
        text = str(view.get("blocks"))
        return None if "Looking up" in text else view

    def submit(self, view: dict, *, user: str = REQUESTER, credit: str | None = None, invoice: str | None = None,
               amount: str | None = None, note: str | None = None):
        """Submit the picker; `invoice` is an invoice number, `credit` a credit key; None keeps the defaults."""
        values = {}
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        if credit is not None:
            values["credit"] = {"credit": {"type": "static_select", "selected_option": _option(blocks["credit"], credit)}}
        if invoice is not None:
            values["invoice"] = {"invoice": {"type": blocks["invoice"]["element"]["type"],
                                             "selected_option": self._invoice_option(view, blocks["invoice"], invoice)}}
        if amount is not None:
            values["amount"] = {"amount": {"type": "plain_text_input", "value": amount}}
        if note is not None:
            values["note"] = {"note": {"type": "plain_text_input", "value": note}}
        return self.driver.submit_view(user, view, values)

    def _invoice_option(self, view: dict, block: dict, number: str) -> dict:
        element = block["element"]
        options = element.get("options")
        if options is None:  # external select: ask the bot, as Slack does while the user types
            options = self.driver.options(user=REQUESTER, action_id="invoice", block_id="invoice", value=number,
                                          source=view).json()["options"]
        return next(o for o in options if o["text"]["text"].startswith(f"{number} "))

    def request(self, text: str = "Atomar's Best Tackle", **choices) -> int:
        """Open the picker, submit, and return the new job id (waits for the approval message)."""
        user = choices.pop("user", REQUESTER)
        channel = choices.pop("channel", CHANNEL)
        wait = choices.pop("wait_parent", True)
        view = self.open_picker(text, user=user, channel=channel)
        resp = self.submit(view, user=user, **choices)
        assert resp.status == 200, resp.text
        body = resp.json() or {}
        assert body.get("response_action") == "update", body
        job_id = int(str(body["view"]["blocks"]).split("Request #")[1].split(" ")[0])
        if wait:
            self.parent(job_id)
        return job_id

    def job(self, job_id: int):
        return self.bot.store.get(job_id)

    def parent(self, job_id: int, timeout: float = 5) -> dict:
        job = self.slack.wait_for(lambda s: (j := self.job(job_id)) is not None and j.parent_ts and j, timeout)
        return self.slack.message(job.channel_id, job.parent_ts)

    def click(self, job_id: int, action_id: str, user: str):
        return self.driver.click(user, action_id, source=self.parent(job_id))

    def approve(self, job_id: int, user: str = APPROVER):
        return self.click(job_id, "approve", user)

    def wait_state(self, job_id: int, *states: str, timeout: float = 10):
        return self.slack.wait_for(lambda s: (j := self.job(job_id)).state in states and j, timeout)

    def thread(self, job_id: int) -> list[str]:
        job = self.job(job_id)
        return [m.get("text", "") for m in self.slack.thread(job.channel_id, job.parent_ts)]

    def wait_thread(self, job_id: int, fragment: str, timeout: float = 10) -> list[str]:
        return self.slack.wait_for(lambda s: any(fragment in t for t in self.thread(job_id)) and self.thread(job_id),
                                   timeout)

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.get("text", "") for e in self.slack.ephemerals(user)]

    def payments_on(self, invoice_id: str) -> list[dict]:
        """QuickBooks payments with a line linked to this invoice."""
        return [p for p in self.qbo.ledger.list("Payment")
                if any(link.get("TxnType") == "Invoice" and link.get("TxnId") == invoice_id
                       for line in p.get("Line", []) for link in line.get("LinkedTxn", []))]

    def invoice_balance(self, invoice_id: str) -> Decimal:
        return Decimal(str(self.qbo.ledger.get("Invoice", invoice_id)["Balance"]))


def dispatcher(app: App):
    """The driver's in-process transport: Bolt's own request/response types, as its scenario tests use them."""
    def dispatch(body: str, headers: dict) -> tuple[int, str, dict]:
        # Like the HTTP adapters: dispatch returns at ack() (or after Bolt's 3 s wait); the listener may go on.
        resp = app.dispatch(BoltRequest(body=body, headers=headers))
        return resp.status, resp.body, resp.first_headers()

    return dispatch


def has_buttons(message: dict) -> bool:
    """True while the message still offers Approve/Reject."""
    return any(b.get("type") == "actions" for b in message.get("blocks", []))


def _option(block: dict, value: str) -> dict:
    return next(o for o in block["element"]["options"] if o["value"] == value)


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def mrkdwn_texts(node) -> list[str]:
    """Every mrkdwn text in a block tree (plain_text never formats mentions, so only these can ping)."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for v in node.values() for t in mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in mrkdwn_texts(v)]
    return []
