"""A fake Slack for tests and the sandbox: the Web API over HTTP, response URLs, and Socket Mode.

    slack = FakeSlack(clock=time.time, bot_user_id="UBOT0001", team_id="T0SANDBOX")
    client = WebClient(token="xoxb-test", base_url=slack.start())
    slack.add_channel("C0FINANCE", "finance")          # public, the bot and every user in it
    ...
    slack.stop()

As real Slack does (real-world.md §1-3): channel membership decides where the bot may post (membership.py);
every documented Block Kit limit is enforced (blockkit.py, limits.py); `trigger_id` lives 3 s and is single use,
`response_url` 5 uses in 30 minutes (views.py, responses.py); Socket Mode speaks hello / envelopes / acks /
disconnect over a WebSocket (socket_mode.py).
"""
from sandbox.fake_slack.blockkit import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    initial_state,
    validate_blocks,
    validate_view,
)
from sandbox.fake_slack.common import (
    DEFAULT_SCOPES,
    SlackError,
    SlackFaults,
    WaitTimeout,
)
from sandbox.fake_slack.server import FakeSlack
from sandbox.fake_slack.socket_mode import Delivery, SocketModeServer

__all__ = [
    "DEFAULT_SCOPES",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "Delivery",
    "FakeSlack",
    "SlackError",
    "SlackFaults",
    "SocketModeServer",
    "WaitTimeout",
    "initial_state",
    "validate_blocks",
    "validate_view",
]
