"""Refresh-token lifetimes (100 days rolling, a hard expiry), disconnects and the consent screen, through
intuit-oauth 1.2.7's real AuthClient against the emulator, on the emulator's clock."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from sandbox.qbo_oauth import HARD_TTL, REFRESH_TTL
from tests.sandbox.qbo.helpers import CLIENT_ID, CLIENT_SECRET, QBO

REDIRECT = "http://127.0.0.1:9/callback"
DAY = 86400


def client(emu, refresh_token: str | None = None, *, hard: bool = False) -> AuthClient:
    ac = AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, environment=emu.discovery_url, refresh_token=refresh_token)
    ac.include_refresh_token_hard_expires_in = hard  # sends x-include-refresh-token-hard-expires-in: true
    return ac


def refused(ac: AuthClient) -> bool:
    """True when refresh() answers 400 invalid_grant."""
    try:
        ac.refresh()
    except AuthClientError as e:
        return e.status_code == 400 and b"invalid_grant" in e.content
    return False


def test_hard_expiry_field_only_when_asked_for_and_lifetime_never_beyond_it(emu, clock):
    ac = client(emu, emu.mint_tokens(hard_expires_in=30 * DAY)["refresh_token"])
    ac.refresh()
    assert ac.x_refresh_token_expires_in == 30 * DAY  # not 100 days: capped by the hard expiry
    assert ac.x_refresh_token_hard_expires_in is None  # not asked for
    ac.include_refresh_token_hard_expires_in = True
    clock.advance(DAY)
    ac.refresh()
    assert ac.x_refresh_token_hard_expires_in == 29 * DAY and ac.x_refresh_token_expires_in == 29 * DAY


def test_a_new_grant_lives_100_days_rolling_under_a_five_year_cap(emu):
    ac = client(emu, emu.mint_tokens()["refresh_token"], hard=True)
    ac.refresh()
    assert ac.x_refresh_token_expires_in == REFRESH_TTL and ac.x_refresh_token_hard_expires_in == HARD_TTL


def test_refresh_token_ends_100_days_after_its_last_use(emu, clock):
    ac = client(emu, emu.mint_tokens()["refresh_token"])
    clock.advance(REFRESH_TTL - 1)
    ac.refresh()  # used just in time: renewed for another 100 days
    clock.advance(REFRESH_TTL - 1)
    ac.refresh()
    clock.advance(REFRESH_TTL)
    assert refused(ac)


def test_refresh_after_the_hard_expiry_is_invalid_grant_however_recent_the_last_use(emu, clock):
    ac = client(emu, emu.mint_tokens(hard_expires_in=30 * DAY)["refresh_token"])
    clock.advance(20 * DAY)
    ac.refresh()
    assert ac.x_refresh_token_expires_in == 10 * DAY
    clock.advance(10 * DAY)
    assert refused(ac)


def test_set_hard_expiry_moves_one_grant_or_all(emu, clock):
    mine, other = emu.mint_tokens(), emu.mint_tokens()
    emu.oauth.set_hard_expiry(3600, mine["refresh_token"])
    ac = client(emu, mine["refresh_token"], hard=True)
    ac.refresh()
    assert ac.x_refresh_token_hard_expires_in == 3600 and ac.x_refresh_token_expires_in == 3600
    clock.advance(3600)
    assert refused(ac)
    ac_other = client(emu, other["refresh_token"])
    ac_other.refresh()  # the other grant keeps its five years
    emu.oauth.set_hard_expiry(0)
    assert refused(ac_other)


def test_disconnect_ends_refreshes_and_api_calls_until_reconnected(emu):
    first, second = emu.mint_tokens(), emu.mint_tokens()
    emu.oauth.disconnect("4620816365999999999")  # another company: nothing changes here
    assert QBO(emu, first["access_token"]).get("Invoice", "130").status_code == 200
    emu.oauth.disconnect(emu.realm_id)  # the user disconnected the app from QuickBooks' Apps page
    for tokens in (first, second):
        r = QBO(emu, tokens["access_token"]).get("Invoice", "130")
        assert r.status_code == 401 and r.json()["fault"]["error"][0]["code"] == "3200"
        assert refused(client(emu, tokens["refresh_token"]))
    again = emu.mint_tokens()  # connecting again is a new grant
    assert QBO(emu, again["access_token"]).get("Invoice", "130").status_code == 200


def consent(url: str) -> dict[str, list[str]]:
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith(REDIRECT + "?")
    return parse_qs(urlparse(r.headers["Location"]).query, keep_blank_values=True)


@pytest.mark.parametrize("state", ["plain30charsstate0123456789abcd", "a b/c?d=e&f+g%25h'\u00e9"])
def test_consent_keeps_state_verbatim(emu, state):
    ac = client(emu)
    q = consent(ac.get_authorization_url([Scopes.ACCOUNTING], state_token=state))
    assert q["state"] == [state] and q["realmId"] == [emu.realm_id] and q["code"]
    ac.get_bearer_token(q["code"][0], realm_id=q["realmId"][0])
    assert ac.refresh_token


def test_consent_without_state_sends_none_back(emu):
    q = consent(f"{emu.base_url}/connect/oauth2?client_id={CLIENT_ID}&redirect_uri={REDIRECT}&response_type=code")
    assert "state" not in q and q["code"]


def test_consent_can_be_denied(emu):
    emu.oauth.deny_consent = True
    ac = client(emu)
    q = consent(ac.get_authorization_url([Scopes.ACCOUNTING]))
    assert q == {"error": ["access_denied"], "state": [ac.state_token]}  # no code, no realmId
    emu.oauth.deny_consent = False
    assert "code" in consent(ac.get_authorization_url([Scopes.ACCOUNTING]))
