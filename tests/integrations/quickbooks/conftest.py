"""Fixtures: the QuickBooks emulator on a free loopback port, a token store on a temp database, and the
real client with injected time (a recording sleep for the RetryPolicy, a fake clock for the RateLimiter).

The only seam is the transport: `HookedSession` is a real `requests.Session` that records responses and
can act just before a matching request (a competing write, a canned 403), never the client's own code.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from data.db import Connections
from data.tokens import TokenStore
from integrations.http import RateLimiter, RetryPolicy
from integrations.quickbooks import QuickBooksClient
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


@pytest.fixture
def emu():
    from sandbox.qbo_emulator import QBOEmulator

    emulator = QBOEmulator(realm_id=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed_data=True,
                           clock=time.time, limits=None)
    emulator.base_url = emulator.start(port=0)
    yield emulator
    emulator.stop()


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(Connections(str(tmp_path / "tokens.db")))


@pytest.fixture
def minted(emu, store) -> dict:
    """Tokens the emulator issued, stored as if connect-quickbooks had just run."""
    tokens = emu.mint_tokens()
    store.save(REALM, access_token=tokens["access_token"], access_expires_at=time.time() + 3600,
               refresh_token=tokens["refresh_token"], refresh_expires_at=time.time() + 8_726_400)
    return tokens


def make_tokens(emu, store, **kwargs) -> QuickBooksTokens:
    return QuickBooksTokens(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            redirect_uri="http://127.0.0.1:1/callback", environment=emu.discovery_url,
                            realm_id=REALM, store=store, **kwargs)


@pytest.fixture
def tokens(emu, store, minted) -> QuickBooksTokens:
    return make_tokens(emu, store)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps) -> RetryPolicy:
    """Backoff that records instead of sleeping; jitter pinned to the top of each window."""
    return RetryPolicy(attempts=4, sleep=sleeps.append, jitter=lambda low, high: high)


@pytest.fixture
def session(clock) -> HookedSession:
    s = HookedSession(clock=clock)
    yield s
    s.close()


@pytest.fixture
def make_client(emu, tokens, retry, clock, session):
    """Build a client against the emulator; keyword arguments override the defaults."""

    def build(**overrides) -> QuickBooksClient:
        kwargs = dict(session=session, base_url=emu.base_url, realm_id=REALM, tokens=tokens, retry=retry,
                      limiter=RateLimiter(clock=clock, sleep=clock.sleep), timeout=5.0)
        kwargs.update(overrides)
        return QuickBooksClient(**kwargs)

    return build


@pytest.fixture
def client(make_client) -> QuickBooksClient:
    return make_client()
