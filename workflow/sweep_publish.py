"""How often a sweep's message is rebuilt: at once when the sweep changes state, else at most every second.

Every item's every move advances its sweep, and each advance used to rebuild the whole message (every item, a
digest of its blocks) under the sweep's lock: a sweep of 300 spent ~16 ms on each of ~2,100 rebuilds, half a
minute in which its items waited for the lock, and Slack is shown at most one update every 2.5 s anyway
(messages/pacing.py). Here a rebuild in the same state within PUBLISH_EVERY seconds of the last is deferred to a
single trailing one, so the message still ends showing the latest figures; a new state (syncing, finished, an
undo's) is published at once, so a summary and a notice are never late.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from data.states import SETTLED, JobState
from workflow.sweep_items import why_not_done

log = logging.getLogger(__name__)
PUBLISH_EVERY = 1.0  # seconds between two rebuilds of one sweep's message while its state stays the same


class PublishThrottle:
    """`due(batch_id, state)` says whether to publish now; if not, `later(batch_id)` is called once the second is
    up."""

    def __init__(self, later: Callable[[int], None], *, every: float = PUBLISH_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.later, self.every, self.clock = later, every, clock
        self._last: dict[int, tuple[float, str]] = {}  # batch id -> (when, state) of its last publication
        self._timers: dict[int, threading.Timer] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def due(self, batch_id: int, state: str) -> bool:
        now = self.clock()
        with self._lock:
            last = self._last.get(batch_id)
            if last is None or last[1] != state or now - last[0] >= self.every:
                self._last[batch_id] = (now, state)
                return True
            if batch_id not in self._timers and not self._stopped:
                timer = threading.Timer(self.every - (now - last[0]), self._fire, [batch_id])
                timer.daemon = True
                self._timers[batch_id] = timer
                timer.start()
            return False

    def _fire(self, batch_id: int) -> None:
        with self._lock:
            self._timers.pop(batch_id, None)
            self._last.pop(batch_id, None)  # the trailing publication is due whatever the clock says
            if self._stopped:
                return
        try:
            self.later(batch_id)
        except Exception:  # a stopping bot (its database closed): the next start publishes from the stored rows
            log.warning("a sweep's deferred message update failed", exc_info=True)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()


class PublishesMessage:
    """SweepService's message: rebuilt from the stored rows when its throttle says so (its lock held)."""

    def _publish_later(self, batch_id: int) -> None:
        with self.lock:
            if (batch := self.batches.get(batch_id)) is not None:
                self._publish(batch)

    def _publish(self, batch) -> None:
        if self.throttle.due(batch.id, batch.state):  # else rebuilt within the second: a trailing rebuild is due
            self._rebuild(batch)

    def _rebuild(self, batch) -> None:
        items = self.store.in_batch(batch.id)
        undo = self.controls.view(batch, items) if batch.undo_by else None
        self.runner.notifier.publish_batch(batch, items, {j.id: why_not_done(self.store, j) for j in items
                                                          if j.state in SETTLED - {JobState.VERIFIED}}, undo)
