"""Jobs (one per credit application) and their append-only audit trail.

Every state change is a guarded UPDATE (`WHERE id = ? AND state IN (...)`): exactly one caller wins, the
others learn they lost. The change and its event are written in one transaction.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlite_utils

from data.db import transaction
from data.events import EventKind
from data.states import TERMINAL, JobKind, JobState, Mode

MONEY_FIELDS = ("amount", "invoice_total", "invoice_balance_before", "credit_remaining_before", "invoice_balance_after")


def utcnow() -> str:
    return stamp(datetime.now(UTC))


def stamp(dt: datetime) -> str:
    """A UTC timestamp as stored in the database (sorts as text)."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Job:
    """A row of the jobs table; money fields as Decimal."""

    id: int
    kind: JobKind
    state: JobState
    requester_id: str
    approver_id: str | None
    channel_id: str
    parent_ts: str | None
    client_name: str
    qbo_customer_id: str
    cb_org_id: int | None
    credit_kind: str
    qbo_credit_id: str
    cb_credit_id: int | None
    credit_number: str | None
    invoice_qbo_id: str
    invoice_number: str
    cb_invoice_id: int | None
    amount: Decimal
    currency: str
    note: str | None
    invoice_total: Decimal | None
    invoice_balance_before: Decimal | None
    credit_remaining_before: Decimal | None
    invoice_balance_after: Decimal | None
    qbo_request_id: str | None
    qbo_payment_id: str | None
    cb_resync_key: str | None
    cb_resync_id: int | None
    sync_key: str | None
    sync_id: int | None
    sync_from: str | None
    undo_of: int | None
    attempt: int
    error: str | None
    retryable: int
    resume_state: str | None
    applied_at: str | None
    open_credit_key: str | None
    created_at: str
    updated_at: str
    expires_at: str | None
    decided_at: str | None
    completed_at: str | None
    batch_id: int | None = None       # set on the items of a sweep (migration 2)
    batch_seq: int | None = None
    mode: Mode = Mode.API             # how its ConnectBooster half is done (migration 8)
    first_approver_id: str | None = None  # above DUAL_APPROVAL_ABOVE: the first of two approvers (migration 10)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @classmethod
    def from_row(cls, row: dict) -> Job:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        for name in MONEY_FIELDS:
            if values[name] is not None:
                values[name] = Decimal(values[name])
        values["kind"], values["state"] = JobKind(values["kind"]), JobState(values["state"])
        values["mode"] = Mode(values["mode"] or Mode.API)
        return cls(**values)


@dataclass(frozen=True)
class Event:
    """A row of the append-only audit trail."""

    id: int
    job_id: int | None
    at: str
    actor: str | None
    kind: EventKind | str   # a kind this version does not know (an older database's) stays its stored string
    details: dict


def _kind(text: str) -> EventKind | str:
    try:
        return EventKind(text)
    except ValueError:
        return text


