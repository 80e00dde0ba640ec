"""The HTTP server (waitress) with bounded bodies, connections and idle time.

What the bot itself guarantees, whatever sits in front of it:
- a body larger than `max_body` is refused (413) from its Content-Length before it is read, and a chunked one as
  soon as it passes the cap while streaming: waitress never buffers more (`max_request_body_size`);
- at most `max_connections` connections stay open. At the limit waitress would stop accepting, so that a few
  hundred idle or half-open connections left Slack's next request unanswered; here the connection idle longest
  without a request in progress is closed instead, and the new one is served;
- a connection idle `idle_seconds` without a request in progress is closed.
Per-address limits and request rates belong to the reverse proxy in front (README, "HTTP mode").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

log = logging.getLogger(__name__)
HEADROOM = 16  # waitress's own limit sits above ours: eviction keeps it from ever refusing to accept


@dataclass(frozen=True)
class Limits:
    """HTTP_MAX_BODY_BYTES, HTTP_MAX_CONNECTIONS, HTTP_IDLE_SECONDS (config.py)."""

    max_body: int = 1_048_576
    max_connections: int = 200
    idle_seconds: int = 10
    threads: int = 16
    max_header: int = 64 * 1024


class GuardedServer(TcpWSGIServer):
    """waitress's TCP server that makes room for a new connection by closing the longest-idle one."""

    max_connections = Limits.max_connections
    evicted = 0  # connections closed to make room, since start

    def readable(self) -> bool:
        if self.accepting:
            self._make_room()
        return super().readable()

    def _make_room(self) -> None:
        live = [c for c in list(self.active_channels.values()) if not c.will_close]
        excess = len(live) - self.max_connections + 1
        if excess <= 0:
            return
        idle = sorted((c for c in live if not c.requests and not c.total_outbufs_len), key=lambda c: c.last_activity)
        for channel in idle[:excess]:
            channel.will_close = True  # closed by the loop's next pass (its writable() is now true)
        self.evicted += min(excess, len(idle))
        if idle:
            log.debug("closed %d idle connection(s) to make room", min(excess, len(idle)))


def make_server(app, *, host: str, port: int, limits: Limits = Limits()) -> GuardedServer:
    """A started (listening) server; run it with `.run()` on a thread, stop it with `.close()`."""
    adj = Adjustments(host=host, port=port, threads=limits.threads, ident="applycredit",
                      max_request_body_size=limits.max_body, max_request_header_size=limits.max_header,
                      connection_limit=limits.max_connections + HEADROOM, channel_timeout=limits.idle_seconds,
                      cleanup_interval=1, asyncore_use_poll=True)
    server = GuardedServer(app, map={}, adj=adj)
    server.max_connections = limits.max_connections
    return server
