"""The QuickBooks connection's state per company (`qbo_connection`): lapsed or not, and which expiry warning went out.

Each decision is one guarded UPDATE, so two threads (a job's refresh and the periodic check) never both announce
the same lapse or the same warning.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

SAME_EXPIRY = 2 * 86400.0  # a later answer's expiry within this of the announced one is the same expiry


@dataclass(frozen=True)
class ConnectionState:
    realm_id: str
    lapsed_at: float | None = None
    lapsed_code: str | None = None
    warned_expiry: float | None = None
    warned_days: float | None = None


class ConnectionStore:
    """Reads and writes `qbo_connection` on the calling thread's Database."""

    def __init__(self, db: Callable[[], sqlite_utils.Database]) -> None:
        self._db = db

    def get(self, realm_id: str) -> ConnectionState:
        row = self._db().execute("SELECT realm_id, lapsed_at, lapsed_code, warned_expiry, warned_days "
                                 "FROM qbo_connection WHERE realm_id = ?", [realm_id]).fetchone()
        return ConnectionState(*row) if row else ConnectionState(realm_id)

    def _ensure(self, db: sqlite_utils.Database, realm_id: str) -> None:
        db.execute("INSERT OR IGNORE INTO qbo_connection (realm_id) VALUES (?)", [realm_id])

    def mark_lapsed(self, realm_id: str, at: float, code: str | None) -> bool:
        """Record that Intuit refused the connection; True only for the call that found it connected."""
        db = self._db()
        with db.atomic():
            self._ensure(db, realm_id)
            cur = db.execute("UPDATE qbo_connection SET lapsed_at = ?, lapsed_code = ? "
                             "WHERE realm_id = ? AND lapsed_at IS NULL", [at, code, realm_id])
        return cur.rowcount == 1

    def mark_connected(self, realm_id: str) -> bool:
        """A new grant: not lapsed, no warning given for it yet; True when it had lapsed."""
        db = self._db()
        with db.atomic():
            self._ensure(db, realm_id)
            was = db.execute("SELECT lapsed_at FROM qbo_connection WHERE realm_id = ?", [realm_id]).fetchone()[0]
            db.execute("UPDATE qbo_connection SET lapsed_at = NULL, lapsed_code = NULL, warned_expiry = NULL, "
                       "warned_days = NULL WHERE realm_id = ?", [realm_id])
        return was is not None

    def claim_warning(self, realm_id: str, expiry: float, days: float) -> bool:
        """True when no warning at `days` or closer was given for this expiry yet (and records this one)."""
        db = self._db()
        with db.atomic():
            self._ensure(db, realm_id)
            cur = db.execute(
                "UPDATE qbo_connection SET warned_expiry = ?, warned_days = ? WHERE realm_id = ? AND NOT ("
                "warned_expiry IS NOT NULL AND abs(warned_expiry - ?) < ? AND warned_days <= ?)",
                [expiry, days, realm_id, expiry, SAME_EXPIRY, days])
        return cur.rowcount == 1
