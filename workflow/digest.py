"""The daily digest: what it reports (gathered through the directory and from the jobs table) and when it is due.

Gathering reads; building the message is a pure function elsewhere (handlers/blocks/digest.py) over
`DigestData` and a clock. The scheduler posts once per local day: the `digests` table remembers the day.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from data.jobs import Job, JobStore, stamp
from data.states import JobState
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenCredit:
    """An open credit as the digest lists it; `ref` is the id people look it up by in the directory's system."""

    client: str
    ref: str
    kind: str
    number: str
    date: str
    remaining: Decimal
    currency: str


@dataclass
class DigestData:
    credits: list[OpenCredit]
    attention: list[Job]
    last_sync: object | None          # integrations.connectbooster_models.SyncRun
    completed: list[Job]              # verified since `since`
    since: datetime
    unreadable: list[str] = field(default_factory=list)  # clients whose credits could not be read
    checklists: list = field(default_factory=list)  # guided sweeps' checklists unconfirmed for a day (Batch)
    source: str = "ConnectBooster"  # where the open credits were read (the directory's system)

    @property
    def totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for c in self.credits:
            out[c.currency] = out.get(c.currency, Decimal("0")) + c.remaining
        return out

    @property
    def oldest(self) -> OpenCredit | None:
        return min(self.credits, key=lambda c: (c.date, c.ref), default=None)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def gather(*, directory, store: JobStore, pool: ThreadPoolExecutor, since: datetime,
           checklists: list | None = None) -> DigestData:
    """Open credits (through the directory, read in parallel), the last sync it can see, and the jobs."""
    history = pool.submit(directory.last_sync)
    credits, unreadable = directory.open_credits()
    try:
        last_sync = history.result()
    except IntegrationError:
        log.warning("digest: sync history unavailable")
        last_sync = None
    after = stamp(since)
    completed = [j for j in store.in_states([JobState.VERIFIED]) if (j.completed_at or "") > after]
    completed.sort(key=lambda j: j.completed_at or "")
    return DigestData(credits=credits, attention=store.in_states([JobState.NEEDS_ATTENTION]), last_sync=last_sync,
                      completed=completed, since=since, unreadable=unreadable, checklists=list(checklists or []),
                      source=directory.source)


class DigestScheduler:
    """Posts the digest once per local day at `at` (HH:MM) in `tz`; `post(day)` does the work."""

    def __init__(self, *, at: str, tz: str, posted: Callable[[str], bool], post: Callable[[str], None],
                 now: Callable[[], datetime] | None = None, check_seconds: float = 30.0) -> None:
        self.at = at
        self.tz = ZoneInfo(tz or "UTC")
        self.posted = posted
        self.post = post
        self.now = now or (lambda: datetime.now(UTC))
        self.check_seconds = check_seconds

    def due_day(self) -> str | None:
        """The local date whose digest is due now, or None (before `at`, or already posted today)."""
        if not self.at:
            return None
        local = self.now().astimezone(self.tz)
        day = local.date().isoformat()
        # After a restart later the same day the digest still goes out (late), but only once.
        if local.strftime("%H:%M") < self.at or self.posted(day):
            return None
        return day

    def tick(self) -> bool:
        day = self.due_day()
        if day is None:
            return False
        self.post(day)
        return True

    def run(self, stop: threading.Event) -> None:
        """The scheduler thread: check, then sleep; a failed digest is retried at the next check."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("digest failed; retrying at the next check")
            stop.wait(self.check_seconds)


def default_since(last_posted: str | None, now: datetime) -> datetime:
    """Completions are counted since the previous digest; the first one looks back one day."""
    return parse_time(last_posted) or now - timedelta(days=1)
