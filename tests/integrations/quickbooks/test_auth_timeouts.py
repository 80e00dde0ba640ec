"""Bounded waits when the token endpoint or the discovery document accepts the connection and never answers (the
emulator's hang fault): every refresh path gives up in time, and no thread is stuck behind another."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from integrations.errors import AuthError, TransientError
from integrations.http import RetryPolicy
from integrations.quickbooks_auth import (
    DEFAULT_AUTH_TIMEOUT,
    QuickBooksTokens,
    TimeoutAuthClient,
)
from sandbox.serving import LoopbackServer

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, expire_stored_access, make_tokens, refreshes

# ---- timeouts: a token endpoint or discovery document that accepts the connection and never answers -------

TIMEOUT = (1.0, 0.3)  # (connect, read): the emulator is on loopback, so only the read can stall
BOUND = 2.0  # two attempts of 0.3 s plus thread start-up, with room for a slow shared machine


def quick_tokens(emu, store, sleeps: list | None = None, attempts: int = 2, **kwargs) -> QuickBooksTokens:
    """Tokens with small injected timeouts, two attempts, a recorded (not slept) backoff, no cooldown."""
    retry = RetryPolicy(attempts=attempts, sleep=(sleeps if sleeps is not None else []).append,
                        jitter=lambda a, b: b)
    kwargs.setdefault("failure_cooldown", 0.0)
    kwargs.setdefault("environment", emu.discovery_url)
    return QuickBooksTokens(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri="http://127.0.0.1:1/cb",
                            realm_id=REALM, store=store, timeout=TIMEOUT, retry=retry, **kwargs)


def timed(fn):
    """(result or exception, seconds taken)."""
    started = time.monotonic()
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 (the test inspects whatever came out)
        result = exc
    return result, time.monotonic() - started


@pytest.fixture
def gated(emu):
    """The emulator behind its WSGI gate, so its discovery document can hang too."""
    server = LoopbackServer(emu.oauth.gate(emu.wsgi), name="qbo-gated")
    server.start()
    yield f"{server.origin}/.well-known/openid_configuration"
    emu.oauth.release()
    server.stop()


def test_auth_client_has_a_default_timeout_on_every_call():
    assert TimeoutAuthClient.timeout == DEFAULT_AUTH_TIMEOUT  # a class attribute: set before discovery runs
    assert all(0 < t <= 15 for t in DEFAULT_AUTH_TIMEOUT)


def test_hanging_token_endpoint_is_bounded_retried_and_recovers(emu, store, minted):
    expire_stored_access(store)
    sleeps: list[float] = []
    tokens = quick_tokens(emu, store, sleeps)
    emu.oauth.hang("token")
    error, took = timed(tokens.access_token)
    assert isinstance(error, TransientError) and took < BOUND
    assert error.code == "no_answer" and "timed out" in str(error) and "after 2 attempts" in str(error)
    assert minted["refresh_token"] not in str(error)
    assert emu.oauth.hangs.hung["token"] == 2 and sleeps == [0.5]  # retried once, after a backoff
    assert store.load(REALM).refresh_token == minted["refresh_token"]  # nothing half-stored

    emu.oauth.release()  # the hung requests are dropped: they never reached the token service
    access = tokens.access_token()
    record = store.load(REALM)
    assert access == record.access_token and record.refresh_token != minted["refresh_token"]
    assert [r["status"] for r in refreshes(emu)] == [200]
    assert make_tokens(emu, store).access_token() == access  # a restart finds the rotated pair


def test_a_second_thread_is_not_stuck_behind_a_hung_refresh(emu, store, minted):
    expire_stored_access(store)
    tokens = quick_tokens(emu, store)
    emu.oauth.hang("token")
    barrier = threading.Barrier(2)
    outcomes: list = []

    def work():
        barrier.wait()
        outcomes.append(timed(tokens.access_token))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert len(outcomes) == 2 and all(isinstance(e, TransientError) and took < BOUND for e, took in outcomes)
    # The thread that queued behind the failing refresh shared its failure instead of hanging twice as long.
    assert emu.oauth.hangs.hung["token"] == 2
    emu.oauth.release()
    assert tokens.access_token() == store.load(REALM).access_token


def test_waiting_for_the_refresh_lock_is_bounded(emu, store, minted):
    expire_stored_access(store)
    slow = make_tokens(emu, store, timeout=(1.0, 1.5), retry=RetryPolicy(attempts=1), lock_wait=0.2,
                       failure_cooldown=0.0)
    emu.oauth.hang("token")
    holder = threading.Thread(target=lambda: timed(slow.access_token), daemon=True)
    holder.start()
    assert emu.oauth.hangs.wait_parked("token")  # the holder is inside its refresh, lock held
    error, took = timed(slow.access_token)
    assert isinstance(error, TransientError) and error.code == "refresh_busy" and took < 1.0
    assert holder.is_alive()
    emu.oauth.release()
    holder.join(5)
    assert not holder.is_alive()


def test_a_failed_refresh_is_shared_for_the_cooldown_then_tried_again(emu, store, minted):
    expire_stored_access(store)
    now = [100.0]
    tokens = quick_tokens(emu, store, failure_cooldown=15.0, monotonic=lambda: now[0])
    emu.oauth.hang("token")
    assert isinstance(timed(tokens.access_token)[0], TransientError)
    now[0] += 5  # QuickBooksClient's own retries come back within seconds: answered at once, no new wait
    error, took = timed(tokens.access_token)
    assert isinstance(error, TransientError) and took < 0.2 and emu.oauth.hangs.hung["token"] == 2
    emu.oauth.release()
    now[0] += 11  # the cooldown is over: a real attempt again
    assert tokens.access_token() == store.load(REALM).access_token


def test_client_call_with_a_hung_token_endpoint_fails_within_one_refresh(emu, store, minted, make_client):
    """QuickBooksClient retries around access_token(); the cooldown keeps that from multiplying the wait."""
    emu.expire_access_tokens()
    expire_stored_access(store)
    client = make_client(tokens=quick_tokens(emu, store, failure_cooldown=30.0))
    emu.oauth.hang("token")
    error, took = timed(lambda: client.get_customer(customer_id="58"))
    assert isinstance(error, TransientError) and took < BOUND
    assert emu.oauth.hangs.hung["token"] == 2


def test_hanging_discovery_document_is_bounded(emu, store, minted, gated):
    expire_stored_access(store)
    tokens = quick_tokens(emu, store, environment=gated)
    emu.oauth.hang("discovery")
    error, took = timed(tokens.access_token)
    assert isinstance(error, TransientError) and took < BOUND
    assert "discovery document" in str(error) and emu.oauth.hangs.hung["discovery"] == 2
    assert refreshes(emu) == []
    emu.oauth.release()
    assert tokens.access_token() == store.load(REALM).access_token
    assert [r["status"] for r in refreshes(emu)] == [200]


def test_timeout_auth_client_constructor_is_bounded(emu, gated):
    emu.oauth.hang("discovery")
    error, took = timed(lambda: TimeoutAuthClient(CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1:1/cb", gated,
                                                  timeout=0.3))
    assert isinstance(error, requests.ReadTimeout) and took < 1.5


def test_a_refresh_answered_after_we_gave_up_needs_a_reconnect(emu, store, minted):
    """If Intuit did rotate the token but its answer never arrived, the old token is dead (the emulator, like
    the documents, allows no reuse): the user is told to reconnect; nothing hangs or crashes."""
    expire_stored_access(store)
    tokens = quick_tokens(emu, store, attempts=1)
    emu.oauth.hang("token")
    assert isinstance(timed(tokens.access_token)[0], TransientError)
    emu.oauth.release(answer=True)
    deadline = time.monotonic() + 5
    while not refreshes(emu) and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(AuthError) as caught:
        tokens.access_token()
    assert caught.value.code == "invalid_grant" and "connect-quickbooks" in str(caught.value)
