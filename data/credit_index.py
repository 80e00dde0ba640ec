"""The index of open credits (migration 9): what QuickBooks has open, kept fresh by webhooks and change data capture.

- `open_credits`: one row per credit memo with credit left and per payment with an unapplied amount. A credit used
  up or deleted leaves the index; one that (re)appears after the first full read is `noticed`: it gets a proposal.
- `qbo_notices`: webhook events, stored (committed) before Intuit's delivery is answered, processed afterwards;
  the event id is unique, so a delivery Intuit sends again is stored once.
- `qbo_cursor`: where the next change data capture starts (the previous answer's server time).

The picker and every write re-read QuickBooks live; the index serves lists (the inbox, the digest, the sweep's
candidates in guided mode) and tells the bot which credits are new.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlite_utils

from data.db import transaction
from data.jobs import credit_key, utcnow

COLUMNS = ("credit_key", "kind", "qbo_id", "customer_id", "number", "txn_date", "total", "remaining", "currency",
           "noticed_at", "updated_at")


@dataclass(frozen=True)
class IndexedCredit:
    """An open credit as the index has it; the attribute names of integrations' Credit, so readers take either."""

    kind: str
    id: str
    customer_id: str
    number: str
    txn_date: str
    total: Decimal
    remaining: Decimal
    currency: str
    noticed_at: str | None = None

    @property
    def key(self) -> str:
        return credit_key(self.kind, self.id)


@dataclass
class IndexChange:
    """What one update did: credits that became open (noticed), and every credit whose remaining amount changed
    (key -> the new amount, 0 when used up or deleted)."""

    opened: list[str] = field(default_factory=list)
    changed: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeRow:
    id: int
    entity: str
    entity_id: str
    operation: str


class CreditIndex:
    """The three tables over a per-thread Database factory."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now

    # -- webhook events ------------------------------------------------------------------------------
    def store_notices(self, notices: Iterable) -> int:
        """Store webhook events (objects with event_id, entity, entity_id, operation), committed; returns how
        many were new (a retried delivery's events are already there)."""
        db, now, new = self._db(), self.now(), 0
        with transaction(db):
            for n in notices:
                cur = db.conn.execute("INSERT OR IGNORE INTO qbo_notices (event_id, entity, entity_id, operation, "
                                      "received_at) VALUES (?, ?, ?, ?, ?)",
                                      [n.event_id, n.entity, n.entity_id, n.operation, now])
                new += cur.rowcount
        return new

    def pending_notices(self, limit: int = 1000) -> list[NoticeRow]:
        rows = self._db().execute("SELECT id, entity, entity_id, operation FROM qbo_notices WHERE processed_at IS NULL "
                                  "ORDER BY id LIMIT ?", [limit]).fetchall()
        return [NoticeRow(*r) for r in rows]

    def mark_processed(self, ids: list[int]) -> None:
        db = self._db()
        with transaction(db):
            db.conn.executemany("UPDATE qbo_notices SET processed_at = ? WHERE id = ?", [(self.now(), i) for i in ids])

    # -- the CDC cursor ------------------------------------------------------------------------------
    def cursor(self) -> str | None:
        row = self._db().execute("SELECT value FROM qbo_cursor WHERE name = 'cdc'").fetchone()
        return row[0] if row else None

    def set_cursor(self, value: str) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("INSERT INTO qbo_cursor (name, value, updated_at) VALUES ('cdc', ?, ?) ON CONFLICT(name) "
                            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at", [value, self.now()])

    # -- the credits ---------------------------------------------------------------------------------
    def apply(self, credits: Iterable, gone: Iterable[tuple[str, str]] = (), *, notice: bool = True) -> IndexChange:
        """Record credits as QuickBooks has them now (objects like integrations' Credit) and the deleted ones;
        `notice`: a credit that was not open before is noticed (False for the very first full read)."""
        change, db, now = IndexChange(), self._db(), self.now()
        with transaction(db):
            for c in credits:
                self._put(db, c, change, notice, now)
            for kind, qbo_id in gone:
                self._drop(db, credit_key(kind, qbo_id), change)
        return change

    def replace_all(self, credits: list, *, notice: bool) -> IndexChange:
        """A full read: every open credit there is; rows of credits not in it are gone."""
        change = self.apply(credits, notice=notice)
        keep = {credit_key(c.kind, c.id) for c in credits if c.remaining > 0}
        db = self._db()
        with transaction(db):
            for (key,) in db.conn.execute("SELECT credit_key FROM open_credits").fetchall():
                if key not in keep:
                    self._drop(db, key, change)
        return change

    def _put(self, db, c, change: IndexChange, notice: bool, now: str) -> None:
        key = credit_key(c.kind, c.id)
        old = db.conn.execute("SELECT remaining, noticed_at FROM open_credits WHERE credit_key = ?", [key]).fetchone()
        if c.remaining <= 0:
            self._drop(db, key, change)
            return
        noticed = old[1] if old else (now if notice else None)
        db.conn.execute(f"INSERT OR REPLACE INTO open_credits ({', '.join(COLUMNS)}) VALUES "
                        f"({', '.join('?' for _ in COLUMNS)})",
                        [key, c.kind, str(c.id), str(c.customer_id), str(c.number), c.txn_date or "", str(c.total),
                         str(c.remaining), c.currency, noticed, now])
        if old is None:
            change.changed[key] = c.remaining
            if noticed:
                change.opened.append(key)
        elif Decimal(old[0]) != c.remaining:
            change.changed[key] = c.remaining

    @staticmethod
    def _drop(db, key: str, change: IndexChange) -> None:
        if db.conn.execute("DELETE FROM open_credits WHERE credit_key = ?", [key]).rowcount:
            change.changed[key] = Decimal("0")

    def open_credits(self) -> list[IndexedCredit]:
        """Every open credit, oldest first."""
        return self._read("SELECT * FROM open_credits ORDER BY txn_date, credit_key", [])

    def get(self, key: str) -> IndexedCredit | None:
        found = self._read("SELECT * FROM open_credits WHERE credit_key = ?", [key])
        return found[0] if found else None

    def proposable(self) -> list[IndexedCredit]:
        """Credits that became open after the first full read, never proposed, and not in an open request."""
        return self._read("SELECT * FROM open_credits o WHERE noticed_at IS NOT NULL "
                          "AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.credit_key = o.credit_key) "
                          "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.open_credit_key = o.credit_key) "
                          "ORDER BY customer_id, txn_date, credit_key", [])

    def _read(self, sql: str, args: list) -> list[IndexedCredit]:
        cur = self._db().execute(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            r = dict(zip(names, row, strict=True))
            out.append(IndexedCredit(kind=r["kind"], id=r["qbo_id"], customer_id=r["customer_id"], number=r["number"],
                                     txn_date=r["txn_date"], total=Decimal(r["total"]),
                                     remaining=Decimal(r["remaining"]), currency=r["currency"],
                                     noticed_at=r["noticed_at"]))
        return out
