"""TokenStore: QuickBooks OAuth tokens per company (realm) in the `oauth_tokens` table, encrypted at rest.

The row is the truth: a refresh rotates the refresh token, and the new pair is written in one
transaction before the new access token is used, so a restart (or a second process) always starts
from the newest refresh token. Token values are sealed with the TokenCipher (data/token_key.py) before they
reach SQLite; expiries stay readable. Token values never appear in a repr or a log line.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from data.db import Connections
from data.token_key import TokenCipher, TokenKeyError, is_sealed, load_cipher

log = logging.getLogger(__name__)
DatabaseSource = Connections | Callable[[], sqlite_utils.Database]
COLUMNS = ("realm_id, access_token, access_expires_at, refresh_token, refresh_expires_at, updated_at, "
           "refresh_hard_expires_at, refreshed_at")


@dataclass(frozen=True)
class TokenRecord:
    """One realm's tokens; expiries and `refreshed_at` are epoch seconds."""

    realm_id: str
    access_token: str | None = field(repr=False)
    access_expires_at: float | None
    refresh_token: str = field(repr=False)
    refresh_expires_at: float | None
    updated_at: str
    refresh_hard_expires_at: float | None = None  # Intuit's five-year cap (x_refresh_token_hard_expires_in)
    refreshed_at: float | None = None             # the last token answer (QBO_KEEPALIVE_DAYS counts from it)

    @property
    def expires_at(self) -> float | None:
        """When the connection ends unless refreshed: the earlier of the rolling and the hard expiry."""
        known = [t for t in (self.refresh_expires_at, self.refresh_hard_expires_at) if t is not None]
        return min(known) if known else None


class TokenStore:
    """Reads and writes `oauth_tokens`; each call opens its work on the calling thread's Database."""

    def __init__(self, db: DatabaseSource, cipher: TokenCipher) -> None:
        self._source = db
        self._cipher = cipher

    @property
    def key_source(self) -> str:
        """Where the token key came from (TOKEN_ENCRYPTION_KEY or the key file), never the key."""
        return self._cipher.source

    def _db(self) -> sqlite_utils.Database:
        if isinstance(self._source, Connections):
            return self._source.get()
        return self._source()

    def load(self, realm_id: str) -> TokenRecord | None:
        """The stored tokens of a realm, or None when it was never connected; TokenKeyError for a wrong key."""
        row = self._db().execute(f"SELECT {COLUMNS} FROM oauth_tokens WHERE realm_id = ?", [realm_id]).fetchone()
        if not row:
            return None
        opened = list(row)
        opened[1], opened[3] = self._cipher.open(row[1]), self._cipher.open(row[3])
        return TokenRecord(*opened)

    def save(
        self,
        realm_id: str,
        *,
        access_token: str | None,
        access_expires_at: float | None,
        refresh_token: str,
        refresh_expires_at: float | None,
        refresh_hard_expires_at: float | None = None,
        refreshed_at: float | None = None,
    ) -> None:
        """Store both tokens of a realm, sealed, in one transaction (insert or replace the row). A hard expiry
        that is not given keeps the stored one: Intuit only sends it when asked, and a refresh keeps the grant's."""
        if not refresh_token:
            raise ValueError("refresh_token is required")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # microseconds: latest_realm orders by it
        db = self._db()
        with db.atomic():
            db.execute(
                "INSERT INTO oauth_tokens"
                f" ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(realm_id) DO UPDATE SET access_token = excluded.access_token,"
                " access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token,"
                " refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at,"
                " refresh_hard_expires_at = COALESCE(excluded.refresh_hard_expires_at, refresh_hard_expires_at),"
                " refreshed_at = COALESCE(excluded.refreshed_at, refreshed_at)",
                [realm_id, self._cipher.seal(access_token), access_expires_at, self._cipher.seal(refresh_token),
                 refresh_expires_at, now, refresh_hard_expires_at, refreshed_at],
            )

    def replace(self, realm_id: str, **values) -> None:
        """A new grant (a reconnect): the row replaced whole, so nothing of the old grant (its hard expiry) stays."""
        db = self._db()
        with db.atomic():
            db.execute("DELETE FROM oauth_tokens WHERE realm_id = ?", [realm_id])
            self.save(realm_id, **values)

    def latest_realm(self) -> str | None:
        """The realm connected or refreshed most recently (what `connect-quickbooks` stored last)."""
        row = self._db().execute(
            "SELECT realm_id FROM oauth_tokens ORDER BY updated_at DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    # ---- at start-up -------------------------------------------------------------------------------------
    def verify(self) -> None:
        """Every stored token opens with this key; TokenKeyError (a clear start-up error) otherwise."""
        for (realm,) in self._db().execute("SELECT realm_id FROM oauth_tokens").fetchall():
            self.load(realm)

    def seal_plaintext(self) -> int:
        """Encrypt rows stored in plaintext by an earlier version, in one transaction; returns how many. The
        freed pages are overwritten (secure_delete) and the WAL checkpointed, so no copy of the plaintext stays."""
        db = self._db()
        rows = db.execute("SELECT realm_id, access_token, refresh_token FROM oauth_tokens").fetchall()
        plain = [r for r in rows if (r[1] and not is_sealed(r[1])) or not is_sealed(r[2])]
        if not plain:
            return 0
        db.execute("PRAGMA secure_delete = ON")
        with db.atomic():
            for realm, access, refresh in plain:
                db.execute("UPDATE oauth_tokens SET access_token = ?, refresh_token = ? WHERE realm_id = ?",
                           [access if is_sealed(access) else self._cipher.seal(access),
                            refresh if is_sealed(refresh) else self._cipher.seal(refresh), realm])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")  # earlier rotations left plaintext in free pages: rebuild the file without them
        db.execute("PRAGMA secure_delete = OFF")
        log.info("encrypted the QuickBooks tokens of %d compan%s stored in plaintext by an earlier version",
                 len(plain), "y" if len(plain) == 1 else "ies")
        return len(plain)

    def discard(self) -> int:
        """Delete every stored token (`connect-quickbooks --discard-tokens`, when the key is lost for good)."""
        db = self._db()
        with db.atomic():
            return db.execute("DELETE FROM oauth_tokens").rowcount


def open_tokens(connections: Connections, settings) -> TokenStore:
    """The bot's TokenStore: the key loaded (or made), every stored token checked against it, plaintext rows from
    an earlier version encrypted. TokenKeyError says what to do when the key does not fit."""
    rows = connections.get().execute("SELECT access_token, refresh_token FROM oauth_tokens").fetchall()
    # A missing key file must not be replaced by a new key while encrypted tokens wait for the old one.
    store = TokenStore(connections, load_cipher(settings, holds_sealed=any(is_sealed(v) for r in rows for v in r)))
    store.verify()
    store.seal_plaintext()
    return store


__all__ = ["TokenKeyError", "TokenRecord", "TokenStore", "open_tokens"]
