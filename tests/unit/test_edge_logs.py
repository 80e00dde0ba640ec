"""edge/logs.py: Bolt's lines never carry a request's content, and below DEBUG no exception message is logged."""
from __future__ import annotations

import logging
import time

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from edge.logs import FORMAT, IdsOnly, WithoutPayloads, bolt_logger
from integrations.errors import TransientError

BODY = "command=%2Fapplycredit&text=Zanzibar+Quokka+4321.17&user_id=U0REQUEST"


def _app(**kwargs) -> App:
    return App(name="probe", client=WebClient(token="xoxb-x", base_url="http://127.0.0.1:9/"),
               signing_secret="not-the-signer", token_verification_enabled=False, **kwargs)


def _unsigned(app: App) -> int:
    headers = {"content-type": ["application/x-www-form-urlencoded"], "x-slack-signature": ["v0=" + "0" * 64],
               "x-slack-request-timestamp": [str(int(time.time()))]}
    return app.dispatch(BoltRequest(body=BODY, headers=headers)).status


def test_bolt_logs_an_unsigned_body_unless_given_the_bots_logger(caplog):
    """Bolt copies the root's level onto slack_bolt.RequestVerification and logs the body at INFO: quieting
    "slack_bolt" does nothing. The bot's logger (bolt_logger) is the one that keeps it out, at any root level."""
    caplog.set_level(logging.DEBUG)
    quiet = logging.getLogger("slack_bolt")
    level, quiet.level = quiet.level, logging.WARNING  # what the bot used to do: no effect
    try:
        verification = logging.getLogger("slack_bolt.RequestVerification")
        verification.filters.clear()  # as in a fresh process (an earlier Bot's App in this one may have set ours)
        assert _unsigned(_app()) == 401
        assert any("Zanzibar" in r.getMessage() for r in caplog.records)  # Bolt's own behaviour, pinned
        caplog.clear()
        assert _unsigned(_app(logger=bolt_logger())) == 401
        assert not any("Zanzibar" in r.getMessage() or "4321" in r.getMessage() for r in caplog.records)
    finally:
        quiet.level = level


def test_bolt_lines_keep_their_first_words_and_exceptions_lose_their_message():
    keep = WithoutPayloads()
    unhandled = logging.LogRecord("slack_bolt.App", logging.WARNING, __file__, 1,
                                  "Unhandled request ({'type': 'block_actions', 'value': %r})", ("Zanzibar",), None)
    assert keep.filter(unhandled) and unhandled.getMessage() == "Unhandled request (details not logged)"
    signature = logging.LogRecord("slack_bolt.RequestVerification", logging.INFO, __file__, 1,
                                  "Invalid request signature detected (signature: v0=, body: %s)", (BODY,), None)
    assert keep.filter(signature) is False  # dropped: edge/routes.py counts the 401s instead
    error = ValueError("customer Zanzibar owes 4321.17")  # (a traceback shows source lines: not this one)
    try:
        raise error
    except ValueError as e:
        failed = logging.LogRecord("slack_bolt.App", logging.ERROR, __file__, 1, "Error: %s", (e,),
                                   (ValueError, e, e.__traceback__))
    assert keep.filter(failed)
    text = logging.Formatter(FORMAT).format(failed)
    assert "Zanzibar" not in text and "ValueError (message not logged)" in text and "Traceback" not in text[:10]


def test_below_debug_an_exception_is_logged_by_kind_code_and_intuit_tid_only():
    error = TransientError("QuickBooks GET /invoice/130 failed for Zanzibar", status=503, code="x1",
                           intuit_tid="1-abc")
    try:
        raise error
    except TransientError as e:
        record = logging.LogRecord("applycredit", logging.ERROR, __file__, 1, "job %s failed", (7,),
                                   (TransientError, e, e.__traceback__))
    text = IdsOnly(FORMAT).format(record)
    assert "job 7 failed" in text and "TransientError code=x1 status=503 intuit_tid=1-abc" in text
    assert "Zanzibar" not in text and "/invoice/130" not in text
