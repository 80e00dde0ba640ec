"""Who is who: the Slack name last sent with each user id (migration 13), for the history and the export."""
from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from data.db import transaction
from data.jobs import utcnow

BOT = "bot"  # the actor of the bot's own steps


class People:
    """The people table over a per-thread Database factory."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now
        self._known: dict[str, str] = {}  # what this process already stored: no write per request

    def remember(self, user_id: str | None, name: str | None) -> None:
        """Store the name Slack sent with a request (a rename replaces the old one)."""
        if not user_id or not name or self._known.get(user_id) == name:
            return
        db = self._db()
        with transaction(db):
            db.conn.execute("INSERT INTO people (user_id, name, seen_at) VALUES (?, ?, ?) ON CONFLICT(user_id) "
                            "DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at",
                            [user_id, name[:200], self.now()])
        self._known[user_id] = name

    def names(self) -> dict[str, str]:
        """Every user id the bot has seen, with its name."""
        return dict(self._db().execute("SELECT user_id, name FROM people").fetchall())

    def name(self, user_id: str | None, names: dict[str, str] | None = None) -> str:
        """A person's name for a reader: the stored one, else the id; the bot's own steps are 'applycredit'."""
        if not user_id or user_id == BOT:
            return "applycredit"
        return (names if names is not None else self.names()).get(user_id, user_id)
