"""TokenStore: QuickBooks OAuth tokens per company (realm) in the `oauth_tokens` table.

The row is the truth: a refresh rotates the refresh token, and the new pair is written in one
transaction before the new access token is used, so a restart (or a second process) always starts
from the newest refresh token. Token values never appear in a repr or a log line.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from data.db import Connections

DatabaseSource = Connections | Callable[[], sqlite_utils.Database]


@dataclass(frozen=True)
class TokenRecord:
    """One realm's tokens; expiries are epoch seconds."""

    realm_id: str
    access_token: str | None = field(repr=False)
    access_expires_at: float | None
    refresh_token: str = field(repr=False)
    refresh_expires_at: float | None
    updated_at: str


class TokenStore:
    """Reads and writes `oauth_tokens`; each call opens its work on the calling thread's Database."""

    def __init__(self, db: DatabaseSource) -> None:
        self._source = db

    def _db(self) -> sqlite_utils.Database:
        if isinstance(self._source, Connections):
            return self._source.get()
        return self._source()

    def load(self, realm_id: str) -> TokenRecord | None:
        """The stored tokens of a realm, or None when it was never connected."""
        row = self._db().execute(
            "SELECT realm_id, access_token, access_expires_at, refresh_token, refresh_expires_at, updated_at"
            " FROM oauth_tokens WHERE realm_id = ?",
            [realm_id],
        ).fetchone()
        return TokenRecord(*row) if row else None

    def save(
        self,
        realm_id: str,
        *,
        access_token: str | None,
        access_expires_at: float | None,
        refresh_token: str,
        refresh_expires_at: float | None,
    ) -> None:
        """Store both tokens of a realm in one transaction (insert or replace the row)."""
        if not refresh_token:
            raise ValueError("refresh_token is required")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # microseconds: latest_realm orders by it
        db = self._db()
        with db.atomic():
            db.execute(
                "INSERT INTO oauth_tokens"
                " (realm_id, access_token, access_expires_at, refresh_token, refresh_expires_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(realm_id) DO UPDATE SET access_token = excluded.access_token,"
                " access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token,"
                " refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at",
                [realm_id, access_token, access_expires_at, refresh_token, refresh_expires_at, now],
            )

    def latest_realm(self) -> str | None:
        """The realm connected or refreshed most recently (what `connect-quickbooks` stored last)."""
        row = self._db().execute(
            "SELECT realm_id FROM oauth_tokens ORDER BY updated_at DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None