class CreditBusy(Exception):
    """Another open job already uses this credit."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"credit already in job {job.id}")
        self.job = job


def credit_key(kind: str, qbo_credit_id: str) -> str:
    return f"{kind}:{qbo_credit_id}"


def _db_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


class JobStore:
    """Jobs and their events over a per-thread Database factory."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now

    # -- jobs -------------------------------------------------------------------------------
    def create(self, *, actor: str, event: EventKind = EventKind.REQUESTED, details: dict | None = None,
               **values: Any) -> Job:
        """Insert a job (one open job per credit) and its first event."""
        db = self._db()
        now = self.now()
        row = {k: _db_value(v) for k, v in values.items()}
        row.update(created_at=now, updated_at=now)
        row.setdefault("open_credit_key", credit_key(values["credit_kind"], values["qbo_credit_id"]))
        try:
            with transaction(db):
                cur = db.conn.execute(
                    f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
                )
                job_id = cur.lastrowid
                self._event(db, job_id, actor, event, details or {}, now)
        except sqlite3.IntegrityError:
            busy = self.open_job_for_credit(row["open_credit_key"])
            if busy is None:
                raise
            raise CreditBusy(busy) from None
        return self.get(job_id)

    def get(self, job_id: int) -> Job | None:
        jobs = self._jobs("SELECT * FROM jobs WHERE id = ?", [job_id])
        return jobs[0] if jobs else None

    def open_job_for_credit(self, key: str) -> Job | None:
        jobs = self._jobs("SELECT * FROM jobs WHERE open_credit_key = ?", [key])
        return jobs[0] if jobs else None

    def transition(
        self,
        job_id: int,
        *,
        from_states: Iterable[str],
        to_state: str,
        actor: str = "bot",
        event: EventKind | None = None,
        details: dict | None = None,
        **values: Any,
    ) -> Job | None:
        """Move the job from one of `from_states` to `to_state`, with an event; None if another caller won.

        Only `workflow/machine.py` calls this: it checks the move against the table of moves first."""
        db = self._db()
        now = self.now()
        updates = {k: _db_value(v) for k, v in values.items()}
        updates.update(state=to_state, updated_at=now)
        if to_state in TERMINAL:
            updates["open_credit_key"] = None
            updates.setdefault("completed_at", now)
        states = list(from_states)
        sets = ", ".join(f"{k} = ?" for k in updates)
        with transaction(db):
            cur = db.conn.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({', '.join('?' for _ in states)})",
                [*updates.values(), job_id, *states],
            )
            if cur.rowcount != 1:
                return None
            self._event(db, job_id, actor, event or EventKind.of_state(JobState(to_state)), details or {}, now)
        return self.get(job_id)

    def update(self, job_id: int, *, expect_state: str, actor: str = "bot", event: EventKind | None = None,
               details: dict | None = None, **values: Any) -> Job | None:
        """Set fields without changing state (e.g. a requestid before the call); guarded by the state."""
        return self.transition(job_id, from_states=[expect_state], to_state=expect_state, actor=actor,
                               event=event or EventKind.UPDATED, details=details, **values)

    def set_parent(self, job_id: int, ts: str) -> None:
        """Remember the approval message (the thread parent) once Slack has it; not a state change."""
        db = self._db()
        with transaction(db):
            cur = db.conn.execute("UPDATE jobs SET parent_ts = ? WHERE id = ? AND parent_ts IS NULL", [ts, job_id])
            if cur.rowcount == 1:
                self._event(db, job_id, "bot", EventKind.PARENT_POSTED, {"ts": ts}, self.now())

    def unfinished(self) -> list[Job]:
        marks = ", ".join("?" for _ in TERMINAL)
        return self._jobs(f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY id", list(TERMINAL))

    def finished_since(self, since: str) -> list[Job]:
        """Jobs that reached a final state at or after `since` (ISO UTC)."""
        marks = ", ".join("?" for _ in TERMINAL)
        return self._jobs(f"SELECT * FROM jobs WHERE state IN ({marks}) AND completed_at >= ? ORDER BY id",
                          [*TERMINAL, since])

    def in_states(self, states: Iterable[str]) -> list[Job]:
        st = list(states)
        return self._jobs(f"SELECT * FROM jobs WHERE state IN ({', '.join('?' for _ in st)}) ORDER BY id", st)

    def in_batch(self, batch_id: int, *, undos: bool = False) -> list[Job]:
        """A sweep's items (plan order); `undos`: the undo jobs of its undo instead (workflow/sweep_controls.py)."""
        kind = "=" if undos else "!="
        return self._jobs(f"SELECT * FROM jobs WHERE batch_id = ? AND kind {kind} 'undo' ORDER BY batch_seq, id",
                          [batch_id])

    def count_in_batch(self, batch_id: int, states, *, outside: bool = False) -> int:
        """How many of a sweep's items are in (`outside`: not in) these states: cheaper than reading 300 rows."""
        marks = ", ".join("?" for _ in states)
        return self._db().execute(f"SELECT count(*) FROM jobs WHERE batch_id = ? AND kind != 'undo' "
                                  f"AND state {'NOT IN' if outside else 'IN'} ({marks})",
                                  [batch_id, *sorted(states)]).fetchone()[0]

    def latest_undo_of(self, job_id: int) -> Job | None:
        found = self._jobs("SELECT * FROM jobs WHERE undo_of = ? ORDER BY id DESC LIMIT 1", [job_id])
        return found[0] if found else None

    def matching(self, text: str, limit: int = 200) -> list[Job]:
        """Jobs on invoice `text` or for a client whose name contains it (any case), newest first."""
        return self._jobs("SELECT * FROM jobs WHERE invoice_number = ? OR instr(lower(client_name), lower(?)) > 0 "
                          "ORDER BY id DESC LIMIT ?", [text, text, limit])

    def touched_between(self, start: str, end: str) -> list[Job]:
        """Jobs requested or written to QuickBooks in [start, end) (UTC stamps)."""
        return self._jobs("SELECT * FROM jobs WHERE (created_at >= ? AND created_at < ?) OR "
                          "(applied_at >= ? AND applied_at < ?) ORDER BY id", [start, end, start, end])

    def all(self, limit: int = 1000) -> list[Job]:
        return self._jobs("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", [limit])

    # -- events -----------------------------------------------------------------------------
    def record(self, job_id: int | None, *, actor: str, kind: EventKind, details: dict | None = None) -> int:
        """Append an event outside a transition (a refusal, an observation)."""
        db = self._db()
        with transaction(db):
            return self._event(db, job_id, actor, kind, details or {}, self.now())

    def parent_resent(self, job_id: int) -> bool:
        """True when the job's message went out again after a crash (an earlier copy may be in Slack)."""
        return self._db().execute("SELECT 1 FROM events WHERE job_id = ? AND kind = ? LIMIT 1",
                                  [job_id, EventKind.APPROVAL_MESSAGE_RESENT]).fetchone() is not None

    def events(self, job_id: int | None = None) -> list[Event]:
        sql, args = "SELECT * FROM events ORDER BY id", []
        if job_id is not None:
            sql, args = "SELECT * FROM events WHERE job_id = ? ORDER BY id", [job_id]
        rows = self._db().execute(sql, args).fetchall()
        return [Event(r[0], r[1], r[2], r[3], _kind(r[4]), json.loads(r[5])) for r in rows]

    def _event(self, db, job_id, actor, kind, details, now) -> int:
        cur = db.conn.execute(
            "INSERT INTO events (job_id, at, actor, kind, details) VALUES (?, ?, ?, ?, ?)",
            [job_id, now, actor, kind, json.dumps(details, default=str, sort_keys=True)],
        )
        return cur.lastrowid

    def _jobs(self, sql: str, args: list) -> list[Job]:
        cur = self._db().execute(sql, args)
        names = [d[0] for d in cur.description]
        return [Job.from_row(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
