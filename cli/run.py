"""`python bot.py run`: the bot, or the sandbox when nothing is configured, until Ctrl-C or SIGTERM."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from config import Settings
from edge.logs import FORMAT, IdsOnly

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
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(bot.app, settings.slack_app_token)
        handler.connect()
        print("applycredit is connected to Slack (Socket Mode). Ctrl-C to stop.")
    else:
        # In the sandbox the console takes CONSOLE_PORT and reaches the bot as Slack would, on a free port.
        server = bot.serve_http(0 if sandbox else settings.port, host="127.0.0.1" if sandbox else "0.0.0.0")
        print(f"applycredit is listening on http://127.0.0.1:{server.effective_port}/slack/events "
              f"(health: /healthz). Ctrl-C to stop.")
        if sandbox:
            sandbox.attach(bot, server.effective_port, console_port=settings.console_port)
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
