"""A fake Slack for tests and the sandbox: the Web API over HTTP, response URLs, and Socket Mode.

    slack = FakeSlack(clock=time.time, bot_user_id="UBOT0001", team_id="T0SANDBOX")
    client = WebClient(token="xoxb-test", base_url=slack.start())
    slack.add_channel("C0FINANCE", "finance")          # public, the bot and every user in it
    ...
    slack.stop()

As real Slack does (real-world.md §1-3): channel membership decides where the bot may post (membership.py);
every documented Block Kit limit is enforced (blockkit.py, limits.py); `trigger_id` lives 3 s and is single use,
`response_url` 5 uses in 30 minutes (views.py, responses.py); Socket Mode speaks hello / envelopes / acks /
disconnect over a WebSocket (socket_mode.py). Slack gives blocks sent without a block_id one of its own
(blockkit.with_block_ids); too much text across a message's blocks is msg_blocks_too_long (limits.py); files go
through the upload flow v2 (files.py); every answer carries x-oauth-scopes (routes.py). Rate limits per method
tier (ratelimits.py) are off unless `FakeSlack(rate_limits=True)` or a table; `call_log()` and
`ratelimited_counts()` count every call for benchmarks.
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
from sandbox.fake_slack.limits import MESSAGE_BLOCKS_TEXT, blocks_text_length
from sandbox.fake_slack.ratelimits import DOCUMENTED_LIMITS, Bucket
from sandbox.fake_slack.server import FakeSlack
from sandbox.fake_slack.socket_mode import Delivery, SocketModeServer

__all__ = [
    "DEFAULT_SCOPES",
    "DOCUMENTED_LIMITS",
    "MESSAGE_BLOCKS_TEXT",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "Bucket",
    "Delivery",
    "FakeSlack",
    "SlackError",
    "SlackFaults",
    "SocketModeServer",
    "WaitTimeout",
    "blocks_text_length",
    "initial_state",
    "validate_blocks",
    "validate_view",
]
