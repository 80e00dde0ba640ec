"""One-time OAuth `state` values for `/applycredit connect` (`oauth_states`): bound to the admin who asked,
single use, expiring.

A state is `<id>.<secret>`; the row keeps the admin, the times and only a SHA-256 of the secret. Checking one
compares hashes in constant time (hmac.compare_digest) and marks it used in the same guarded UPDATE, so a
reloaded or replayed redirect cannot exchange a second code.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class IssuedState:
    value: str          # what travels through Intuit and back (never logged)
    user_id: str
    expires_at: float


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class OAuthStates:
    """Issues and consumes states on the calling thread's Database."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def issue(self, user_id: str, ttl: float) -> IssuedState:
        """A new state for `user_id`, valid `ttl` seconds; expired rows are dropped on the way."""
        now = self._clock()
        sid, secret = secrets.token_urlsafe(9), secrets.token_urlsafe(24)
        db = self._db()
        with db.atomic():
            db.execute("DELETE FROM oauth_states WHERE expires_at < ?", [now - 86400])
            db.execute("INSERT INTO oauth_states (id, secret_hash, user_id, created_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?)", [sid, _digest(secret), user_id, now, now + ttl])
        return IssuedState(f"{sid}.{secret}", user_id, now + ttl)

    def _row(self, value: str) -> tuple | None:
        """(id, user, expires_at, used_at) of a state whose secret matches, compared in constant time."""
        sid, _, secret = (value or "").partition(".")
        row = self._db().execute("SELECT id, secret_hash, user_id, expires_at, used_at FROM oauth_states "
                                 "WHERE id = ?", [sid]).fetchone() if sid and secret else None
        expected = row[1] if row else _digest("no such state")  # compare anyway: no early answer to time
        matches = hmac.compare_digest(_digest(secret), expected)
        return (row[0], row[2], row[3], row[4]) if row and matches else None

    def valid(self, value: str) -> str | None:
        """The admin a valid, unused, unexpired state belongs to (the Reconnect URL's check); nothing is used up."""
        row = self._row(value)
        return row[1] if row and row[3] is None and row[2] > self._clock() else None

    def consume(self, value: str, user_id: str | None = None) -> str | None:
        """Use the state up: the admin it belongs to, or None when it is unknown, used, expired, or (with
        `user_id`, the paste flow) someone else's."""
        row = self._row(value)
        if row is None or row[3] is not None or row[2] <= self._clock():
            return None
        if user_id is not None and not hmac.compare_digest(row[1].encode(), user_id.encode()):
            return None
        db = self._db()
        with db.atomic():
            cur = db.execute("UPDATE oauth_states SET used_at = ? WHERE id = ? AND used_at IS NULL",
                             [self._clock(), row[0]])
        return row[1] if cur.rowcount == 1 else None
