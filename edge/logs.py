"""Bolt's logger: what Bolt logs never carries a request's body, headers or payload values, at any level.

Bolt copies the root logger's level onto the loggers it makes for itself (slack_bolt.RequestVerification logs
the whole body of a request whose signature failed, at INFO), so quieting "slack_bolt" does nothing. Given a
logger of its own (`App(logger=bolt_logger())`) Bolt copies that one's level and filters instead: every line is
cut to its first words ("Invalid request signature detected") and an exception keeps its traceback but not its
message. The refused requests themselves are counted by edge/routes.py's RefusalLog.
"""
from __future__ import annotations

import logging
import re
import traceback

NAME = "applycredit.slack_bolt"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CUT = re.compile(r"[(:{\[\n]")


class WithoutPayloads(logging.Filter):
    """Keeps a line's leading words only; drops the message of an exception (its traceback stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        head = _CUT.split(text, maxsplit=1)[0].strip() or "slack_bolt"
        if head.startswith("Invalid request signature"):
            return False  # one line per forged request: counted instead, a line a minute (edge/routes.py)
        record.msg, record.args = (head if head == text.strip() else f"{head} (details not logged)"), ()
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            record.exc_text = "".join(traceback.format_tb(tb)) + f"{kind.__name__} (message not logged)"
        return True


class IdsOnly(logging.Formatter):
    """The log format below DEBUG: an exception keeps its traceback and kind (an integration error its code, status
    and intuit_tid), never its message, which can quote a customer, a document or an amount."""

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        kind, exc, tb = ei
        tail = exc.brief() if callable(getattr(exc, "brief", None)) else getattr(kind, "__name__", "error")
        return "Traceback (most recent call last):\n" + "".join(traceback.format_tb(tb)) + f"{tail} (message not logged)"


def bolt_logger(level: int = logging.INFO) -> logging.Logger:
    """The logger to hand to Bolt's App: filtered, never below `level` (INFO: no debug lines with payloads)."""
    logger = logging.getLogger(NAME)
    if not any(isinstance(f, WithoutPayloads) for f in logger.filters):
        logger.addFilter(WithoutPayloads())
    logger.setLevel(max(level, logging.INFO))
    return logger
