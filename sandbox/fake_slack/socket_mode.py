"""Socket Mode's WebSocket side (real-world.md §3 "Socket Mode protocol"), on websockets' threaded server.

- `apps.connections.open` (xapp- token) hands out `ws://127.0.0.1:PORT/link/?ticket=...&app_id=...`; a ticket
  opens one connection. The server sends `hello` first (num_connections, debug_info, connection_info.app_id).
- `deliver()` sends one envelope (`slash_commands`, `interactive`, `events_api`) with `envelope_id`, `payload`,
  `accepts_response_payload` and waits for the ack `{"envelope_id": ..., "payload"?: {...}}` for `ack_timeout`
  (3 s: the HTTP rule, which real-world.md §3 applies here too). Bolt sends no ack at all when its listener did
  not ack (real-world.md §3, "non-200"), so silence is the timeout.
- `disconnect(reason)` sends `{"type": "disconnect", "reason": ...}`; slack-sdk then opens a new connection
  before closing the old one, and reads the new one only after that; envelopes wait for the handover.
  `refresh_interval` does it "now and then" (off by default).
- Pings: websockets answers the client's pings with pongs and pings the client itself, as Slack does.

Our choice where real-world.md §3 says redelivery is unverified: an envelope sent while no connection is open
waits up to `connect_wait` for one (queued, not lost); an envelope whose connection closed before its ack is
sent once more on the newest connection after `ack_timeout` (not at once: slack-sdk may still ack it through
its new connection, and resending early would deliver it twice). `events_api` retries carry `retry_attempt` /
`retry_reason` as Slack's do.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

log = logging.getLogger(__name__)
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


@dataclass
class Delivery:
    """What became of one envelope: acked (with the ack's payload), or why not."""

    envelope_id: str
    acked: bool
    payload: dict | None = None
    error: str | None = None  # "no_connection" | "ack_timeout"
    attempts: int = 1


class _Conn:
    """One open WebSocket; `draining` once we asked it to go away."""

    def __init__(self, ws: ServerConnection, seq: int) -> None:
        self.ws, self.seq = ws, seq
        self.draining = False
        self.closed = threading.Event()


class _Pending:
    def __init__(self, conn: _Conn) -> None:
        self.conn = conn
        self.acked = threading.Event()
        self.payload: dict | None = None


class SocketModeServer:
    """The WebSocket endpoint of one app's Socket Mode; thread-safe."""

    def __init__(self, app_id: str, *, ack_timeout: float = 3.0, connect_wait: float = 5.0,
                 refresh_interval: float | None = None, on_change: Callable[[], None] | None = None,
                 host: str = "127.0.0.1") -> None:
        self.app_id, self.host = app_id, host
        self.ack_timeout, self.connect_wait, self.refresh_interval = ack_timeout, connect_wait, refresh_interval
        self.on_change = on_change or (lambda: None)
        self.frames: list[dict] = []  # every frame sent and received, for tests: {"dir": "out"|"in", ...}
        self._lock = threading.Condition()
        self._tickets: set[str] = set()
        self._conns: list[_Conn] = []
        self._pending: dict[str, _Pending] = {}
        self._seq = 0
        self._server: Any = None
        self._stop = threading.Event()
        self.port: int | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> int:
        """Serve on a free port (idempotent); start the refresh timer if one is configured."""
        with self._lock:
            if self._server is None:
                self._server = serve(self._handle, self.host, 0, process_request=self._check_ticket,
                                     compression=None, ping_interval=20, close_timeout=1,
                                     logger=log)
                self.port = self._server.socket.getsockname()[1]
                threading.Thread(target=self._server.serve_forever, name=f"fake-slack-ws-{self.port}",
                                 daemon=True).start()
                if self.refresh_interval:
                    threading.Thread(target=self._refresh_loop, name="fake-slack-ws-refresh", daemon=True).start()
        return self.port  # type: ignore[return-value]

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            server, self._server = self._server, None
            conns = list(self._conns)
        for conn in conns:
            conn.ws.close()
        if server is not None:
            server.shutdown()

    def issue_url(self) -> str:
        """A one-use ws:// URL, what apps.connections.open answers."""
        self.start()
        ticket = secrets.token_hex(12)
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # ---- connections -------------------------------------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Any) -> Any:
        ticket = (parse_qs(urlparse(request.path).query).get("ticket") or [""])[0]
        with self._lock:
            if ticket not in self._tickets:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
            self._tickets.discard(ticket)
        return None

    def _handle(self, ws: ServerConnection) -> None:
        with self._lock:
            self._seq += 1
            conn = _Conn(ws, self._seq)
            self._conns.append(conn)
            live = len(self._live())
            self._lock.notify_all()
        self._send(conn, {"type": "hello", "num_connections": live,
                          "debug_info": {"host": "applink-fake", "build_number": 1,
                                         "approximate_connection_time": 18060},
                          "connection_info": {"app_id": self.app_id}})
        self.on_change()
        try:
            for raw in ws:
                self._on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                conn.closed.set()
                self._conns.remove(conn)
                self._lock.notify_all()
            self.on_change()

    def _on_frame(self, raw: Any) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("socket mode: a frame that is not JSON: %r", raw[:200])
            return
        with self._lock:
            self.frames.append({"dir": "in", **frame} if isinstance(frame, dict) else {"dir": "in", "raw": frame})
            pending = self._pending.get(frame.get("envelope_id")) if isinstance(frame, dict) else None
            if pending is not None and not pending.acked.is_set():
                pending.payload = frame.get("payload")
                pending.acked.set()

    def _send(self, conn: _Conn, frame: dict) -> bool:
        with self._lock:
            self.frames.append({"dir": "out", **frame})
        try:
            conn.ws.send(json.dumps(frame))
            return True
        except ConnectionClosed:
            return False

    def _live(self) -> list[_Conn]:
        return [c for c in self._conns if not c.draining and not c.closed.is_set()]

    @property
    def connections(self) -> int:
        """How many connections take new envelopes now."""
        with self._lock:
            return len(self._live())

    def wait_connected(self, timeout: float) -> bool:
        """Wait until some connection takes envelopes."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._live():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def _pick(self, wait: float) -> _Conn | None:
        """The newest live connection ("each payload may be sent to any of the connections"). During a
        handover (a connection told to go away and not closed yet) wait for it to close: slack-sdk reads its
        new socket only once it has closed the old one, ~3 s later."""
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                live = self._live()
                handing_over = any(c.draining and not c.closed.is_set() for c in self._conns)
                remaining = deadline - time.monotonic()
                if live and (not handing_over or remaining <= 0):
                    return live[-1]
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)

    def disconnect(self, reason: str = "refresh_requested") -> int:
        """Send Slack's disconnect frame to every live connection; returns how many got it."""
        with self._lock:
            targets = self._live()
            for conn in targets:
                conn.draining = True
        for conn in targets:
            self._send(conn, {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})
        return len(targets)

    def _refresh_loop(self) -> None:
        # re-read the interval each time: setting it to None stops the refreshes
        while not self._stop.wait(self.refresh_interval or 0.1):
            if self.refresh_interval:
                self.disconnect("refresh_requested")

    # ---- envelopes ---------------------------------------------------------------------------------------

    def deliver(self, type_: str, payload: dict, *, accepts_response_payload: bool,
                retry_attempt: int | None = None, retry_reason: str = "") -> Delivery:
        """Send one envelope to the connected app and wait for its ack (see the module docstring)."""
        if type_ not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type_!r}")
        envelope_id = str(uuid.uuid4())
        for attempt in (0, 1):
            conn = self._pick(self.connect_wait)
            if conn is None:
                return Delivery(envelope_id, False, error="no_connection", attempts=attempt + 1)
            envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": type_, "payload": payload,
                                        "accepts_response_payload": accepts_response_payload}
            if type_ == "events_api":
                tries = (retry_attempt or 0) + attempt
                envelope.update(retry_attempt=tries, retry_reason=retry_reason if tries else "")
                if attempt:
                    envelope["retry_reason"] = "timeout"
            pending = _Pending(conn)
            with self._lock:
                self._pending[envelope_id] = pending
            self._send(conn, envelope)
            acked = pending.acked.wait(self.ack_timeout)
            with self._lock:
                self._pending.pop(envelope_id, None)
            if acked:
                return Delivery(envelope_id, True, pending.payload, attempts=attempt + 1)
            with self._lock:
                live = self._live()
                replaced = conn.closed.is_set() or conn.draining or (bool(live) and live[-1] is not conn)
            if not replaced:
                break  # the app got it and did not ack: that is a timeout, not a lost envelope
        return Delivery(envelope_id, False, error="ack_timeout", attempts=attempt + 1)
