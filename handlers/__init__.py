"""The Slack edge: thin Bolt listeners grouped by surface; each module has register(app, deps)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App

from data.jobs import JobStore
from workflow.service import CreditService

log = logging.getLogger(__name__)


@dataclass
class Deps:
    service: CreditService
    store: JobStore
    command: str = "/applycredit"


def register(app: App, deps: Deps) -> None:
    from handlers import commands, decisions, picker

    commands.register(app, deps)
    picker.register(app, deps)
    decisions.register(app, deps)

    @app.error
    def on_error(error, body, logger):  # one place for listener errors (never the request body: it may hold names)
        logger.error("listener error: %s: %s", type(error).__name__, error,
                     exc_info=(type(error), error, error.__traceback__))
