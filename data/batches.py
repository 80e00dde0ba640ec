"""Batches (a sweep: many credit applications approved at once) and their guarded state changes.

Like jobs, every state change is a guarded UPDATE: exactly one caller wins. `open_key` is set while a batch
is open, and a unique index on it keeps one open sweep at a time.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

import sqlite_utils

from data.db import transaction
from data.jobs import utcnow
from data.states import BATCH_TERMINAL, BatchState, Mode

SWEEP_KEY = "sweep"
SWEEP, PROPOSAL = "sweep", "proposal"  # batches.kind
BOT = "bot"  # who proposes a new credit's proposal, and approves an auto-applied one
JSON = ("plan", "details", "left_out", "undo_skipped")  # columns stored as JSON text


@dataclass(frozen=True)
class Batch:
    """A row of the batches table; `plan` decoded from JSON, `total` as Decimal."""

    id: int
    kind: str
    state: BatchState
    requester_id: str
    approver_id: str | None
    channel_id: str
    parent_ts: str | None
    plan: list[dict]
    total: Decimal
    sync_key: str | None
    sync_id: int | None
    open_key: str | None
    created_at: str
    updated_at: str
    expires_at: str | None
    decided_at: str | None
    completed_at: str | None
    # guided mode's checklist (migration 7)
    sync_from: str | None = None
    checklist_at: str | None = None
    reminded_at: str | None = None
    confirmed_by: str | None = None
    mode: Mode = Mode.API  # migration 8
    # migration 10: a proposal's credit (one proposal per credit, ever), why it closed, first approver
    credit_key: str | None = None
    outcome: str | None = None
    first_approver_id: str | None = None
    details: dict = field(default_factory=dict)  # a proposal's credit: client, kind, number, amount, currency, ...

    @property
    def proposal(self) -> bool:
        return self.kind == PROPOSAL

    @property
    def owner(self) -> str | None:
        """Who its guided checklist asks to act: a sweep's proposer, a proposal's approver (None: auto-applied)."""
        who = self.approver_id if self.proposal else self.requester_id
        return None if who == BOT else who
    # sweep controls (migration 14): clients left out before approval, and the sweep's undo
    left_out: list[dict] = field(default_factory=list)
    undo_by: str | None = None
    undo_at: str | None = None
    undo_skipped: dict[str, str] = field(default_factory=dict)  # item job id -> why it is not undone
    undo_confirmed_by: str | None = None

    @property
    def checklist_confirmed_by(self) -> str | None:
        """Who confirmed the latest ConnectBooster checklist (the sweep's, or once it is being undone its undo's)."""
        return self.undo_confirmed_by if self.undo_by else self.confirmed_by

    @classmethod
    def from_row(cls, row: dict) -> Batch:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        values["plan"] = json.loads(values["plan"] or "[]")
        values["details"] = json.loads(values["details"] or "{}")
        values["left_out"] = json.loads(values["left_out"] or "[]")
        values["undo_skipped"] = json.loads(values["undo_skipped"] or "{}")
        values["total"] = Decimal(values["total"] or "0")
        values["state"] = BatchState(values["state"])
        values["mode"] = Mode(values["mode"] or Mode.API)
        return cls(**values)


class BatchBusy(Exception):
    """Another sweep is still open."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(f"sweep {batch.id} is open")
        self.batch = batch


class BatchStore:
    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now

    def create(self, *, kind: str, requester_id: str, channel_id: str, plan: list[dict], total: Decimal,
               expires_at: str | None, state: BatchState = BatchState.AWAITING_APPROVAL, mode: Mode = Mode.API,
               credit_key: str | None = None, **values: Any) -> Batch:
        """Open a batch: one open sweep at a time, one proposal per credit ever (BatchBusy names the other one)."""
        db = self._db()
        now = self.now()
        row = {"kind": kind, "state": state, "requester_id": requester_id, "channel_id": channel_id,
               "plan": json.dumps(plan, default=str), "total": str(total),
               "open_key": None if credit_key else SWEEP_KEY, "credit_key": credit_key,
               "created_at": now, "updated_at": now, "expires_at": expires_at, "mode": mode,
               **{k: json.dumps(v, default=str) if k == "details" else v for k, v in values.items()}}
        try:
            with transaction(db):
                cur = db.conn.execute(f"INSERT INTO batches ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                                      list(row.values()))
        except sqlite3.IntegrityError:
            busy = self._batches("SELECT * FROM batches WHERE credit_key = ?", [credit_key]) if credit_key else \
                self._batches("SELECT * FROM batches WHERE open_key = ?", [SWEEP_KEY])
            if not busy:
                raise
            raise BatchBusy(busy[0]) from None
        return self.get(cur.lastrowid)

    def for_credit(self, credit_key: str) -> Batch | None:
        """The proposal made for this credit, if any (there is at most one, ever)."""
        found = self._batches("SELECT * FROM batches WHERE credit_key = ?", [credit_key])
        return found[0] if found else None

    def get(self, batch_id: int) -> Batch | None:
        found = self._batches("SELECT * FROM batches WHERE id = ?", [batch_id])
        return found[0] if found else None

    def state_of(self, batch_id: int) -> str | None:
        """A sweep's state alone (its plan, hundreds of items of JSON, is not read)."""
        row = self._db().execute("SELECT state FROM batches WHERE id = ?", [batch_id]).fetchone()
        return row[0] if row else None

    def transition(self, batch_id: int, *, from_states: Iterable[str], to_state: str, **values: Any) -> Batch | None:
        """Move from one of `from_states` to `to_state`; None when another caller won."""
        updates = {k: (str(v) if isinstance(v, Decimal) else json.dumps(v, default=str) if k in JSON else v)
                   for k, v in values.items()}
        updates.update(state=to_state, updated_at=self.now())
        if to_state in BATCH_TERMINAL:
            updates["open_key"] = None
            updates.setdefault("completed_at", updates["updated_at"])
        states = list(from_states)
        db = self._db()
        with transaction(db):
            cur = db.conn.execute(
                f"UPDATE batches SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ? "
                f"AND state IN ({', '.join('?' for _ in states)})", [*updates.values(), batch_id, *states])
        return self.get(batch_id) if cur.rowcount == 1 else None

    def set_parent(self, batch_id: int, ts: str) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("UPDATE batches SET parent_ts = ? WHERE id = ? AND parent_ts IS NULL", [ts, batch_id])

    def in_states(self, states: Iterable[str]) -> list[Batch]:
        st = list(states)
        return self._batches(f"SELECT * FROM batches WHERE state IN ({', '.join('?' for _ in st)}) ORDER BY id", st)

    def _batches(self, sql: str, args: list) -> list[Batch]:
        cur = self._db().execute(sql, args)
        names = [d[0] for d in cur.description]
        return [Batch.from_row(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
