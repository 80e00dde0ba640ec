"""Fixtures: the QuickBooks emulator on a free loopback port, a token store on a temp database, and the
real client with injected time (a recording sleep for the RetryPolicy, a fake clock for the RateLimiter).

The only seam is the transport: `HookedSession` is a real `requests.Session` that records responses and
can act just before a matching request (a competing write, a canned 403), never the client's own code.
"""
from __future__ import annotations

import time

import pytest

from data.db import Connections
from data.token_key import TokenCipher
from data.tokens import TokenStore
from integrations.http import RateLimiter, RetryPolicy
from integrations.quickbooks import QuickBooksClient
from integrations.quickbooks_auth import QuickBooksTokens
from tests.integrations.quickbooks.helpers import CLIENT_ID, CLIENT_SECRET, REALM, HookedSession, make_tokens


@pytest.fixture
def emu():
    from sandbox.qbo_emulator import QBOEmulator

    emulator = QBOEmulator(realm_id=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed_data=True,
                           clock=time.time, limits=None)
    emulator.base_url = emulator.start(port=0)
    yield emulator
    emulator.stop()


CIPHER = TokenCipher.generate()  # one key for every store of the run: a "restart" reads what was sealed


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(Connections(str(tmp_path / "tokens.db")), CIPHER)


@pytest.fixture
def minted(emu, store) -> dict:
    """Tokens the emulator issued, stored as if connect-quickbooks had just run."""
    tokens = emu.mint_tokens()
    store.save(REALM, access_token=tokens["access_token"], access_expires_at=time.time() + 3600,
               refresh_token=tokens["refresh_token"], refresh_expires_at=time.time() + 8_726_400)
    return tokens


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
