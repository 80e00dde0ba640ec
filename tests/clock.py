"""The one fake clock for tests: epoch seconds that move only when the test advances them or code sleeps on them."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

START = datetime(2026, 11, 26, 18, 0, tzinfo=UTC).timestamp()  # 11:00 in QuickBooks' -07:00, a weekday


class FakeClock:
    """A settable clock: pass the object (or `.time`) where code wants `() -> float`, and `.sleep` for sleep."""

    def __init__(self, start: float = START) -> None:
        self.epoch = float(start)
        self.slept: list[float] = []  # every sleep asked for, so tests can assert on back-off
        self._lock = threading.Lock()  # sleepers in worker threads and the test may move it at once

    def __call__(self) -> float:
        """Epoch seconds, so the object itself is a drop-in `clock=` argument."""
        return self.epoch

    def time(self) -> float:
        """Epoch seconds, like time.time()."""
        return self.epoch

    def monotonic(self) -> float:
        """Seconds that never go back while only advance()/sleep() move the clock, like time.monotonic()."""
        return self.epoch

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.epoch, UTC)

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, for a negative argument) without recording a sleep."""
        with self._lock:
            self.epoch += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep and return at once with the clock moved on by it."""
        with self._lock:
            self.slept.append(seconds)
            self.epoch += seconds

    def set(self, epoch: float) -> None:
        """Jump to an absolute epoch second (e.g. a date the seeded data needs)."""
        with self._lock:
            self.epoch = float(epoch)
