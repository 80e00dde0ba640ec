"""HTTP plumbing shared by the clients: retry policy (tenacity) and a client-side rate limiter.

Time is injectable everywhere (`sleep`, `clock`) so tests pin backoff and throttling in milliseconds.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from integrations.errors import IntegrationError, RateLimitedError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class RetryPolicy:
    """Retries transient failures with capped, jittered exponential backoff; 429 waits as the service asks."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 20.0
    rate_limited_default_seconds: float = 60.0  # Intuit: "wait 60 seconds before retrying"
    rate_limited_cap_seconds: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform
    waits: list[float] = field(default_factory=list, repr=False)  # what was slept, for tests and logs

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        return self.jitter(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError):
            wait = exc.retry_after if exc.retry_after is not None else self.rate_limited_default_seconds
            wait = min(max(wait, 0.0), self.rate_limited_cap_seconds)
        else:
            wait = self.backoff(state.attempt_number)
        self.waits.append(wait)
        log.info("retrying after %.2fs (attempt %d): %s", wait, state.attempt_number, exc)
        return wait

    def call(self, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run fn, retrying RateLimitedError always (the request was refused, not done) and
        TransientError only when the request is idempotent."""

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RateLimitedError):
                return True
            return idempotent and isinstance(exc, TransientError)

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(fn)


class RateLimiter:
    """Sliding-window limiter: at most `per_second` calls in any 1 s and `per_minute` in any 60 s.

    Defaults stay just under QuickBooks' documented 10/s and 500/min per company so that clock skew
    between us and Intuit never turns into a 429.
    """

    def __init__(
        self,
        *,
        per_second: int = 9,
        per_minute: int = 480,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_second
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more call fits in both windows, then count it."""
        with self._lock:  # waiters queue on the lock: first come, first served
            while True:
                now = self.clock()
                while self._recent and now - self._recent[0] >= 60.0:
                    self._recent.popleft()
                wait = 0.0
                if len(self._recent) >= self.per_minute:
                    wait = 60.0 - (now - self._recent[-self.per_minute])
                if self.per_second and len(self._recent) >= self.per_second:
                    wait = max(wait, 1.0 - (now - self._recent[-self.per_second]))
                if wait <= 0:
                    self._recent.append(now)
                    return
                self.sleep(wait)


def describe(exc: IntegrationError) -> str:
    """One log-safe line for an integration error."""
    return f"{type(exc).__name__}: {exc}"
