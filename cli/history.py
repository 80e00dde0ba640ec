"""`python bot.py history [QUERY] [--job N] [--json | --csv]`: the audit trail in people's words.

It reads the database the bot uses: DATABASE_PATH, or the sandbox's when nothing is configured (`make run`).
QUERY is what `/applycredit history` takes: `#12`, an invoice number or part of a client's name.
"""
from __future__ import annotations

import sys
from pathlib import Path

from config import Settings
from data.db import SANDBOX_DATABASE, Connections
from data.jobs import JobStore
from data.people import People
from messages import export
from messages.history import lines
from workflow.history import BadQuestion, find, stories, sweep_events


def database_of(settings: Settings) -> str:
    """The file the bot runs on: the sandbox's with nothing configured (sandbox/run.py uses the same), unless
    DATABASE_PATH names another."""
    chosen = settings.database_path != Settings.database_path
    return SANDBOX_DATABASE if settings.sandbox and not chosen else settings.database_path


def cmd_history(settings: Settings, job_id: int | None, query: str = "", fmt: str = "table") -> int:
    path = database_of(settings)
    if not Path(path).exists():
        print(f"No database at {path}: nothing has happened yet (run the bot first).", file=sys.stderr)
        return 1
    connections = Connections(path)
    store, people = JobStore(connections.get), People(connections.get)
    try:
        jobs = find(store, f"#{job_id}" if job_id is not None else query) if (job_id or query) else store.all(10**9)
    except BadQuestion as e:
        print(e.message, file=sys.stderr)
        return 1
    found = lines(stories(store, sorted(jobs, key=lambda j: j.id)), [] if (job_id or query) else sweep_events(store))
    names = people.names()
    name = lambda user: people.name(user, names)  # noqa: E731
    tz = settings.team_timezone
    if fmt == "json":
        print(export.history_json(found, name, tz))
    elif fmt == "csv":
        print(export.history_csv(found, name, tz), end="")
    elif not found:
        print("Nothing recorded yet." if not (job_id or query) else "Nothing matches.")
    else:
        print(export.table(found, name, tz))
    return 0
