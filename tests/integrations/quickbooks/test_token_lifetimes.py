"""Every token answer's two expiries (x_refresh_token_expires_in and, asked for, x_refresh_token_hard_expires_in)
stored by the real QuickBooksTokens against the emulator, and the keepalive refresh, on one fake clock."""
from __future__ import annotations

import pytest

from integrations.errors import AuthError
from integrations.quickbooks_authclient import lapsed
from sandbox.qbo_emulator import QBOEmulator
from sandbox.qbo_oauth import HARD_TTL, REFRESH_TTL

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, make_tokens, refreshes

DAY = 86400


@pytest.fixture
def clocked(clock):
    emulator = QBOEmulator(realm_id=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
    emulator.base_url = emulator.start(port=0)
    yield emulator
    emulator.stop()


def test_a_refresh_stores_both_expiries_and_when_it_came(clocked, store, clock):
    tokens = make_tokens(clocked, store, initial_refresh_token=clocked.mint_tokens()["refresh_token"], clock=clock)
    stored: list[float] = []
    tokens.on_stored = lambda: stored.append(clock())
    tokens.access_token()
    record = store.load(REALM)
    assert record.refreshed_at == clock() and stored == [clock()]
    assert record.refresh_expires_at == clock() + REFRESH_TTL  # 101 days, rolling
    assert record.refresh_hard_expires_at == clock() + HARD_TTL  # only answered to the opt-in header
    ends = clock() + 5 * DAY
    clocked.oauth.set_hard_expiry(5 * DAY)
    clock.advance(3601)
    tokens.access_token()  # the next answer counts down to the same end (and the rolling expiry is capped by it)
    record = store.load(REALM)
    assert record.refresh_hard_expires_at == ends and record.expires_at == ends


def test_keepalive_refreshes_only_when_due_even_with_a_usable_access_token(clocked, store, clock):
    tokens = make_tokens(clocked, store, initial_refresh_token=clocked.mint_tokens()["refresh_token"], clock=clock)
    tokens.access_token()
    assert len(refreshes(clocked)) == 1
    clock.advance(29 * DAY)
    assert tokens.keepalive(30 * DAY) is False and len(refreshes(clocked)) == 1
    clock.advance(DAY)
    usable = store.load(REALM)
    assert tokens.keepalive(30 * DAY) is True and len(refreshes(clocked)) == 2
    assert store.load(REALM).refresh_token != usable.refresh_token and store.load(REALM).refreshed_at == clock()
    assert tokens.keepalive(30 * DAY) is False  # refreshed just now (by this or another thread)


def test_keepalive_of_a_company_never_connected_does_nothing(clocked, store, clock):
    assert make_tokens(clocked, store, clock=clock).keepalive(30 * DAY) is False and refreshes(clocked) == []


def test_a_disconnected_company_is_a_lapse_named_invalid_grant(clocked, store, clock):
    tokens = make_tokens(clocked, store, initial_refresh_token=clocked.mint_tokens()["refresh_token"], clock=clock)
    tokens.access_token()
    clocked.oauth.disconnect()
    clock.advance(31 * DAY)
    with pytest.raises(AuthError) as caught:
        tokens.keepalive(30 * DAY)
    assert caught.value.code == "invalid_grant" and lapsed(caught.value)
    assert not lapsed(AuthError("refused", service="connectbooster", code="invalid_grant"))  # not QuickBooks'
    assert not lapsed(AuthError("refused", service="quickbooks", code="invalid_client"))  # a setting, not a lapse
