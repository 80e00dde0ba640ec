"""The Slack edge: thin Bolt listeners grouped by surface; each module has register(app, deps)."""
from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from slack_bolt import App

from data.jobs import JobStore
from workflow.service import CreditService

log = logging.getLogger(__name__)


@dataclass
class Deps:
    service: CreditService
    store: JobStore
    command: str = "/applycredit"
    marks: Any = None  # data.once.Marks: Slack events already handled (App Home)
    # Slow work after ack() (lookups) runs here, not on Bolt's listener executor: Bolt runs every listener,
    # ack included, on that executor, so lookups waiting on QuickBooks would queue the next commands' acks.
    background: Executor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=8,
                                                                            thread_name_prefix="lookup"))

    def later(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run fn on the background pool; an exception is logged (Bolt's error handler no longer sees it)."""
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception as e:  # never the payload: it may hold client names
                log.error("background work failed: %s: %s", type(e).__name__, e, exc_info=True)

        self.background.submit(run)


def register(app: App, deps: Deps) -> None:
    from handlers import commands, decisions, home, inbox, picker

    commands.register(app, deps)
    picker.register(app, deps)
    decisions.register(app, deps)
    from handlers import sweep

    sweep.register(app, deps)
    inbox.register(app, deps)
    if deps.marks is not None:
        home.register(app, deps)

    @app.error
    def on_error(error, body, logger):  # one place for listener errors (never the request body: it may hold names)
        logger.error("listener error: %s: %s", type(error).__name__, error,
                     exc_info=(type(error), error, error.__traceback__))
