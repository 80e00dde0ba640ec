"""Slack messages waiting to be delivered, so that Slack being slow or down never blocks a job.

Rows are keyed by a dedupe key (one per job event and purpose): enqueueing twice is harmless. Only what is still
true is sent: a chat.update row names the message it updates (`payload["message"]`), and queueing a newer update of
that message supersedes the older ones still pending, whatever kind of message it is. A row is
marked `sending` while its call is in flight; a row found `sending` at start-up was interrupted by a crash,
and Slack may or may not have it. It is sent again (at least once beats lost: Slack's chat.postMessage has no
idempotency key and reading threads back would need history scopes) and flagged `in_flight_at_crash`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

from data.db import transaction
from data.jobs import utcnow


class Target(StrEnum):
    """Which message of a job a row is; the deliverer fills in what only Slack's answers tell (the parent's ts)."""

    PARENT = "parent"                # the approval request: its ts becomes the job's thread parent
    PARENT_UPDATE = "parent_update"  # chat.update of that message (an undo's: its application's message)
    THREAD = "thread"                # a reply in the job's thread
    NOTICE = "notice"                # the completion notice in NOTIFY_CHANNEL (with a link to the thread)
    ALERT = "alert"                  # a failed or stuck sync, in NOTIFY_CHANNEL
    ALERT_RESOLVED = "alert_resolved"  # chat.update of an alert once its job settled: by whom, when
    PLAIN = "plain"                  # sent as queued (sweep messages, the digest, direct messages)
    # a proposal's messages (its stream is -batch.id): posted by the bot itself, so the batch learns its ts here
    BATCH_PARENT = "batch_parent"    # the proposal: its ts becomes the batch's parent
    BATCH_UPDATE = "batch_update"    # chat.update of it (only the newest queued one is sent)
    BATCH_THREAD = "batch_thread"    # a reply in its thread


UPDATE = "chat.update"


def message_key(job_id: int | None, target: Target, payload: dict) -> str:
    """Which message a chat.update row updates: a job's or a proposal's own message (its ts known only once
    posted), an alert (by the row that posted it), or a message whose channel and ts the row carries."""
    if target is Target.PARENT_UPDATE:
        return f"job:{job_id}:parent"
    if target is Target.BATCH_UPDATE:
        return f"batch:{-(job_id or 0)}:parent"
    if target is Target.ALERT_RESOLVED:
        return f"alert:{payload.get('alert', '')}"
    args = payload.get("args", {})
    return f"ts:{args.get('channel', '')}:{args.get('ts', '')}"


def updated_message(item: OutboxItem) -> str:
    """The message a chat.update row updates (rows queued before keys were stored: derived the same way)."""
    return item.payload.get("message") or message_key(item.job_id, item.target, item.payload)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    job_id: int | None
    dedupe_key: str
    method: str
    payload: dict
    attempts: int
    target: Target = Target.PLAIN
    in_flight_at_crash: bool = False  # was being sent when the bot died: Slack may already show it


class Outbox:
    """The outbox table; rows of finished work are pruned by data/retention.py after RETENTION_DAYS."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], now: Callable[[], str] = utcnow) -> None:
        self._db = db
        self.now = now  # created_at, which retention compares with its cutoff

    def enqueue(self, *, job_id: int | None, dedupe_key: str, method: str, payload: dict,
                target: Target = Target.PLAIN, message: str | None = None) -> bool:
        """Queue a message once per dedupe key; returns False when it was already queued. A chat.update names the
        message it updates (`message`, else `message_key` derives it): older pending updates of it are superseded."""
        if method == UPDATE:
            payload = {**payload, "message": message or message_key(job_id, target, payload)}
        db = self._db()
        with transaction(db):
            cur = db.conn.execute(
                "INSERT OR IGNORE INTO outbox (job_id, dedupe_key, method, payload, created_at, target) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [job_id, dedupe_key, method, json.dumps(payload, default=str), self.now(), target],
            )
            if cur.rowcount == 1 and method == UPDATE:
                db.conn.execute(
                    "UPDATE outbox SET state = 'superseded' WHERE state = 'pending' AND method = ? AND id < ? "
                    "AND json_extract(payload, '$.message') = ?", [UPDATE, cur.lastrowid, payload["message"]])
        return cur.rowcount == 1

    def due(self, now: float, limit: int = 200) -> list[OutboxItem]:
        rows = self._db().execute(
            "SELECT id, job_id, dedupe_key, method, payload, attempts, target, in_flight_at_crash FROM outbox "
            "WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?", [now, limit]
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], Target(r[6]), bool(r[7])) for r in rows]

    def start_sending(self, item_id: int) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("UPDATE outbox SET state = 'sending' WHERE id = ? AND state = 'pending'", [item_id])

    def recover_in_flight(self) -> int:
        """At start-up: calls a crash interrupted go out again; returns how many."""
        db = self._db()
        with transaction(db):
            cur = db.conn.execute("UPDATE outbox SET state = 'pending', in_flight_at_crash = 1 WHERE state = 'sending'")
        return cur.rowcount

    def in_flight_at_crash(self, job_id: int) -> int:
        """How many of a job's messages were being sent when the bot died (each may show twice in Slack)."""
        return self._db().execute("SELECT count(*) FROM outbox WHERE job_id = ? AND in_flight_at_crash = 1",
                                  [job_id]).fetchone()[0]

    def pending_count(self) -> int:
        return self._db().execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    def earlier_post_pending(self, item: OutboxItem) -> bool:
        """True when an older post of the same stream still waits: a stream's posts go out in order, and an update
        waits for the posts before it (its message among them). Pending updates never hold anything up."""
        if item.job_id is None:
            return False
        return self._db().execute(
            "SELECT 1 FROM outbox WHERE job_id = ? AND state IN ('pending', 'sending') AND id < ? AND method != ? "
            "LIMIT 1", [item.job_id, item.id, UPDATE]
        ).fetchone() is not None

    def newer_update_queued(self, item: OutboxItem) -> bool:
        """True when a later chat.update of the same message is queued: this one can be skipped."""
        return self._db().execute(
            "SELECT 1 FROM outbox WHERE state = 'pending' AND method = ? AND id > ? "
            "AND json_extract(payload, '$.message') = ? LIMIT 1", [UPDATE, item.id, updated_message(item)],
        ).fetchone() is not None

    def sent_ts(self, dedupe_key: str) -> tuple[str, str] | None:
        """(channel, ts) of a message already sent under this key, or None (not sent, refused, or pruned)."""
        row = self._db().execute("SELECT payload, result_ts FROM outbox WHERE dedupe_key = ? AND state = 'sent'",
                                 [dedupe_key]).fetchone()
        if not row or not row[1]:
            return None
        return json.loads(row[0]).get("args", {}).get("channel", ""), row[1]

    def mark(self, item_id: int, state: str, *, result_ts: str | None = None, error: str | None = None) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("UPDATE outbox SET state = ?, result_ts = ?, last_error = ?, attempts = attempts + 1 "
                            "WHERE id = ?", [state, result_ts, error, item_id])

    def postpone(self, item_id: int, until: float, error: str) -> None:
        db = self._db()
        with transaction(db):
            db.conn.execute("UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, "
                            "attempts = attempts + 1 WHERE id = ?", [until, error, item_id])
