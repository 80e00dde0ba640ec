"""The local callback listener of `connect-quickbooks` (development keys: a localhost redirect URI).

It waits for the one request that carries QuickBooks' answer (this run's `state` plus a `code` or an `error`) on
the redirect URI's path. Everything else — a favicon, a browser's speculative connection, a reload without
parameters, another path, a redirect with another state (a stale tab, a stray or forged link) — is answered and
ignored, so it cannot end the flow.
"""
from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from integrations.errors import AuthError
from integrations.quickbooks_authclient import SERVICE

# (HTTP status, page text) for the browser, after the flow has dealt with the redirect.
OnCallback = Callable[[dict[str, str]], tuple[int, str]]

WAITING_PAGE = ("This address waits for QuickBooks' redirect after you approve access in the browser. "
                "Nothing was done.")


def query_params(query: str) -> dict[str, str]:
    """The first value of each query parameter (percent-decoded; undecodable bytes become U+FFFD)."""
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def same_state(got: str, expected: str) -> bool:
    """Constant-time comparison as bytes: any text (non-ASCII, lone surrogates from a terminal) compares."""
    return hmac.compare_digest(got.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def is_redirect(params: dict[str, str]) -> bool:
    """True for QuickBooks' answer: a state plus a code or an error; anything else is a stray request."""
    return bool(params.get("state")) and bool(params.get("code") or params.get("error"))


class _Handler(BaseHTTPRequestHandler):
    """Answers one browser request; only QuickBooks' redirect reaches the flow."""

    timeout = 10  # a connection that never sends its request (browsers preconnect) is dropped, not waited on

    def do_GET(self) -> None:
        server: CallbackServer = self.server  # type: ignore[assignment]
        url = urlsplit(self.path)
        if url.path != server.expected_path:
            self._answer(404, "Not found.")
            return
        params = query_params(url.query)
        if not is_redirect(params):
            self._answer(400, WAITING_PAGE)
            return
        if server.state is not None and not same_state(params["state"], server.state):
            self._answer(400, "This redirect is not from this run of connect-quickbooks (its state differs), so it "
                              "was ignored; nothing was done. Approve access from the link the terminal printed.")
            return
        if not server.claim():
            self._answer(409, "QuickBooks' redirect was already handled: see the terminal.")
            return
        try:
            status, text = server.on_callback(params)
        finally:
            server.finished.set()
        self._answer(status, text)

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the query string holds the auth code
        return


class CallbackServer(ThreadingHTTPServer):
    """A listener on the redirect URI's host and port; each request on its own daemon thread."""

    daemon_threads = True

    def __init__(self, redirect_uri: str, on_callback: OnCallback, state: str | None = None) -> None:
        redirect = urlsplit(redirect_uri)
        self.state = state  # this run's; a redirect carrying another is ignored, not fatal
        address = (redirect.hostname or "localhost", redirect.port or 80)
        self.expected_path = redirect.path or "/"
        self.on_callback = on_callback
        self.finished = threading.Event()
        self._claimed = False
        self._claim_lock = threading.Lock()
        try:
            super().__init__(address, _Handler)
        except OSError as exc:
            raise RuntimeError(f"cannot listen on {address[0]}:{address[1]} for QBO_REDIRECT_URI ({exc.strerror}): "
                               "free the port or change QBO_REDIRECT_URI (and the app's redirect URI at Intuit)"
                               ) from None
        self.timeout = 0.2  # handle_request() polls this often, so the deadline is checked promptly

    @property
    def claimed(self) -> bool:
        return self._claimed

    def claim(self) -> bool:
        """The first redirect wins; a second one (a reload) must not exchange the code again."""
        with self._claim_lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def wait(self, timeout: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Serve until the redirect was handled; AuthError if none came within `timeout` seconds."""
        deadline = monotonic() + timeout
        try:
            while not self.finished.is_set():
                # Once the redirect is being handled, its code exchange (itself time-bounded) is let finish.
                if not self.claimed and monotonic() > deadline:
                    raise AuthError(f"timed out after {timeout:g} s waiting for QuickBooks' redirect to "
                                    f"{self.expected_path} on port {self.server_address[1]}: nothing was "
                                    "connected; run `python bot.py connect-quickbooks` again and approve access "
                                    "in the browser", service=SERVICE, code="timeout")
                self.handle_request()
        finally:
            self.server_close()
