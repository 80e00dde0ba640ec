"""Drafts: a form's server-side snapshot (the client's credits and invoices, an inbox page) between Slack requests.

A modal carries only the draft's id (private_metadata or a button's value); what it showed stays here, bound to
the user and channel it was opened for. Drafts live `ttl` (APPROVAL_TTL_HOURS) by `clock`: an older one is gone
(`load` answers None), and data/retention.py deletes it.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlite_utils

from data.jobs import stamp


class Drafts:
    def __init__(self, db: Callable[[], sqlite_utils.Database], *, ttl: timedelta = timedelta(hours=24),
                 clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self.ttl = ttl
        self.clock = clock or (lambda: datetime.now(UTC))

    def save(self, *, user_id: str, channel_id: str, data: dict) -> str:
        draft_id = secrets.token_urlsafe(12)
        self._db()["drafts"].insert({"id": draft_id, "user_id": user_id, "channel_id": channel_id,
                                     "data": json.dumps(data, default=str), "created_at": stamp(self.clock())})
        return draft_id

    def delete(self, draft_id: str) -> None:
        """A form that was used (submitted) is gone: its snapshot of client data is not kept."""
        self._db()["drafts"].delete_where("id = ?", [draft_id])

    def cutoff(self) -> str:
        """Drafts created before this are expired (the approval window: a form older than that is stale)."""
        return stamp(self.clock() - self.ttl)

    def update(self, draft_id: str, data: dict) -> None:
        try:
            self._db()["drafts"].update(draft_id, {"data": json.dumps(data, default=str)})
        except sqlite_utils.db.NotFoundError:
            pass  # expired and pruned meanwhile: the next load says the form expired

    def load(self, draft_id: str) -> dict | None:
        """The draft's data, or None when there is none or it expired (an expired one is deleted)."""
        row = self._db().execute("SELECT user_id, channel_id, data, created_at FROM drafts WHERE id = ?",
                                 [draft_id]).fetchone()
        if not row:
            return None
        if row[3] < self.cutoff():
            self.delete(draft_id)
            return None
        return {"user_id": row[0], "channel_id": row[1], **json.loads(row[2])}
