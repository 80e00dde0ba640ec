"""`make run`'s sandbox serves its own OAuth callback, so its terminal (and the console, whose links open in the
browser) can walk `/applycredit connect` against the emulator's consent page."""
from __future__ import annotations

from bot import Bot, Overrides
from config import Settings
from sandbox.run import APPROVER, CALLBACK, NOTIFY, start_sandbox
from sandbox.slack_driver import SlackDriver
from sandbox.terminal import Terminal


def test_the_terminal_walks_a_disconnect_and_a_reconnect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sandbox, settings = start_sandbox(Settings(sandbox=True), fast=True)
    assert settings.qbo_redirect_uri == f"http://127.0.0.1:{settings.port}{CALLBACK}"
    bot = Bot(settings, Overrides(outbox_idle_seconds=0.05))
    bot.start()
    server = bot.serve_http(settings.port, host="127.0.0.1")
    said: list[str] = []
    try:
        sandbox.attach(bot, server.effective_port)
        terminal = Terminal(sandbox, SlackDriver(bot_url=sandbox.bot_url, signing_secret=sandbox.signing_secret,
                                                 slack=sandbox.slack), out=said.append)
        terminal.handle("disconnect")
        terminal.handle("as approver")
        terminal.handle("/applycredit connect")
        assert any("Reconnect QuickBooks" in line for line in said)
        terminal.handle("follow")
        assert said[-1].startswith("QuickBooks is connected: QuickBooks company ")
        assert sandbox.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "connected again" in m["text"]])
        assert APPROVER in str(sandbox.slack.messages(NOTIFY)[-1])
    finally:
        bot.stop()
        sandbox.stop()
