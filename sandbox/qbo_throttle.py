"""Client-side request limits as the QBO emulator enforces them (quickbooks-api.md §4.4: 10/s per realm and app,
500/min per realm), over the emulator's clock."""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class Throttle:
    """Sliding windows (1 s and 60 s) over accepted /v3 requests."""

    def __init__(self, per_second: int, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_second, self.per_minute = per_second, per_minute
        self.clock = clock
        self.hits: deque[float] = deque()
        self.lock = threading.Lock()

    def allow(self) -> bool:
        with self.lock:
            now = self.clock()
            while self.hits and self.hits[0] <= now - 60.0:
                self.hits.popleft()
            if len(self.hits) >= self.per_minute:
                return False
            recent = 0
            for t in reversed(self.hits):
                if t <= now - 1.0:
                    break
                recent += 1
                if recent >= self.per_second:
                    return False
            self.hits.append(now)
            return True
