"""`make run` with no credentials: the emulators, a fake Slack, and the bot wired to them.

Everything listens on 127.0.0.1. Connection details go to data/sandbox.json (git-ignored) so that
the browser console can find the running bot.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from data.db import SANDBOX_DATABASE
from sandbox import seed
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.fake_slack import FakeSlack
from sandbox.qbo_emulator import QBOEmulator
from sandbox.serving import free_port

REQUESTER, APPROVER, APPROVER_2, OUTSIDER = "U0REQUEST", "U0APPROVE", "U0APPROVE2", "U0OUTSIDE"
CHANNEL, NOTIFY = "C0FINANCE", "C0NOTIFY"
QBO_CLIENT_ID, QBO_CLIENT_SECRET = "sandbox-client-id", "sandbox-client-secret"
INFO_PATH = Path("data/sandbox.json")
SEEDS = ("default", "large")  # SANDBOX_SEED: the help article's small company, or sandbox/seed_large's
REALM_ID = seed.REALM_ID
# The Slack app's bot scopes as manifest.yml asks for them: what an install from the manifest grants (and doctor
# checks). tests/unit/test_doctor_scopes.py keeps it equal to manifest.yml.
SANDBOX_SCOPES = frozenset({"commands", "chat:write", "channels:join", "files:write", "channels:read", "groups:read"})
CALLBACK = "/quickbooks/callback"  # the sandbox bot receives the emulator's OAuth redirect itself (HTTP mode)


class Sandbox:
    """The three fakes, started together."""

    def __init__(self, *, fast: bool = False, prepare=None, timing: SyncTiming | None = None,
                 limits: tuple[int, int] | None = None, seed: str = "default", qbo_clock=None,
                 slack_limits: bool = True, slack_scale: float = 1.0) -> None:
        """`prepare(ledger)` may add QuickBooks records before ConnectBooster's first sync copies them; `timing`
        overrides the sync timing, `limits` makes the QuickBooks emulator enforce (per second, per minute);
        `seed` "large" adds sandbox/seed_large's company to the help article's (SANDBOX_SEED in `make run`);
        `qbo_clock` the QuickBooks emulator's epoch clock (token lifetimes, dates), time.time by default;
        `slack_limits` the fake Slack's documented rate tiers (on, as in real Slack), their clock `slack_scale`
        times faster (a test runs the bot's pacer as fast: Overrides.slack_pace_scale)."""
        if seed not in SEEDS:
            raise ValueError(f"the sandbox seed must be one of {', '.join(SEEDS)}, not {seed!r}")
        self.seed = seed
        self.qbo = QBOEmulator(realm_id=REALM_ID, client_id=QBO_CLIENT_ID, client_secret=QBO_CLIENT_SECRET,
                               limits=limits, **({"clock": qbo_clock} if qbo_clock else {}))
        if seed == "large":
            from sandbox.seed_large import company

            self.qbo.ledger.load_company(company())
        if prepare is not None:
            prepare(self.qbo.ledger)
        self.qbo.start(port=0)
        timing = timing or (SyncTiming.fast() if fast else SyncTiming())
        self.cb = ConnectBoosterEmulator(qbo=self.qbo.ledger, timing=timing)
        self.cb.start(port=0)
        rate_clock = (lambda: time.monotonic() * slack_scale) if slack_scale != 1 else None
        self.slack = FakeSlack(scopes=SANDBOX_SCOPES, rate_limits=slack_limits, rate_clock=rate_clock)
        self.slack_api = self.slack.start(port=0)
        for user, name in ((REQUESTER, "riley.requester"), (APPROVER, "avery.approver"),
                           (APPROVER_2, "alex.approver"), (OUTSIDER, "sam.someone")):
            self.slack.add_user(user, name)
        # The sandbox's own channels have the bot in them (invited, as a real install would be); every user too.
        self.slack.add_channel(CHANNEL, "finance")
        self.slack.add_channel(NOTIFY, "applycredit-notices")
        self.signing_secret = secrets.token_hex(16)
        self.webhook_token = secrets.token_hex(16)  # the QuickBooks app's verifier token (`make run` turns it on)
        self.bot_url = ""
        self.console = None  # the browser console (sandbox/console), once attach() started it

    def settings(self, base) -> object:
        tokens = self.qbo.mint_tokens()
        return replace(
            base, slack_bot_token="xoxb-sandbox", slack_signing_secret=self.signing_secret, slack_app_token="",
            slack_api_url=self.slack_api, qbo_client_id=QBO_CLIENT_ID, qbo_client_secret=QBO_CLIENT_SECRET,
            qbo_environment=self.qbo.discovery_url, qbo_realm_id=seed.REALM_ID,
            qbo_refresh_token=tokens["refresh_token"],
            qbo_api_base_url=self.qbo.base_url, connectbooster_base_url=self.cb.base_url,
            connectbooster_api_key=self.cb.api_key, approver_ids=(APPROVER, APPROVER_2), notify_channel=NOTIFY,
        )

    def attach(self, bot, port: int, console_port: int | None = None) -> None:
        """Remember where the bot listens, write data/sandbox.json, start the console on `console_port` (None: no
        console), and print how to drive it."""
        self.bot_url = f"http://127.0.0.1:{port}/slack/events"
        if bot.settings.qbo_webhook_verifier_token:  # QuickBooks tells the bot of every new credit, signed
            delay = float(os.environ.get("SANDBOX_WEBHOOK_DELAY", "0") or 0)  # Intuit aggregates 1-5 min in production
            self.qbo.webhooks.configure(url=f"http://127.0.0.1:{port}/quickbooks/webhooks",
                                        verifier_token=bot.settings.qbo_webhook_verifier_token, delay=delay)
        if console_port is not None:
            from sandbox.console import start_console

            self.console = start_console(self, console_port, sync_timeout=bot.settings.sync_timeout_seconds,
                                         guided=bot.settings.guided)  # guided mode: the portal's actions as buttons
        INFO_PATH.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(INFO_PATH, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"bot_url": self.bot_url, "signing_secret": self.signing_secret, "slack_url": self.slack.url,
                       "qbo_url": self.qbo.base_url, "cb_url": self.cb.base_url, "channel": CHANNEL,
                       "notify_channel": NOTIFY, "requester": REQUESTER, "approver": APPROVER}, f)
        print(banner(self))
        if bot.settings.guided:
            print("Guided ConnectBooster mode: the bot never calls the ConnectBooster emulator; each request's thread "
                  "guides its steps, and the console's books panel has the portal's Resync and Sync Now buttons.")

    def repl(self) -> None:
        """Read terminal commands until EOF or `quit` (see sandbox/terminal.py)."""
        from sandbox.slack_driver import SlackDriver
        from sandbox.terminal import Terminal

        terminal = Terminal(self, SlackDriver(bot_url=self.bot_url, signing_secret=self.signing_secret,
                                              slack=self.slack))
        while terminal.handle(input(f"[{terminal.user}] > ")):
            pass

    def stop(self) -> None:
        if self.console is not None:
            self.console.stop()
        # Together: each server's stop waits for its serve loop's next look (up to 0.05 s), which one after the
        # other added up in every test's teardown.
        stoppers = [threading.Thread(target=part.stop, name="sandbox-stop") for part in (self.slack, self.cb, self.qbo)]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()


