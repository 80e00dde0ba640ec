"""`connect-quickbooks` against the emulator's OAuth endpoints: the local callback listener (development keys)
and the paste flow (production: an https redirect URI registered with Intuit), state checks, strays, timeouts."""
from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import replace
from urllib.parse import quote

import pytest
import requests

from config import Settings
from integrations.errors import AuthError, TransientError
from integrations.quickbooks_connect import connect_quickbooks, uses_paste_flow
from sandbox.serving import LoopbackServer

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, make_tokens

PRODUCTION_REDIRECT = "https://applycredit.example.com/quickbooks/callback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_settings(emu, port: int = 0, redirect: str | None = None) -> Settings:
    return Settings(sandbox=False, qbo_client_id=CLIENT_ID, qbo_client_secret=CLIENT_SECRET,
                    qbo_redirect_uri=redirect or f"http://127.0.0.1:{port}/callback",
                    qbo_environment=emu.discovery_url, qbo_realm_id=REALM, qbo_api_base_url=emu.base_url)


def run_connect(settings, store, timeout: float = 10, **kwargs):
    """Start the local-listener flow in a thread; returns once the consent URL was printed."""
    lines: list[str] = []
    outcome: dict = {}
    printed = threading.Event()

    def out(line: str) -> None:
        lines.append(line)
        printed.set()

    def target():
        try:
            outcome["realm"] = connect_quickbooks(settings, store, out=out, timeout=timeout, **kwargs)
        except Exception as exc:  # noqa: BLE001 (handed back to the test thread)
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert printed.wait(5)
    return thread, lines, outcome


def consent_url(lines: list[str]) -> str:
    return re.search(r"https?://\S+", lines[0]).group(0)


def state_of(lines: list[str]) -> str:
    return re.search(r"state=([^&\s]+)", lines[0]).group(1)


def redirected_to(url: str) -> str:
    """What the browser's address bar shows after consenting: the emulator's 302 Location."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"]


class Paster:
    """The user at the terminal: reads the printed consent URL, "approves", pastes what the browser shows."""

    def __init__(self, answers):
        self.lines: list[str] = []
        self.answers = list(answers)  # callables (printed lines -> pasted text)
        self.prompts: list[str] = []

    def out(self, line: str) -> None:
        self.lines.append(line)

    def input(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)(self.lines)


def paste(emu, store, *answers, redirect: str = PRODUCTION_REDIRECT, **kwargs):
    user = Paster(answers)
    try:
        realm = connect_quickbooks(connect_settings(emu, redirect=redirect), store, out=user.out,
                                   input_fn=user.input, **kwargs)
    except AuthError as exc:
        return exc, user
    return realm, user


def real_redirect(lines):
    return redirected_to(consent_url(lines))


def with_state(state: str):
    """A pasted redirect whose state is replaced (percent-encoded as a browser would show it)."""
    return lambda lines: re.sub(r"state=[^&]*", "state=" + quote(state), redirected_to(consent_url(lines)))


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
