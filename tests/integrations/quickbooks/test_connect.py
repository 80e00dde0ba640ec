"""`connect-quickbooks` against the emulator's OAuth endpoints: choosing the flow, and the paste flow (production: an
https redirect URI registered with Intuit) with its state checks. The local listener is in test_connect_local.py."""
from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest

from integrations.errors import AuthError
from integrations.quickbooks_connect import uses_paste_flow
from sandbox.qbo_oauth import HARD_TTL, REFRESH_TTL

from .connect_helpers import (
    PRODUCTION_REDIRECT,
    consent_url,
    free_port,
    paste,
    real_redirect,
    state_of,
    with_state,
)
from .helpers import REALM, make_tokens

# ---- choosing the flow ---------------------------------------------------------------------------------

@pytest.mark.parametrize("uri, flag, expected", [
    ("https://applycredit.example.com/cb", None, True),  # production: https, a real host
    ("http://localhost:8000/cb", None, False),  # development keys: local listener
    ("http://127.0.0.1:8000/cb", None, False),
    ("https://localhost:8443/cb", None, False),  # a local https listener is still local
    ("http://localhost:8000/cb", True, True),  # --paste
])
def test_the_flow_is_chosen_from_the_redirect_uri(uri, flag, expected):
    assert uses_paste_flow(uri, flag) is expected


# ---- paste flow --------------------------------------------------------------------------------------------

def test_paste_flow_end_to_end_stores_tokens_and_realm(emu, store, make_client):
    realm, user = paste(emu, store, real_redirect)
    assert realm == REALM and store.latest_realm() == REALM
    url = consent_url(user.lines)
    assert url.startswith(f"{emu.base_url}/connect/oauth2?") and quote(PRODUCTION_REDIRECT, safe="") in url
    record = store.load(REALM)
    assert record.access_token and record.refresh_token
    # The code was issued for the registered https URI and the exchange re-sent exactly that URI.
    assert [t["grant_type"] for t in emu.token_requests] == ["authorization_code"]
    assert [t["status"] for t in emu.token_requests] == [200]
    printed = "\n".join(user.lines)
    assert record.access_token not in printed and record.refresh_token not in printed
    assert PRODUCTION_REDIRECT in printed and len(user.prompts) == 1
    client = make_client(tokens=make_tokens(emu, store))
    assert client.get_customer(customer_id="58").display_name == "Atomar's Best Tackle"


def test_paste_flag_on_a_localhost_redirect_needs_no_listener(emu, store):
    port = free_port()  # nothing listens here: the pasted URL is all the flow needs
    realm, _ = paste(emu, store, real_redirect, redirect=f"http://127.0.0.1:{port}/callback", paste=True)
    assert realm == REALM and store.load(REALM) is not None


def test_paste_with_a_wrong_state_is_refused(emu, store):
    error, _ = paste(emu, store, with_state("forged-state"))
    assert isinstance(error, AuthError) and error.code == "state_mismatch" and "connect-quickbooks" in str(error)
    assert store.load(REALM) is None and emu.token_requests == []


def test_paste_with_a_non_ascii_state_is_refused_without_a_crash(emu, store):
    error, _ = paste(emu, store, with_state("été-ünïcode"))
    assert isinstance(error, AuthError) and error.code == "state_mismatch"
    raw, _ = paste(emu, store, lambda lines: f"{PRODUCTION_REDIRECT}?code=abc&state=\udcff\u00e9&realmId={REALM}")
    assert isinstance(raw, AuthError) and raw.code == "state_mismatch"  # a lone surrogate from a terminal too
    assert store.load(REALM) is None and emu.token_requests == []


def test_paste_of_access_denied_says_so(emu, store):
    def denied(lines):
        return f"{PRODUCTION_REDIRECT}?error=access_denied&state={state_of(lines)}"

    error, _ = paste(emu, store, denied)
    assert isinstance(error, AuthError) and error.code == "access_denied"
    assert "access was denied" in str(error) and "connect-quickbooks" in str(error)
    assert store.load(REALM) is None and emu.token_requests == []


def test_a_paste_without_code_and_state_asks_again(emu, store):
    realm, user = paste(emu, store, lambda lines: consent_url(lines), lambda lines: "  ", real_redirect)
    assert realm == REALM and len(user.prompts) == 3
    assert sum("has no code and state" in line for line in user.lines) == 2


def test_no_paste_at_all_is_a_clear_error(emu, store):
    error, _ = paste(emu, store)  # EOF at the prompt
    assert isinstance(error, AuthError) and error.code == "no_input" and "connect-quickbooks" in str(error)


def test_a_pasted_code_that_was_already_used_is_refused_clearly(emu, store):
    pasted: list[str] = []

    def once(lines):
        pasted.append(real_redirect(lines))
        return pasted[0]

    assert paste(emu, store, once)[0] == REALM
    error, _ = paste(emu, store, lambda lines: re.sub(r"state=[^&]*", "state=" + state_of(lines), pasted[0]))
    assert isinstance(error, AuthError) and error.code == "invalid_grant"
    assert "authorization code" in str(error) and "connect-quickbooks" in str(error)


def test_the_code_exchange_stores_both_expiries_and_replaces_the_old_grant(emu, store):
    old = emu.mint_tokens()
    store.save(REALM, access_token=old["access_token"], access_expires_at=1.0, refresh_token=old["refresh_token"],
               refresh_expires_at=2.0, refresh_hard_expires_at=3.0, refreshed_at=1.0)
    started = time.time()
    assert paste(emu, store, real_redirect)[0] == REALM
    record = store.load(REALM)
    assert record.refresh_token != old["refresh_token"] and record.refreshed_at >= started
    # Asked for (x-include-refresh-token-hard-expires-in): the new grant's five years, not the old grant's 3.0.
    assert record.refresh_hard_expires_at == pytest.approx(started + HARD_TTL, abs=30)
    assert record.refresh_expires_at == pytest.approx(started + REFRESH_TTL, abs=30)
    assert record.expires_at == record.refresh_expires_at
