"""Helpers for the QuickBooks client tests (not fixtures): the recording, hookable Session, canned answers."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import requests
from requests.structures import CaseInsensitiveDict

from integrations.quickbooks_auth import QuickBooksTokens
from sandbox import seed

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
REALM = seed.REALM_ID


@dataclass
class Hook:
    matches: Callable[[requests.PreparedRequest], bool]
    action: Callable[[requests.PreparedRequest], requests.Response | None]
    times: int = 1


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    headers: dict  # of the response
    at: float
    request_headers: dict
    raw_body: str | None

    @property
    def request_body(self):
        return json.loads(self.raw_body, parse_float=Decimal) if self.raw_body else None


class HookedSession(requests.Session):
    """A real Session that records each exchange and runs armed hooks before matching requests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self.exchanges: list[Exchange] = []
        self.armed: list[Hook] = []
        self._lock = threading.Lock()

    def before(self, matches, action, times: int = 1) -> None:
        self.armed.append(Hook(matches, action, times))

    def send(self, request, **kwargs):  # noqa: D401 (requests' signature)
        canned = None
        with self._lock:
            hook = next((h for h in self.armed if h.times > 0 and h.matches(request)), None)
            if hook:
                hook.times -= 1
        at = self.clock()  # when the request left, i.e. right after the limiter let it go
        if hook:
            canned = hook.action(request)
        response = canned if canned is not None else super().send(request, **kwargs)
        with self._lock:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            self.exchanges.append(Exchange(request.method, request.url, response.status_code,
                                           dict(response.headers), at, dict(request.headers), body))
        return response


def canned(request, status: int, body: bytes = b"{}", headers: dict | None = None) -> requests.Response:
    """A response as the network would have delivered it."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response.url = request.url
    response.request = request
    return response


def is_post_payment(request) -> bool:
    return request.method == "POST" and "/payment?" in request.url


def make_tokens(emu, store, **kwargs) -> QuickBooksTokens:
    return QuickBooksTokens(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            redirect_uri="http://127.0.0.1:1/callback", environment=emu.discovery_url,
                            realm_id=REALM, store=store, **kwargs)


def refreshes(emu) -> list[dict]:
    return [t for t in emu.token_requests if t["grant_type"] == "refresh_token"]


def expire_stored_access(store) -> None:
    """Make the stored access token look expired, keeping the refresh token."""
    record = store.load(REALM)
    store.save(REALM, access_token=record.access_token, access_expires_at=time.time() - 1,
               refresh_token=record.refresh_token, refresh_expires_at=record.refresh_expires_at)
