"""One ConnectBooster sync serves every job waiting for one, and one poller watches each sync.

Polling is adaptive: quick at first (a run turns active after about a second), then every
`poll_seconds`. A run not finished `timeout_seconds` after it was requested is reported as stuck.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from integrations.errors import IntegrationError, brief

log = logging.getLogger(__name__)
OPEN = ("pending", "active")
INTEGRATION = "quickbooks_online"


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()


class SyncStuck(Exception):
    """ConnectBooster answered with a run already known to be stuck: joining it would only wait again."""

    def __init__(self, run) -> None:
        super().__init__(f"sync {run.id} is stuck")
        self.run = run


class SyncCoordinator:
    """Starts or joins the integration sync and watches it, calling back on every observed change."""

    def __init__(
        self,
        cb,
        *,
        on_update: Callable[[object], None],
        on_stuck: Callable[[object], None],
        poll_seconds: float = 3.0,
        timeout_seconds: float = 600.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.cb = cb
        self.on_update = on_update
        self.on_stuck = on_stuck
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.wall_clock = wall_clock
        self.polls = 0  # every GET /syncs/{id}, for the request budget
        self._lock = threading.Lock()
        self._current = None
        self._watchers: dict[int, threading.Thread] = {}
        self._stop = threading.Event()
        self.stuck: set[int] = set()  # runs past the timeout that have not ended: watched on, never joined

    def join(self, *, sync_from: date, idempotency_key: str):
        """The run this job should wait for: the open one we know of, or a new one (409 → the running one)."""
        with self._lock:
            current = self._current
            if current is not None and current.status in OPEN and current.sync_from <= sync_from.isoformat():
                return current
            run = self.cb.start_sync(integration_id=INTEGRATION, sync_from=sync_from, idempotency_key=idempotency_key)
            if run.id in self.stuck and run.status in OPEN:  # ConnectBooster refuses a new run while this one hangs
                raise SyncStuck(run)
            self._current = run
        self.watch(run.id)
        return run

    def mark_stuck(self, sync_id: int) -> None:
        """After a restart: a job recorded this run as stuck, so it is watched slowly and never joined."""
        self.stuck.add(sync_id)

    def watch(self, sync_id: int) -> None:
        """Ensure exactly one poller follows this run."""
        with self._lock:
            thread = self._watchers.get(sync_id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._poll, args=(sync_id,), name=f"sync-{sync_id}", daemon=True)
            self._watchers[sync_id] = thread
        thread.start()

    @property
    def pollers(self) -> int:
        """How many runs a poller was started for (the request budget counts them)."""
        with self._lock:
            return len(self._watchers)

    def stop(self) -> None:
        self._stop.set()

    def _poll(self, sync_id: int) -> None:
        interval = min(1.0, self.poll_seconds)
        last = None
        # The deadline counts from when this poller started, not from the run's request: after a restart or a
        # "Sync again" that rejoins an old run, the run gets a fresh chance instead of being stuck at once.
        started = self.wall_clock()
        requested: float | None = None
        last_run = None
        while not self._stop.is_set():
            try:
                self.polls += 1
                run = self.cb.get_sync(sync_id=sync_id)
            except IntegrationError as e:  # keep watching through ConnectBooster hiccups; timeout still applies
                log.warning("sync %s: poll failed (%s)", sync_id, brief(e))
                run = None
            if run is not None:
                with self._lock:
                    if self._current is not None and self._current.id == run.id:
                        self._current = run
                snapshot = (run.status, tuple((s.integration_id, s.status) for s in run.stages))
                if snapshot != last:
                    last = snapshot
                    self._safely(self.on_update, run)
                if run.status not in OPEN:
                    self.stuck.discard(sync_id)
                    return
                requested = max(_epoch(run.requested_at) or started, started)
            late = requested is not None and self.wall_clock() - requested > self.timeout_seconds
            if late and sync_id not in self.stuck:
                with self._lock:  # forget it: the next join asks ConnectBooster again (409 → this run, or a new one)
                    if self._current is not None and self._current.id == sync_id:
                        self._current = None
                    self.stuck.add(sync_id)
                self._safely(self.on_stuck, run or last_run)
            last_run = run or last_run
            # A stuck run is watched on, slowly: its end (ConnectBooster gives up, support clears it) lets jobs go on.
            wait = max(interval, min(30.0, self.timeout_seconds / 6)) if sync_id in self.stuck else interval
            if self._stop.wait(wait):
                return
            interval = min(self.poll_seconds, interval * 1.5)

    @staticmethod
    def _safely(callback, run) -> None:
        try:
            callback(run)
        except Exception:  # a callback bug must not kill the poller that other jobs rely on
            log.exception("sync callback failed for run %s", getattr(run, "id", "?"))
