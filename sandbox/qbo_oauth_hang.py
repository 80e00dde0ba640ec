"""The hang fault of the emulated OAuth endpoints (real-world.md §7: intuit-oauth has no timeouts).

`Hangs.hang("token")` makes the token endpoint accept each request and never answer until `release()`;
released requests are dropped without an answer (they never reached Intuit), or with `release(answer=True)`
processed and answered late. "discovery" does the same to the discovery document (see OAuthServer.gate).
A parked request holds only its own daemon thread, so stopping the server is never blocked by it.
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

HANG_ENDPOINTS = ("token", "discovery")
MAX_HANG_SECONDS = 600.0  # a forgotten hang still ends, so a long test session cannot pile up parked threads


@dataclass
class _Episode:
    released: threading.Event = field(default_factory=threading.Event)
    answer: bool = False


class Hangs:
    """Endpoints that accept a request and never answer it, until released."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._episodes: dict[str, _Episode] = {}
        self.parked = {e: 0 for e in HANG_ENDPOINTS}  # requests waiting right now
        self.hung = {e: 0 for e in HANG_ENDPOINTS}  # requests ever parked

    def hang(self, endpoint: str) -> None:
        """From now on every request to `endpoint` ("token" or "discovery") waits without an answer."""
        if endpoint not in HANG_ENDPOINTS:
            raise ValueError(f"unknown hang endpoint {endpoint!r}; one of {HANG_ENDPOINTS}")
        with self._lock:
            self._episodes.setdefault(endpoint, _Episode())

    def release(self, endpoint: str | None = None, *, answer: bool = False) -> None:
        """Stop hanging (one endpoint or all); parked requests are dropped, or answered when `answer`."""
        with self._lock:
            for name in [endpoint] if endpoint else list(self._episodes):
                episode = self._episodes.pop(name, None)
                if episode is not None:
                    episode.answer = answer
                    episode.released.set()

    def park(self, endpoint: str) -> bool:
        """Called by a request: waits while `endpoint` hangs; True to answer normally, False to drop it."""
        with self._lock:
            episode = self._episodes.get(endpoint)
            if episode is None:
                return True
            self.parked[endpoint] += 1
            self.hung[endpoint] += 1
            self._lock.notify_all()
        try:
            released = episode.released.wait(MAX_HANG_SECONDS)
        finally:
            with self._lock:
                self.parked[endpoint] -= 1
        return released and episode.answer

    def wait_parked(self, endpoint: str, count: int = 1, timeout: float = 5.0) -> bool:
        """For tests: wait until `count` requests to `endpoint` have been parked in all."""
        with self._lock:
            return self._lock.wait_for(lambda: self.hung[endpoint] >= count, timeout)


def drop_connection(environ: dict | None, why: str) -> None:
    """Close the connection without an answer (werkzeug treats ConnectionError as "client went away")."""
    sock = (environ or {}).get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError(why)
