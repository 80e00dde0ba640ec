"""A small, generic fault injector shared by the sandbox emulators (QuickBooks, ConnectBooster, Slack).

A test arms a fault (`faults.inject("429", times=2, match="/payment")`); the emulator asks
`faults.take(method, path)` at the start of every request and, when a fault comes back, plays it instead
of (or around) the normal answer. What a kind means is up to each emulator; this module only keeps count.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

Matcher = str | Callable[[str, str], bool] | None


@dataclass(frozen=True)
class Fault:
    """One fault to play: its kind (emulator-specific, e.g. "429", "slow") and an optional duration."""

    kind: str
    seconds: float | None = None


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None  # None: until cleared
    match: Matcher

    def matches(self, method: str, path: str) -> bool:
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(method, path))
        return self.match in path


class Faults:
    """Thread-safe list of armed faults, consumed first-armed-first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []

    def inject(
        self,
        kind: str,
        *,
        times: int | None = 1,
        match: Matcher = None,
        seconds: float | None = None,
    ) -> None:
        """Arm `kind` for the next `times` matching requests (None: until `clear()`)."""
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._armed.append(_Armed(Fault(kind, seconds), times, match))

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first armed fault matching this request, consuming one use of it."""
        with self._lock:
            if not self._armed:  # the common case, kept cheap for benchmarks
                return None
            for armed in self._armed:
                if armed.matches(method, path):
                    if armed.remaining is not None:
                        armed.remaining -= 1
                        if armed.remaining == 0:
                            self._armed.remove(armed)
                    return armed.fault
        return None

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._armed.clear()

    @property
    def armed(self) -> list[dict]:
        """A snapshot for display: kind, seconds, remaining uses, match."""
        with self._lock:
            return [
                {
                    "kind": a.fault.kind,
                    "seconds": a.fault.seconds,
                    "remaining": a.remaining,
                    "match": a.match if isinstance(a.match, str) or a.match is None else repr(a.match),
                }
                for a in self._armed
            ]
