"""HTTP plumbing shared by the clients: retry policy (tenacity) and a client-side rate limiter.

Time is injectable everywhere (`sleep`, `clock`) so tests pin backoff and throttling in milliseconds.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from integrations.errors import IntegrationError, RateLimitedError, TransientError, brief

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
        log.info("retrying after %.2fs (attempt %d): %s", wait, state.attempt_number, brief(exc) if exc else None)
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

    Defaults stay just under QuickBooks' documented 10/s and 500/min per company. Intuit counts a request
    when it *arrives*, which is some time after we let it go; `slot()` therefore counts a call as happening
    at every moment from its start until its answer (in flight it is in every window; afterwards it is
    dated at its end), so network or scheduling jitter cannot crowd more calls into Intuit's window than
    ours (bench/throughput.py saw 429s from exactly that with `acquire()`'s start times).
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
        self._calls: list[list[float]] = []  # [time]: inf while in flight, then its end
        self._gate = threading.Lock()  # waiters queue here: first come, first served
        self._data = threading.Lock()  # guards _calls; never held while sleeping, so slots can end

    def _wait(self, now: float) -> float:
        self._calls = [c for c in self._calls if now - c[0] < 60.0]
        wait = 0.0
        for limit, width in ((self.per_minute, 60.0), (self.per_second, 1.0)):
            if not limit:
                continue
            inside = sorted(c[0] for c in self._calls if now - c[0] < width)
            excess = len(inside) - limit + 1
            if excess > 0:
                ends = inside[excess - 1]
                wait = max(wait, ends + width - now if ends != float("inf") else 0.005)  # in flight: recheck soon
        return wait

    def _take(self) -> list[float]:
        with self._gate:
            while True:
                with self._data:
                    now = self.clock()
                    wait = self._wait(now)
                    if wait <= 0:
                        call = [float("inf")]
                        self._calls.append(call)
                        return call
                self.sleep(wait)

    def acquire(self) -> None:
        """Block until one more call fits in both windows, then count it (dated now)."""
        call = self._take()
        with self._data:
            call[0] = self.clock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Block until one more call fits, and count it from now until the block ends (the answer came)."""
        call = self._take()
        try:
            yield
        finally:
            with self._data:
                call[0] = self.clock()


def describe(exc: IntegrationError) -> str:
    """One log-safe line for an integration error."""
    return f"{type(exc).__name__}: {exc}"
