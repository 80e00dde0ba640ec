"""`connect-quickbooks`'s local callback listener (development keys: a localhost redirect URI) against the emulator:
the end-to-end flow, strays ignored, forged or refused answers, the timeout, a hanging discovery document."""
from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest
import requests

from integrations.errors import AuthError, TransientError
from integrations.quickbooks_connect import connect_quickbooks
from sandbox.serving import LoopbackServer

from .connect_helpers import PRODUCTION_REDIRECT, connect_settings, consent_url, free_port, run_connect, state_of
from .helpers import REALM, make_tokens

# ---- local listener (development keys) ---------------------------------------------------------------------

def test_connect_quickbooks_end_to_end(emu, store, make_client):
    settings = connect_settings(emu, free_port())
    thread, lines, outcome = run_connect(settings, store)
    url = consent_url(lines)
    assert url.startswith(f"{emu.base_url}/connect/oauth2?") and "com.intuit.quickbooks.accounting" in url
    browser = requests.get(url, timeout=5)  # consent, then the redirect to our listener
    thread.join(10)
    assert browser.status_code == 200 and REALM in browser.text
    assert outcome == {"realm": REALM}
    record = store.load(REALM)
    assert record.access_token and record.refresh_token and store.latest_realm() == REALM
    assert [t["grant_type"] for t in emu.token_requests] == ["authorization_code"]
    printed = "\n".join(lines)
    assert REALM in lines[-1] and record.access_token not in printed and record.refresh_token not in printed
    client = make_client(tokens=make_tokens(emu, store))
    assert client.get_customer(customer_id="58").display_name == "Atomar's Best Tackle"


def test_stray_requests_are_ignored_then_the_real_redirect_is_accepted(emu, store):
    port = free_port()
    thread, lines, outcome = run_connect(connect_settings(emu, port), store)
    base = f"http://127.0.0.1:{port}"
    idle = socket.create_connection(("127.0.0.1", port))  # a browser's speculative connection, never used
    try:
        assert requests.get(f"{base}/favicon.ico", timeout=5).status_code == 404
        assert requests.get(f"{base}/callback", timeout=5).status_code == 400  # a reload without parameters
        assert requests.get(f"{base}/callback?code=x", timeout=5).status_code == 400  # no state
        assert requests.get(f"{base}/other?state=x&code=y", timeout=5).status_code == 404
        assert thread.is_alive() and outcome == {} and emu.token_requests == []
        browser = requests.get(consent_url(lines), timeout=5)
    finally:
        idle.close()
    thread.join(10)
    assert browser.status_code == 200 and outcome == {"realm": REALM} and store.load(REALM) is not None


def test_a_forged_or_foreign_state_is_ignored_and_the_real_redirect_still_connects(emu, store):
    """A stray request with another state (a stale tab, a forged link) is answered and ignored, not fatal."""
    port = free_port()
    thread, lines, outcome = run_connect(connect_settings(emu, port), store)
    for state in ("forged", "%C3%A9t%C3%A9"):  # (and a non-ASCII one: compared without a crash)
        answer = requests.get(f"http://127.0.0.1:{port}/callback?state={state}&code=x&realmId=1", timeout=5)
        assert answer.status_code == 400 and "its state differs" in answer.text
    assert thread.is_alive() and outcome == {} and emu.token_requests == [] and store.load("1") is None
    browser = requests.get(consent_url(lines), timeout=5)
    thread.join(10)
    assert browser.status_code == 200 and outcome == {"realm": REALM} and store.load(REALM) is not None


def test_access_denied_on_the_callback_says_so(emu, store):
    port = free_port()
    thread, lines, outcome = run_connect(connect_settings(emu, port), store)
    answer = requests.get(f"http://127.0.0.1:{port}/callback?error=access_denied&state={state_of(lines)}",
                          timeout=5)
    thread.join(10)
    assert answer.status_code == 400 and "access was denied" in answer.text
    assert outcome["error"].code == "access_denied" and store.load(REALM) is None


def test_connect_quickbooks_reports_a_refused_code(emu, store):
    port = free_port()
    thread, lines, outcome = run_connect(connect_settings(emu, port), store)
    answer = requests.get(f"http://127.0.0.1:{port}/callback?state={state_of(lines)}&code=bogus&realmId={REALM}",
                          timeout=5)
    thread.join(10)
    assert answer.status_code == 400
    assert isinstance(outcome["error"], AuthError) and outcome["error"].code == "invalid_grant"
    assert store.load(REALM) is None


def test_no_redirect_times_out_with_a_clear_message(emu, store):
    port = free_port()
    started = time.monotonic()
    thread, _, outcome = run_connect(connect_settings(emu, port), store, timeout=1.0)
    assert requests.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=5).status_code == 404  # ignored
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 4
    error = outcome["error"]
    assert isinstance(error, AuthError) and error.code == "timeout"
    assert "timed out after 1 s" in str(error) and "connect-quickbooks" in str(error)
    with pytest.raises(requests.ConnectionError):  # the listener is closed afterwards
        requests.get(f"http://127.0.0.1:{port}/callback", timeout=2)


def test_discovery_document_hang_during_connect_is_bounded(emu, store):
    gated = LoopbackServer(emu.oauth.gate(emu.wsgi), name="qbo-gated")
    gated.start()
    settings = replace(connect_settings(emu, redirect=PRODUCTION_REDIRECT),
                       qbo_environment=f"{gated.origin}/.well-known/openid_configuration")
    emu.oauth.hang("discovery")
    started = time.monotonic()
    try:
        with pytest.raises(TransientError) as caught:
            connect_quickbooks(settings, store, out=lambda line: None, input_fn=lambda p: "", http_timeout=0.3)
    finally:
        emu.oauth.release()
        gated.stop()
    assert time.monotonic() - started < 2 and "discovery document" in str(caught.value)
