"""OAuth tokens against the emulator's token endpoint: lazy AuthClient, rotation persisted across restarts,
one refresh for ten threads, invalid_grant, and bounded waits when the token endpoint or the discovery
document never answers (the emulator's hang fault). The connect flow is in test_connect.py."""
from __future__ import annotations

import threading
import time

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from data.db import Connections, open_db
from data.tokens import TokenStore
from integrations.errors import AuthError, TransientError
from integrations.http import RetryPolicy
from integrations.quickbooks_auth import (
    DEFAULT_AUTH_TIMEOUT,
    QuickBooksTokens,
    TimeoutAuthClient,
)
from sandbox.serving import LoopbackServer

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, make_tokens


def refreshes(emu) -> list[dict]:
    return [t for t in emu.token_requests if t["grant_type"] == "refresh_token"]


def expire_stored_access(store) -> None:
    """Make the stored access token look expired, keeping the refresh token."""
    record = store.load(REALM)
    store.save(REALM, access_token=record.access_token, access_expires_at=time.time() - 1,
               refresh_token=record.refresh_token, refresh_expires_at=record.refresh_expires_at)


def test_auth_client_is_built_lazily(emu, store, minted):
    built = []

    def factory(**kwargs):
        built.append(kwargs)
        return AuthClient(**kwargs)

    now = [time.time()]
    tokens = make_tokens(emu, store, auth_client_factory=factory, clock=lambda: now[0])
    assert tokens.access_token() == minted["access_token"]  # a valid stored token needs no AuthClient
    assert built == [] and emu.requests == []
    now[0] += 3600 - 59  # within a minute of expiry: refresh ahead of time
    assert tokens.access_token() != minted["access_token"]
    assert len(built) == 1 and built[0]["environment"] == emu.discovery_url
    assert "sandbox-client-secret" not in repr(tokens)


def test_initial_refresh_token_is_used_only_without_a_row(emu, store):
    first = emu.mint_tokens()
    tokens = make_tokens(emu, store, initial_refresh_token=first["refresh_token"])
    access = tokens.access_token()
    record = store.load(REALM)
    assert record.access_token == access and record.refresh_token != first["refresh_token"]
    assert record.access_expires_at == pytest.approx(time.time() + 3600, abs=30)
    assert record.refresh_expires_at > time.time() + 86400
    assert store.latest_realm() == REALM


def test_rotation_survives_a_restart(emu, tmp_path):
    path = str(tmp_path / "restart.db")
    original = emu.mint_tokens()["refresh_token"]
    store = TokenStore(Connections(path))
    make_tokens(emu, store, initial_refresh_token=original).access_token()
    rotated = store.load(REALM).refresh_token

    # "Restart": new objects on the same file, still configured with the original QBO_REFRESH_TOKEN.
    restarted = TokenStore(lambda: open_db(path))
    expire_stored_access(restarted)
    make_tokens(emu, restarted, initial_refresh_token=original).access_token()
    assert [r["status"] for r in refreshes(emu)] == [200, 200]
    assert restarted.load(REALM).refresh_token not in (original, rotated)

    # The emulator refuses the superseded token, so using the newest one is what made the restart work.
    stale_store = TokenStore(Connections(str(tmp_path / "empty.db")))
    with pytest.raises(AuthError) as caught:
        make_tokens(emu, stale_store, initial_refresh_token=rotated).access_token()
    assert caught.value.code == "invalid_grant"
    assert "python bot.py connect-quickbooks" in str(caught.value)
    assert rotated not in str(caught.value)


def test_not_connected_is_a_clear_auth_error(emu, store):
    with pytest.raises(AuthError) as caught:
        make_tokens(emu, store).access_token()
    assert "connect-quickbooks" in str(caught.value) and emu.token_requests == []


def test_wrong_client_secret_is_auth_error(emu, store, minted):
    expire_stored_access(store)
    tokens = QuickBooksTokens(client_id=CLIENT_ID, client_secret="wrong", redirect_uri="http://127.0.0.1:1/cb",
                              environment=emu.discovery_url, realm_id=REALM, store=store)
    with pytest.raises(AuthError) as caught:
        tokens.access_token()
    assert caught.value.status == 401 and "QBO_CLIENT_SECRET" in str(caught.value)


def test_ten_threads_needing_a_refresh_make_one_token_request(emu, store, tokens):
    expire_stored_access(store)
    barrier = threading.Barrier(10)
    got: list[str] = []

    def work():
        barrier.wait()
        got.append(tokens.access_token())

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 10 and len(set(got)) == 1
    assert len(refreshes(emu)) == 1


def test_ten_threads_hitting_401_share_one_refresh(emu, store, make_client):
    client = make_client()
    emu.expire_access_tokens()
    barrier = threading.Barrier(10)
    results: list[str] = []

    def work():
        barrier.wait()
        results.append(client.get_customer(customer_id="58").id)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["58"] * 10
    assert len(refreshes(emu)) == 1


def test_a_token_refreshed_by_another_process_is_picked_up(emu, store, tokens):
    stale = tokens.access_token()
    other = make_tokens(emu, store)  # another process on the same database
    expire_stored_access(store)
    fresh = other.access_token()
    assert tokens.refreshed_after(stale) == fresh  # the row is newer than what was rejected: no second refresh
    assert len(refreshes(emu)) == 1


def test_token_store_round_trip_and_single_row(store):
    assert store.load(REALM) is None and store.latest_realm() is None
    store.save(REALM, access_token="a1", access_expires_at=1.5, refresh_token="r1", refresh_expires_at=None)
    store.save("other", access_token=None, access_expires_at=None, refresh_token="r9", refresh_expires_at=9.0)
    store.save(REALM, access_token="a2", access_expires_at=2.5, refresh_token="r2", refresh_expires_at=3.5)
    record = store.load(REALM)
    assert (record.access_token, record.access_expires_at, record.refresh_token, record.refresh_expires_at) == (
        "a2", 2.5, "r2", 3.5)
    assert store.latest_realm() == REALM
    assert "a2" not in repr(record) and "r2" not in repr(record)
    with pytest.raises(ValueError):
        store.save(REALM, access_token="a", access_expires_at=1.0, refresh_token="", refresh_expires_at=None)


def test_auth_client_error_shape_is_what_we_map(emu):
    """Guards the intuit-oauth contract the mapping relies on (status, JSON body, intuit_tid)."""
    client = AuthClient(CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1:1/cb", emu.discovery_url)
    with pytest.raises(AuthClientError) as caught:
        client.refresh(refresh_token="nope")
    assert caught.value.status_code == 400 and b"invalid_grant" in caught.value.content


def test_refresh_lost_to_another_process_uses_the_winners_tokens(emu, store, minted):
    """Two processes (two QuickBooksTokens, two locks) refresh at once: the loser gets invalid_grant,
    re-reads the row and uses what the winner stored, instead of telling the user to reconnect."""
    winner = make_tokens(emu, store)

    class RacingAuthClient(AuthClient):
        def refresh(self, refresh_token=None):
            winner.refreshed_after(minted["access_token"])  # the other process rotates first
            return super().refresh(refresh_token=refresh_token)

    loser = make_tokens(emu, store, auth_client_factory=RacingAuthClient)
    expire_stored_access(store)
    token = loser.access_token()
    assert token == store.load(REALM).access_token
    assert [r["status"] for r in refreshes(emu)] == [200, 400]


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
