"""One WSGI router in front of every HTTP route: methods allowed per route, a body cap, no body ever logged.

    router = Router(max_body=1_048_576)
    router.add("/slack/events", slack_handler, methods=("POST",))
    router.add("/healthz", health, methods=("GET",))          # HEAD is implied by GET

A route added here inherits every guard: an unknown path is 404; a method the route does not list is 405 (with
`Allow`), so TRACE, PUT, DELETE and OPTIONS reach no application; a body declared larger than the cap is refused
with 413 before a byte of it is read (the HTTP server (server.py) refuses it too, before buffering it), and the
application can never read past the declared length. Refusals are logged as counts (status and route only), at
most one line a minute, so a flood of bad requests cannot grow the log by its own size.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
           413: "Content Too Large"}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Route:
    app: WSGIApp
    methods: frozenset[str]
    max_body: int


class Capped:
    """wsgi.input that never yields more than the declared length (a lying client cannot make us read on)."""

    def __init__(self, stream, length: int) -> None:
        self.stream, self.left = stream, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.readline(size) if size else b""
        self.left -= len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")


class RefusalLog:
    """Counts refused requests by status and route; logs the counts at most once per `every` seconds."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self._counts: Counter[tuple[int, str]] = Counter()
        self._last = float("-inf")
        self._lock = threading.Lock()

    def add(self, status: int, route: str) -> None:
        with self._lock:
            self._counts[status, route] += 1
            if self.clock() - self._last < self.every:
                return
            self._last, counts, self._counts = self.clock(), self._counts, Counter()
        log.warning("refused %d HTTP request(s) since the last report: %s", sum(counts.values()),
                    ", ".join(f"{route} {status} ×{n}" for (status, route), n in sorted(counts.items())))


class Router:
    """The bot's one WSGI application: routes by path, each behind the same guards."""

    def __init__(self, *, max_body: int, refusals: RefusalLog | None = None) -> None:
        self.max_body = max_body
        self.refusals = refusals or RefusalLog()
        self.routes: dict[str, Route] = {}

    def add(self, path: str, app: WSGIApp, *, methods: Iterable[str] = ("POST",), max_body: int | None = None) -> None:
        """Serve `app` at `path` for `methods` (GET implies HEAD), bodies up to `max_body` (default: the router's)."""
        allowed = {m.upper() for m in methods}
        if "GET" in allowed:
            allowed.add("HEAD")
        self.routes[path] = Route(app, frozenset(allowed), self.max_body if max_body is None else max_body)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        route = self.routes.get(path)
        if route is None:
            return self._refuse(start_response, 404, "other")
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        if method not in route.methods:
            return self._refuse(start_response, 405, path, [("Allow", ", ".join(sorted(route.methods)))])
        refused = self._body(environ, method, route.max_body)
        if refused:
            return self._refuse(start_response, refused, path)

        def counted(status: str, headers: list, exc_info=None):
            code = int(status.split(" ", 1)[0])
            if code in (401, 403):  # e.g. a request whose Slack signature did not verify
                self.refusals.add(code, path)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return route.app(environ, counted)

    @staticmethod
    def _body(environ: dict, method: str, cap: int) -> int | None:
        """The refusal for this request's body (None: acceptable); the body itself is never read here."""
        raw = str(environ.get("CONTENT_LENGTH") or "").strip()
        if not raw:
            chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
            if chunked and method in BODY_METHODS:
                return 411  # the server de-chunks into CONTENT_LENGTH; one that did not is not trusted to stop
            environ["wsgi.input"] = Capped(environ.get("wsgi.input"), 0)
            return None
        if not raw.isdigit():
            return 400
        length = int(raw)
        if length > cap:
            return 413
        environ["wsgi.input"] = Capped(environ.get("wsgi.input"), length)
        return None

    def _refuse(self, start_response: Callable, status: int, route: str, headers: list | None = None):
        self.refusals.add(status, route)
        body = f"{status} {REASONS[status]}\n".encode()
        start_response(f"{status} {REASONS[status]}", [("Content-Type", "text/plain; charset=utf-8"),
                                                       ("Content-Length", str(len(body))), *(headers or [])])
        return [body]
