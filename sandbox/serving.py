"""Serving a WSGI app on loopback in a daemon thread: what every fake in the sandbox needs."""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for a server whose address must be known before it starts)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _QuietHandler(WSGIRequestHandler):
    """No per-request log lines: the fakes keep their own request logs, and benchmarks serve thousands."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LoopbackServer:
    """werkzeug's threaded server on host:port (0: a free port); `start()` returns the port."""

    def __init__(self, app: Callable, *, name: str, host: str = "127.0.0.1") -> None:
        self.app, self.name, self.host = app, name, host
        self.port: int | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, port: int = 0, host: str | None = None) -> int:
        """Serve on `port` (0: a free one); a port already taken raises OSError (errno EADDRINUSE)."""
        if self._server is None:
            self.host = host or self.host
            # Bound here, not by werkzeug: on a taken port werkzeug prints a message and calls sys.exit(1), which
            # no caller can tell from a real exit (the sandbox died instead of taking a free port).
            sock = socket.create_server((self.host, port))
            try:
                self._server = make_server(self.host, port, self.app, threaded=True, request_handler=_QuietHandler,
                                           fd=sock.fileno())
            finally:
                sock.close()  # werkzeug serves on its own duplicate of the descriptor
            self.port = self._server.socket.getsockname()[1]
            # A short poll keeps stop() fast: shutdown() waits for the serve loop's next look.
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{self.name}-{self.port}", daemon=True)
            self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