def start_sandbox(base, *, fast: bool = False, db: str = SANDBOX_DATABASE):
    """Start the fakes (SANDBOX_SEED=large: the large company); returns (sandbox, settings pointing at them) with a
    fresh sandbox database at `db`."""
    sandbox = Sandbox(fast=fast, seed=os.environ.get("SANDBOX_SEED", "").strip() or "default")
    db = Path(db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    # A stuck sync is reported after SYNC_TIMEOUT_SECONDS; 600 s is right for a real portal, but the sandbox's
    # syncs take ~25 s, so unless the user chose a timeout the console's "stuck sync" shows up in 90 s.
    timeout = base.sync_timeout_seconds if "SYNC_TIMEOUT_SECONDS" in os.environ else 90.0
    port = free_port()  # known before the bot starts: its OAuth callback is the redirect URI (/applycredit connect)
    return sandbox, replace(sandbox.settings(base), database_path=str(db), sync_timeout_seconds=timeout, port=port,
                            qbo_redirect_uri=f"http://127.0.0.1:{port}{CALLBACK}",
                            qbo_webhook_verifier_token=sandbox.webhook_token)


def banner(sb: Sandbox) -> str:
    return f"""
applycredit sandbox — no credentials configured, so everything below is local and fake.
  QuickBooks Online emulator  {sb.qbo.base_url}   (realm {seed.REALM_ID})
  ConnectBooster emulator     {sb.cb.base_url}
  Slack Web API (fake)        {sb.slack.url}
  the bot                     {sb.bot_url}
{console_line(sb)}Seeded: Atomar's Best Tackle — ConnectBooster credit 11261 (credit memo #1039, $10.00),
        invoice 10031 ($85.00, the oldest) and invoice 10040 ($120.00): the help article's example;
        Blue Heron Marine (unapplied payment), Coastal Bait Co (120 invoices), O’Malley’s Marina,
        <!channel> Holdings, Pier 9 Outfitters (pending portal payment), Reel Deal Charters (already
        applied in QuickBooks, waiting for a sync), Atomar's Bait Shop.{large_line(sb)}
Users: {REQUESTER} requests, {APPROVER} and {APPROVER_2} approve, {OUTSIDER} is anyone else; channel {CHANNEL}.
{how_to_drive(sb)}
Ctrl-C stops everything."""


def large_line(sb: Sandbox) -> str:
    """The large company's size, when SANDBOX_SEED=large chose it."""
    if sb.seed != "large":
        return ""
    counts = sb.qbo.ledger.counts()
    return (f"\n        And the large company (SANDBOX_SEED=large): {counts['Customer']} customers (sub-customers "
            f"among them),\n        {counts['Invoice']} invoices, {counts['Payment']} payments, "
            f"{counts['open_credits']} open credits in QuickBooks.")


def how_to_drive(sb: Sandbox) -> str:
    """The console if it runs; the terminal prompt only when there is a terminal to type in."""
    console = "Open the console in a browser" if sb.console else ""
    if not sys.stdin.isatty():
        return (console + ".") if console else "Start it from a terminal to get the `demo` prompt."
    prompt = "type `demo` below to run the help-article flow end to end, or `help` for the commands."
    return f"{console}, or {prompt}" if console else prompt[0].upper() + prompt[1:]


def console_line(sb: Sandbox) -> str:
    if sb.console is None:
        return ""
    held = getattr(sb.console, "port_taken", None)  # set by start_console when CONSOLE_PORT was taken
    taken = (f"\n      (port {held} is taken by another program, so the console took a free port; "
             "CONSOLE_PORT chooses one)") if held else ""
    return f"\n  >>> the console: open {sb.console.url} in a browser <<<{taken}\n"
