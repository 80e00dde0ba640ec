"""Posting the daily digest: gather, build, queue in the outbox under one key per day, then record the day.

Queue first, record second: a crash between the two re-queues on restart, and the outbox's dedupe key
(`digest:<day>`) turns that into a no-op, so the digest goes out exactly once per day.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from data.jobs import JobStore, stamp
from data.once import Marks
from data.outbox import Outbox
from messages.blocks.digest import digest_message
from workflow.digest import default_since, gather
from workflow.sweep_guided import overdue

log = logging.getLogger(__name__)


class DigestPoster:
    def __init__(self, *, directory, store: JobStore, outbox: Outbox, marks: Marks, pool, channel: str, tz: str,
                 now: Callable[[], datetime], wake: Callable[[], None] = lambda: None, batches=None) -> None:
        self.directory, self.store, self.outbox, self.marks, self.pool = directory, store, outbox, marks, pool
        self.channel, self.tz, self.now, self.wake = channel, tz, now, wake
        self.batches = batches  # sweeps whose guided checklist has waited a day are listed too

    def __call__(self, day: str) -> bool:
        """Queue the digest for `day`; False when it was already queued (nothing new is sent)."""
        now = self.now()
        data = gather(directory=self.directory, store=self.store, pool=self.pool,
                      since=default_since(self.marks.last_digest_at(), now),
                      checklists=overdue(self.batches, now) if self.batches is not None else [])
        text, blocks = digest_message(data, now, self.tz)
        queued = self.outbox.enqueue(job_id=None, dedupe_key=f"digest:{day}", method="chat.postMessage",
                                     payload={"args": {"channel": self.channel, "text": text, "blocks": blocks,
                                                       "unfurl_links": False}})
        self.marks.record_digest(day, stamp(now))
        log.info("digest for %s %s", day, "queued" if queued else "was already queued")
        self.wake()
        return queued
