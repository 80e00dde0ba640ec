"""`make run` with no credentials: the emulators, a fake Slack, and the bot wired to them.

Everything listens on 127.0.0.1. Connection details go to data/sandbox.json (git-ignored) so that
the browser console can find the running bot.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import replace
from pathlib import Path

from sandbox import seed
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.fake_slack import FakeSlack
from sandbox.qbo_emulator import QBOEmulator

REQUESTER, APPROVER, APPROVER_2, OUTSIDER = "U0REQUEST", "U0APPROVE", "U0APPROVE2", "U0OUTSIDE"
CHANNEL, NOTIFY = "C0FINANCE", "C0NOTIFY"
QBO_CLIENT_ID, QBO_CLIENT_SECRET = "sandbox-client-id", "sandbox-client-secret"
INFO_PATH = Path("data/sandbox.json")


class Sandbox:
    """The three fakes, started together."""

    def __init__(self, *, fast: bool = False) -> None:
        self.qbo = QBOEmulator(realm_id=seed.REALM_ID, client_id=QBO_CLIENT_ID, client_secret=QBO_CLIENT_SECRET)
        self.qbo.start(port=0)
        self.cb = ConnectBoosterEmulator(qbo=self.qbo.ledger, timing=SyncTiming.fast() if fast else SyncTiming())
        self.cb.start(port=0)
        self.slack = FakeSlack()
        self.slack_api = self.slack.start(port=0)
        for user, name in ((REQUESTER, "riley.requester"), (APPROVER, "avery.approver"),
                           (APPROVER_2, "alex.approver"), (OUTSIDER, "sam.someone")):
            self.slack.add_user(user, name)
        self.signing_secret = secrets.token_hex(16)
        self.bot_url = ""

    def settings(self, base) -> object:
        tokens = self.qbo.mint_tokens()
        return replace(
            base, slack_bot_token="xoxb-sandbox", slack_signing_secret=self.signing_secret, slack_app_token="",
            slack_api_url=self.slack_api, qbo_client_id=QBO_CLIENT_ID, qbo_client_secret=QBO_CLIENT_SECRET,
            qbo_environment=self.qbo.discovery_url, qbo_realm_id=seed.REALM_ID, qbo_refresh_token=tokens["refresh_token"],
            qbo_api_base_url=self.qbo.base_url, connectbooster_base_url=self.cb.base_url,
            connectbooster_api_key=self.cb.api_key, approver_ids=(APPROVER, APPROVER_2), notify_channel=NOTIFY,
        )

    def attach(self, bot, port: int) -> None:
        """Remember where the bot listens, write data/sandbox.json, and print how to drive it."""
        self.bot_url = f"http://127.0.0.1:{port}/slack/events"
        INFO_PATH.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(INFO_PATH, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"bot_url": self.bot_url, "signing_secret": self.signing_secret, "slack_url": self.slack.url,
                       "qbo_url": self.qbo.base_url, "cb_url": self.cb.base_url, "channel": CHANNEL,
                       "notify_channel": NOTIFY, "requester": REQUESTER, "approver": APPROVER}, f)
        print(banner(self))

    def repl(self) -> None:
        """Read terminal commands until EOF or `quit` (see sandbox/terminal.py)."""
        from sandbox.slack_driver import SlackDriver
        from sandbox.terminal import Terminal

        terminal = Terminal(self, SlackDriver(bot_url=self.bot_url, signing_secret=self.signing_secret,
                                              slack=self.slack))
        while terminal.handle(input(f"[{terminal.user}] > ")):
            pass

    def stop(self) -> None:
        for part in (self.slack, self.cb, self.qbo):
            part.stop()


def start_sandbox(base, *, fast: bool = False):
    """Start the fakes; returns (sandbox, settings pointing at them) with a fresh sandbox database."""
    sandbox = Sandbox(fast=fast)
    db = Path("data/sandbox.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return sandbox, replace(sandbox.settings(base), database_path=str(db))


def banner(sb: Sandbox) -> str:
    return f"""
applycredit sandbox — no credentials configured, so everything below is local and fake.
  QuickBooks Online emulator  {sb.qbo.base_url}   (realm {seed.REALM_ID})
  ConnectBooster emulator     {sb.cb.base_url}
  Slack Web API (fake)        {sb.slack.url}
  the bot                     {sb.bot_url}
Seeded: Atomar's Best Tackle — ConnectBooster credit 11261 (credit memo #1039, $10.00),
        invoice 10031 ($85.00, the oldest) and invoice 10040 ($120.00): the help article's example;
        Blue Heron Marine (unapplied payment), Coastal Bait Co (120 invoices), O’Malley’s Marina,
        <!channel> Holdings, Pier 9 Outfitters (pending portal payment), Reel Deal Charters (already
        applied in QuickBooks, waiting for a sync), Atomar's Bait Shop.
Users: {REQUESTER} requests, {APPROVER} and {APPROVER_2} approve, {OUTSIDER} is anyone else; channel {CHANNEL}.
Type `demo` below to run the help-article flow end to end, or `help` for the commands.
Ctrl-C stops everything."""
