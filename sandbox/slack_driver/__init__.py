"""Plays Slack's side of the conversation: sends the bot slash commands, clicks, view submissions and
options requests over HTTP, signed exactly as Slack signs them.

    driver = SlackDriver(bot_url="http://127.0.0.1:PORT/slack/events", signing_secret=SECRET, slack=fake)
    resp = driver.command(user="U0REQUEST", channel="C0FINANCE", text="Atomar's Best Tackle")
    msg = fake.wait_for(lambda s: s.messages("C0FINANCE"))[0]
    driver.click(user="U0APPROVE", action_id="approve", source=msg)

`response_url` and `trigger_id` come from the FakeSlack, so what the bot does with them lands there. Like
Slack, the driver also acts on the bot's HTTP answers: a command's ack body is shown (ephemeral, or in the
channel with `response_type: in_channel`) and a view_submission ack closes / updates / pushes the view or
records its errors (`apply=False` turns that off).

Transports: `transport="http"` (default) POSTs signed requests to `bot_url`; `transport="socket"` delivers the
same payloads as Socket Mode envelopes to the app connected to the fake (`slack.socket`, see
sandbox/fake_slack/socket_mode.py) and returns the ack the same way: status 200 and the ack's payload as a JSON
body. No ack within 3 s -> status 504 with `extra["error"] == "ack_timeout"` (and, for a command, Slack's
"failed with the error operation_timeout" ephemeral to the user); no app connected within `connect_wait` ->
ConnectionError. `transport="inprocess"` hands the same signed body and headers to `dispatch(body, headers)`
(a test wraps `App.dispatch(BoltRequest(...))`, as bolt-python's own scenario tests do) and returns its answer
like the HTTP transport (header names in lower case, as BoltResponse keeps them). Signing arguments are ignored
over the socket (Socket Mode is pre-authenticated); in-process they reach Bolt's verification as over HTTP.

Tampering, for the signature tests: every request method takes `timestamp=` (e.g. `time() - 600`),
`signature=` (sent instead of the right one) and `headers=` (merged last); `post_raw(body, headers)` sends
anything.
"""
from sandbox.slack_driver.actions import CommandsAndClicks
from sandbox.slack_driver.base import VERIFICATION_TOKEN, DriverBase, DriverResponse
from sandbox.slack_driver.surfaces import ViewsOptionsEvents


class SlackDriver(CommandsAndClicks, ViewsOptionsEvents):
    """Slack's side of the conversation with one bot, over HTTP or Socket Mode (see the module docstring)."""


__all__ = ["VERIFICATION_TOKEN", "DriverBase", "DriverResponse", "SlackDriver"]
