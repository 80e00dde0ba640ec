"""Jobs (one per credit application) and their append-only audit trail.

Every state change is a guarded UPDATE (`WHERE id = ? AND state IN (...)`): exactly one caller wins, the
others learn they lost. The change and its event are written in one transaction.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlite_utils

from data.states import TERMINAL, JobKind, JobState

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
        return cls(**values)


@dataclass(frozen=True)
class Event:
    id: int
    job_id: int | None
    at: str
    actor: str | None
    kind: str
    details: dict


# Event: the approval message was sent again after a crash (Slack may show an earlier copy with the same buttons).
PARENT_RESENT = "approval_message_resent"


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
    """Jobs, events and drafts over a per-thread Database factory.

    Drafts live `draft_ttl` (APPROVAL_TTL_HOURS) by `draft_clock`; an older one is gone (load_draft: None)."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow, *,
                 draft_ttl: timedelta = timedelta(hours=24),
                 draft_clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self.now = now
        self.draft_ttl = draft_ttl
        self.draft_clock = draft_clock or (lambda: datetime.now(UTC))

    # -- jobs -------------------------------------------------------------------------------
    def create(self, *, actor: str, event: str = "requested", details: dict | None = None, **values: Any) -> Job:
        """Insert a job (one open job per credit) and its first event."""
        db = self._db()
        now = self.now()
        row = {k: _db_value(v) for k, v in values.items()}
        row.update(created_at=now, updated_at=now)
        row.setdefault("open_credit_key", credit_key(values["credit_kind"], values["qbo_credit_id"]))
        try:
            with db.conn:
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
        event: str | None = None,
        details: dict | None = None,
        **values: Any,
    ) -> Job | None:
        """Move the job from one of `from_states` to `to_state`, with an event; None if another caller won."""
        db = self._db()
        now = self.now()
        updates = {k: _db_value(v) for k, v in values.items()}
        updates.update(state=to_state, updated_at=now)
        if to_state in TERMINAL:
            updates["open_credit_key"] = None
            updates.setdefault("completed_at", now)
        states = list(from_states)
        sets = ", ".join(f"{k} = ?" for k in updates)
        with db.conn:
            cur = db.conn.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({', '.join('?' for _ in states)})",
                [*updates.values(), job_id, *states],
            )
            if cur.rowcount != 1:
                return None
            self._event(db, job_id, actor, event or to_state, details or {}, now)
        return self.get(job_id)

    def update(self, job_id: int, *, expect_state: str, actor: str = "bot", event: str | None = None,
               details: dict | None = None, **values: Any) -> Job | None:
        """Set fields without changing state (e.g. a requestid before the call); guarded by the state."""
        return self.transition(job_id, from_states=[expect_state], to_state=expect_state, actor=actor,
                               event=event or "updated", details=details, **values)

    def set_parent(self, job_id: int, ts: str) -> None:
        """Remember the approval message (the thread parent) once Slack has it; not a state change."""
        db = self._db()
        with db.conn:
            cur = db.conn.execute("UPDATE jobs SET parent_ts = ? WHERE id = ? AND parent_ts IS NULL", [ts, job_id])
            if cur.rowcount == 1:
                self._event(db, job_id, "bot", "parent_posted", {"ts": ts}, self.now())

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

    def in_batch(self, batch_id: int) -> list[Job]:
        return self._jobs("SELECT * FROM jobs WHERE batch_id = ? ORDER BY batch_seq, id", [batch_id])

    def all(self, limit: int = 1000) -> list[Job]:
        return self._jobs("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", [limit])

    # -- events -----------------------------------------------------------------------------
    def record(self, job_id: int | None, *, actor: str, kind: str, details: dict | None = None) -> int:
        """Append an event outside a transition (a refusal, an observation)."""
        db = self._db()
        with db.conn:
            return self._event(db, job_id, actor, kind, details or {}, self.now())

    def parent_resent(self, job_id: int) -> bool:
        """True when the job's message went out again after a crash (an earlier copy may be in Slack)."""
        return self._db().execute("SELECT 1 FROM events WHERE job_id = ? AND kind = ? LIMIT 1",
                                  [job_id, PARENT_RESENT]).fetchone() is not None

    def events(self, job_id: int | None = None) -> list[Event]:
        sql, args = "SELECT * FROM events ORDER BY id", []
        if job_id is not None:
            sql, args = "SELECT * FROM events WHERE job_id = ? ORDER BY id", [job_id]
        rows = self._db().execute(sql, args).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def _event(self, db, job_id, actor, kind, details, now) -> int:
        cur = db.conn.execute(
            "INSERT INTO events (job_id, at, actor, kind, details) VALUES (?, ?, ?, ?, ?)",
            [job_id, now, actor, kind, json.dumps(details, default=str, sort_keys=True)],
        )
        return cur.lastrowid

    # -- drafts: the picker's server-side snapshot ---------------------------------------------
    def save_draft(self, *, user_id: str, channel_id: str, data: dict) -> str:
        draft_id = secrets.token_urlsafe(12)
        self._db()["drafts"].insert({"id": draft_id, "user_id": user_id, "channel_id": channel_id,
                                     "data": json.dumps(data, default=str), "created_at": stamp(self.draft_clock())})
        return draft_id

    def delete_draft(self, draft_id: str) -> None:
        """A form that was used (submitted) is gone: its snapshot of client data is not kept."""
        self._db()["drafts"].delete_where("id = ?", [draft_id])

    def drafts_cutoff(self) -> str:
        """Drafts created before this are expired (the approval window: a form older than that is stale)."""
        return stamp(self.draft_clock() - self.draft_ttl)

    def update_draft(self, draft_id: str, data: dict) -> None:
        try:
            self._db()["drafts"].update(draft_id, {"data": json.dumps(data, default=str)})
        except sqlite_utils.db.NotFoundError:
            pass  # expired and pruned meanwhile: the next load says the form expired

    def load_draft(self, draft_id: str) -> dict | None:
        """The draft's data, or None when there is none or it expired (an expired one is deleted)."""
        row = self._db().execute("SELECT user_id, channel_id, data, created_at FROM drafts WHERE id = ?",
                                 [draft_id]).fetchone()
        if not row:
            return None
        if row[3] < self.drafts_cutoff():
            self.delete_draft(draft_id)
            return None
        return {"user_id": row[0], "channel_id": row[1], **json.loads(row[2])}

    def _jobs(self, sql: str, args: list) -> list[Job]:
        cur = self._db().execute(sql, args)
        names = [d[0] for d in cur.description]
        return [Job.from_row(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
