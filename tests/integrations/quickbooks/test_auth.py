"""OAuth tokens against the emulator's token endpoint: lazy AuthClient, rotation persisted across restarts,
one refresh for ten threads, invalid_grant. Bounded waits when the token endpoint hangs: test_auth_timeouts.py;
the connect flow: test_connect.py."""
from __future__ import annotations

import threading
import time

import pytest
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from data.db import Connections, open_db
from data.tokens import TokenStore
from integrations.errors import AuthError
from integrations.quickbooks_auth import (
    QuickBooksTokens,
)

from .conftest import CIPHER
from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, expire_stored_access, make_tokens, refreshes


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
    store = TokenStore(Connections(path), CIPHER)
    make_tokens(emu, store, initial_refresh_token=original).access_token()
    rotated = store.load(REALM).refresh_token

    # "Restart": new objects on the same file, still configured with the original QBO_REFRESH_TOKEN.
    restarted = TokenStore(lambda: open_db(path), CIPHER)
    expire_stored_access(restarted)
    make_tokens(emu, restarted, initial_refresh_token=original).access_token()
    assert [r["status"] for r in refreshes(emu)] == [200, 200]
    assert restarted.load(REALM).refresh_token not in (original, rotated)

    # The emulator refuses the superseded token, so using the newest one is what made the restart work.
    stale_store = TokenStore(Connections(str(tmp_path / "empty.db")), CIPHER)
    with pytest.raises(AuthError) as caught:
        make_tokens(emu, stale_store, initial_refresh_token=rotated).access_token()
    assert caught.value.code == "invalid_grant"
    assert "/applycredit connect" in str(caught.value) and "python bot.py connect-quickbooks" in str(caught.value)
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
