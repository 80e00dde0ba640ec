"""`python bot.py run`: the bot, or the sandbox when nothing is configured, until Ctrl-C or SIGTERM."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from config import Settings
from edge.logs import FORMAT, IdsOnly
from integrations.errors import IntegrationError

log = logging.getLogger("applycredit")


def configure_logging(level: str = "INFO") -> None:
    """Ids, states, codes and intuit_tid at INFO and above, never QuickBooks data (edge/logs.py); Bolt has a
    filtered logger of its own (bot.py hands it to the App), slack_sdk and waitress speak only of problems."""
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format=FORMAT)
    if level != "DEBUG":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(IdsOnly(FORMAT))
    for noisy in ("urllib3", "slack_sdk", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(settings: Settings, make_bot) -> int:
    """Run until stopped; `make_bot(settings)` is bot.Bot."""
    sandbox = None
    if settings.sandbox:
        from sandbox.run import start_sandbox

        sandbox, settings = start_sandbox(settings)
    bot = make_bot(settings)
    bot.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        _connect(bot, settings, sandbox)
    except (SlackApiError, URLError, OSError, IntegrationError) as e:  # one line for a person, not a traceback
        print(f"applycredit could not start: {start_failure(e, settings)}", file=sys.stderr)
        bot.stop()
        if sandbox:
            sandbox.stop()
        return 1
    try:
        if sandbox and sys.stdin.isatty():
            if "LOG_LEVEL" not in os.environ:  # the prompt's own output says what happens; keep logs to problems
                logging.getLogger().setLevel(logging.WARNING)
            sandbox.repl()
        else:
            while not done.wait(0.5):
                pass
    except (KeyboardInterrupt, EOFError):
        pass
    bot.stop()
    if sandbox:
        sandbox.stop()
    return 0


def _connect(bot, settings: Settings, sandbox) -> None:
    """Socket Mode's connection to Slack, or the HTTP server (and, in the sandbox, the console)."""
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(bot.app, settings.slack_app_token)
        with _quiet("slack_sdk"):  # it logs the failure itself, then raises: the one line below says it
            handler.connect()
        print("applycredit is connected to Slack (Socket Mode). Ctrl-C to stop.")
        return
    # In the sandbox the console takes CONSOLE_PORT and reaches the bot as Slack would, on a free port (chosen by
    # start_sandbox: it is also the redirect URI of the emulator's OAuth consent).
    server = bot.serve_http(settings.port, host="127.0.0.1" if sandbox else "0.0.0.0")
    print(f"applycredit is listening on http://127.0.0.1:{server.effective_port}/slack/events "
          f"(health: /healthz). Ctrl-C to stop.")
    if sandbox:
        sandbox.attach(bot, server.effective_port, console_port=settings.console_port)


def start_failure(e: Exception, settings: Settings) -> str:
    """Why the bot could not start, and what to check, in one line (never a secret)."""
    if isinstance(e, SlackApiError):
        error = e.response.get("error")
        token = "SLACK_APP_TOKEN" if settings.socket_mode else "SLACK_BOT_TOKEN"
        return f"Slack refused the connection ({error}): check {token} and that the app is installed. Nothing was changed."
    if isinstance(e, URLError):
        return (f"Slack could not be reached ({e.reason}): check the network (and SLACK_API_URL if set), then run "
                "it again. Nothing was changed.")
    if isinstance(e, IntegrationError):
        return f"{e.service or 'a service'} could not be reached ({e.message}). Nothing was changed."
    if getattr(e, "errno", None) == 98 or "in use" in str(e):
        return f"port {settings.port} is taken by another program: set PORT to a free one. Nothing was changed."
    return f"{type(e).__name__}: {e}. Nothing was changed."


@contextmanager
def _quiet(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
