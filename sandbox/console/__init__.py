"""The sandbox console: a Slack-like page in the browser over the fakes, with the books beside it.

    console = start_console(sandbox, port=3000)   # after sandbox.attach(...) set sandbox.bot_url
    print(console.url)
"""
from __future__ import annotations

import errno
import logging

from sandbox.console.server import Console

log = logging.getLogger(__name__)


def start_console(sandbox, port: int, *, sync_timeout: float = 600.0, host: str = "127.0.0.1",
                  guided: bool = False) -> Console:
    """Start the console for a Sandbox whose bot is attached; a free port if `port` is taken."""
    from sandbox.run import APPROVER, APPROVER_2, CHANNEL, NOTIFY, OUTSIDER, REQUESTER
    from sandbox.slack_driver import SlackDriver

    driver = SlackDriver(bot_url=sandbox.bot_url, signing_secret=sandbox.signing_secret, slack=sandbox.slack)
    users = {REQUESTER: "the requester", APPROVER: "an approver", APPROVER_2: "another approver",
             OUTSIDER: "someone else"}
    console = Console(sandbox, driver, channel=CHANNEL, notify=NOTIFY, users=users, sync_timeout=sync_timeout,
                      guided=guided)
    try:
        console.start(port, host)
    except OSError as e:
        if e.errno != errno.EADDRINUSE or port == 0:
            raise
        log.warning("port %s is taken (set CONSOLE_PORT to choose another); the console uses a free port", port)
        console.start(0, host)
        console.port_taken = port  # the banner says so next to the address
    return console


__all__ = ["Console", "start_console"]
