"""Retention: nothing but the audit trail grows without bound.

| table        | kept                                                                     | why                         |
|--------------|--------------------------------------------------------------------------|-----------------------------|
| jobs, events | for ever                                                                 | the audit trail             |
| drafts       | until used (submitted) or APPROVAL_TTL_HOURS old                         | a form older than that is stale |
| outbox       | pending/sending rows always; delivered rows of finished work for N days  | delivery bookkeeping        |
| seen_events  | N days (Slack retries an event within minutes)                           | dedupe of retried events    |
| digests      | N days, and always the newest (the next digest counts from it)           | one digest per day          |
| qbo_notices  | N days once processed (Intuit retries a delivery for days, same ids)     | dedupe of webhook events    |

N is RETENTION_DAYS, but never less than the undo window: the notifier re-queues every message of a job
each time the job changes (the dedupe key makes that harmless), so the rows of a job that can still change
(not terminal, or verified and still undoable) must stay or their messages would go out a second time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlite_utils

from data.db import transaction
from data.drafts import Drafts
from data.jobs import stamp
from data.states import BATCH_TERMINAL, TERMINAL

log = logging.getLogger(__name__)
DELIVERED = ("sent", "superseded", "failed")  # an outbox row in any of these is done


class Retention:
    """Deletes expired drafts and old delivery bookkeeping; `run_due()` at most once per `every`."""

    def __init__(self, db: Callable[[], sqlite_utils.Database], drafts: Drafts, *, days: float,
                 undo_window: timedelta = timedelta(hours=72), now: Callable[[], datetime] | None = None,
                 every: timedelta = timedelta(hours=1)) -> None:
        self._db = db
        self.drafts = drafts  # drafts expire by their own clock and TTL
        self.keep = max(timedelta(days=days), undo_window)
        self.now = now or (lambda: datetime.now(UTC))
        self.every = every
        self._last: datetime | None = None

    def run_due(self) -> dict[str, int] | None:
        """Prune if the last run is older than `every` (the expiry loop calls this every few seconds)."""
        now = self.now()
        if self._last is not None and now - self._last < self.every:
            return None
        self._last = now
        return self.prune()

    def prune(self) -> dict[str, int]:
        """Delete what is past its retention; returns rows deleted per table (events are never touched)."""
        cutoff = stamp(self.now() - self.keep)
        jobs_done, batches_done = list(TERMINAL), list(BATCH_TERMINAL)
        db = self._db()
        with transaction(db):
            drafts = db.conn.execute("DELETE FROM drafts WHERE created_at < ?", [self.drafts.cutoff()]).rowcount
            # Sweep rows use the stream -batch.id as job_id; rows with no job (digests, DMs) are done once sent.
            outbox = db.conn.execute(
                f"DELETE FROM outbox WHERE state IN ({_marks(DELIVERED)}) AND created_at < ? AND ("
                "job_id IS NULL"
                f" OR (job_id > 0 AND job_id IN (SELECT id FROM jobs WHERE state IN ({_marks(jobs_done)})"
                "      AND completed_at < ?))"
                f" OR (job_id < 0 AND -job_id IN (SELECT id FROM batches WHERE state IN ({_marks(batches_done)})"
                "      AND completed_at < ?)))",
                [*DELIVERED, cutoff, *jobs_done, cutoff, *batches_done, cutoff]).rowcount
            seen = db.conn.execute("DELETE FROM seen_events WHERE seen_at < ?", [cutoff]).rowcount
            digests = db.conn.execute("DELETE FROM digests WHERE posted_at < ? AND posted_at < "
                                      "(SELECT max(posted_at) FROM digests)", [cutoff]).rowcount
            notices = db.conn.execute("DELETE FROM qbo_notices WHERE processed_at IS NOT NULL AND received_at < ?",
                                      [cutoff]).rowcount
        counts = {"drafts": drafts, "outbox": outbox, "seen_events": seen, "digests": digests,
                  "qbo_notices": notices}
        if any(counts.values()):
            log.info("retention: deleted %s", ", ".join(f"{n} {t}" for t, n in counts.items() if n))
        return counts


def _marks(values) -> str:
    return ", ".join("?" for _ in values)
