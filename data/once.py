"""Things done once: Slack events already processed (Slack retries them) and digests already posted."""
from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from data.db import transaction
from data.jobs import utcnow


class Marks:
    """The seen_events and digests tables (migration 3) over a per-thread Database factory."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now

    def first_time(self, event_id: str | None) -> bool:
        """Record a Slack event id; True only the first time (a retry of the same event answers False)."""
        if not event_id:  # no id to deduplicate on: process it
            return True
        db = self._db()
        with transaction(db):
            cur = db.conn.execute("INSERT OR IGNORE INTO seen_events (event_id, seen_at) VALUES (?, ?)",
                                  [event_id, self.now()])
        return cur.rowcount == 1

    def digest_posted(self, day: str) -> bool:
        return self._db().execute("SELECT 1 FROM digests WHERE day = ?", [day]).fetchone() is not None

    def record_digest(self, day: str, posted_at: str) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("INSERT OR IGNORE INTO digests (day, posted_at) VALUES (?, ?)", [day, posted_at])

    def last_digest_at(self) -> str | None:
        """When the previous digest was queued (UTC ISO), or None before the first one."""
        row = self._db().execute("SELECT max(posted_at) FROM digests").fetchone()
        return row[0] if row else None
