"""OAuth 2.0 against the emulator: discovery through intuit-oauth, codes, rotation, client auth, bearer checks,
and the hang fault (token endpoint / discovery document never answering)."""
from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from sandbox import seed
from sandbox.qbo_emulator import QBOEmulator
from sandbox.serving import LoopbackServer
from tests.sandbox.qbo.helpers import CLIENT_ID, CLIENT_SECRET, QBO

REDIRECT = "http://127.0.0.1:9/callback"


def auth_client(emu, **kw) -> AuthClient:
    return AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, environment=emu.discovery_url, **kw)


def token_post(emu, data: dict, auth=(CLIENT_ID, CLIENT_SECRET)) -> requests.Response:
    return requests.post(f"{emu.base_url}/oauth2/v1/tokens/bearer", data=data, auth=auth,
                         headers={"Accept": "application/json"}, timeout=10)


def test_discovery_accepted_by_intuit_oauth_and_refresh_rotates(emu):
    first = emu.mint_tokens()
    ac = auth_client(emu, refresh_token=first["refresh_token"])
    assert ac.token_endpoint == f"{emu.base_url}/oauth2/v1/tokens/bearer"
    assert ac.revoke_endpoint == f"{emu.base_url}/v2/oauth2/tokens/revoke"
    ac.refresh()
    assert ac.refresh_token != first["refresh_token"] and ac.access_token
    assert ac.expires_in == 3600 and ac.x_refresh_token_expires_in == 8726400
    assert QBO(emu, ac.access_token).get("Invoice", "130").status_code == 200
    with pytest.raises(AuthClientError) as e:  # the rotated-away token is dead
        ac.refresh(refresh_token=first["refresh_token"])
    assert e.value.status_code == 400 and b"invalid_grant" in e.value.content
    ac.refresh()  # the newest one still works
    assert emu.token_requests[-1] == {"grant_type": "refresh_token", "status": 200}
    assert [t["status"] for t in emu.token_requests] == [200, 400, 200]


def test_authorization_code_flow_and_code_used_once(emu):
    ac = auth_client(emu)
    url = ac.get_authorization_url([Scopes.ACCOUNTING])
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 302
    loc = urlparse(r.headers["Location"])
    q = parse_qs(loc.query)
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    assert q["state"] == [ac.state_token] and q["realmId"] == [seed.REALM_ID]
    ac.get_bearer_token(q["code"][0], realm_id=q["realmId"][0])
    assert ac.access_token and ac.refresh_token
    with pytest.raises(AuthClientError) as e:
        auth_client(emu).get_bearer_token(q["code"][0])
    assert e.value.status_code == 400 and b"invalid_grant" in e.value.content
    # Reusing a code ends the grant it produced (Intuit staff, oauth-jsclient #173).
    assert QBO(emu, ac.access_token).get("Invoice", "130").status_code == 401


def test_issue_auth_code_exchange_and_redirect_mismatch(emu):
    code = emu.issue_auth_code(state="s1")
    r = token_post(emu, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert set(body) >= {"access_token", "refresh_token", "x_refresh_token_expires_in"}
    assert token_post(emu, {"grant_type": "authorization_code", "code": "nope"}).json() == {
        "error": "invalid_grant"}
    r = requests.get(f"{emu.base_url}/connect/oauth2", allow_redirects=False, timeout=10, params={
        "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "x", "state": "z"})
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    bad = token_post(emu, {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://evil"})
    assert bad.status_code == 400


@pytest.mark.parametrize("auth", [None, (CLIENT_ID, "wrong"), ("other", CLIENT_SECRET)])
def test_token_endpoint_requires_basic_client_auth(emu, auth):
    rt = emu.mint_tokens()["refresh_token"]
    r = token_post(emu, {"grant_type": "refresh_token", "refresh_token": rt}, auth=auth)
    assert r.status_code == 401 and r.json() == {"error": "invalid_client"}
    assert token_post(emu, {"grant_type": "refresh_token", "refresh_token": rt}).status_code == 200


def test_refresh_reuse_is_invalid_grant(emu):
    rt = emu.mint_tokens()["refresh_token"]
    r1 = token_post(emu, {"grant_type": "refresh_token", "refresh_token": rt})
    assert r1.status_code == 200 and r1.json()["refresh_token"] != rt
    r2 = token_post(emu, {"grant_type": "refresh_token", "refresh_token": rt})
    assert r2.status_code == 400 and r2.json()["error"] == "invalid_grant"


def test_revoke_ends_the_grant(emu):
    tokens = emu.mint_tokens()
    ac = auth_client(emu)
    assert ac.revoke(token=tokens["refresh_token"]) is True
    assert QBO(emu, tokens["access_token"]).get("Invoice", "130").status_code == 401
    assert token_post(emu, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
                      ).status_code == 400


def _assert_gateway_401(r: requests.Response) -> None:
    assert r.status_code == 401 and r.headers["intuit_tid"]
    err = r.json()["fault"]["error"][0]
    assert err["code"] == "3200" and "AuthenticationFailed" in err["message"]
    assert r.json()["fault"]["type"] == "AUTHENTICATION" and isinstance(r.json()["time"], int)


def test_401_on_missing_invalid_and_expired_tokens(emu, clock):
    url = f"{emu.api_base}/invoice/130"
    _assert_gateway_401(requests.get(url, timeout=10))
    _assert_gateway_401(requests.get(url, headers={"Authorization": "Bearer garbage"}, timeout=10))
    tokens = emu.mint_tokens()
    qbo = QBO(emu, tokens["access_token"])
    assert qbo.get("Invoice", "130").status_code == 200
    clock.advance(3599)
    assert qbo.get("Invoice", "130").status_code == 200
    clock.advance(2)
    _assert_gateway_401(qbo.get("Invoice", "130"))
    # refresh still works after the access token expired
    r = token_post(emu, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert QBO(emu, r.json()["access_token"]).get("Invoice", "130").status_code == 200


def test_expire_access_tokens_and_wrong_realm(emu):
    qbo = QBO(emu, emu.mint_tokens()["access_token"])
    r = qbo.http.get(f"{emu.base_url}/v3/company/123/invoice/130", headers=qbo._headers(), timeout=10)
    # A token for another realm: Intuit reproduced a 401 AuthenticationFault, not 403/3100.
    assert r.status_code == 401 and r.json()["fault"]["error"][0]["code"] == "3200"
    emu.expire_access_tokens()
    _assert_gateway_401(qbo.get("Invoice", "130"))
    assert QBO(emu, emu.mint_tokens()["access_token"]).get("Invoice", "130").status_code == 200
    assert all(k in emu.requests[0] for k in ("method", "path", "query", "status", "at"))


# ---- hang fault: the token endpoint / discovery document accept the connection and never answer ----------

def _post_refresh(base_url: str, rt: str, timeout) -> requests.Response:
    return requests.post(f"{base_url}/oauth2/v1/tokens/bearer", auth=(CLIENT_ID, CLIENT_SECRET), timeout=timeout,
                         data={"grant_type": "refresh_token", "refresh_token": rt},
                         headers={"Accept": "application/json"})


def test_token_hang_never_answers_and_a_dropped_request_rotates_nothing(emu, qbo):
    rt = emu.mint_tokens()["refresh_token"]
    emu.oauth.hang("token")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        _post_refresh(emu.base_url, rt, timeout=(2, 0.3))
    assert time.monotonic() - started < 2
    assert emu.oauth.hangs.wait_parked("token") and emu.oauth.hangs.parked["token"] == 1
    # Only the token endpoint hangs: the discovery document and the API still answer.
    assert requests.get(emu.discovery_url, timeout=2).status_code == 200
    assert qbo.get("Invoice", "130").status_code == 200
    emu.oauth.release()
    wait_for(lambda: emu.oauth.hangs.parked["token"] == 0)
    assert emu.token_requests == []  # the dropped request never reached the token service
    again = _post_refresh(emu.base_url, rt, timeout=5)  # so the same refresh token still works
    assert again.status_code == 200 and again.json()["refresh_token"] != rt


def test_token_hang_released_with_an_answer_rotates_behind_the_clients_back(emu):
    rt = emu.mint_tokens()["refresh_token"]
    emu.oauth.hang("token")
    with pytest.raises(requests.ReadTimeout):
        _post_refresh(emu.base_url, rt, timeout=(2, 0.3))
    emu.oauth.release(answer=True)  # Intuit did process it; the client had given up
    wait_for(lambda: emu.token_requests == [{"grant_type": "refresh_token", "status": 200}])
    late = _post_refresh(emu.base_url, rt, timeout=5)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_discovery_hang_through_the_gate_stalls_unmodified_intuit_oauth(emu):
    gated = LoopbackServer(emu.oauth.gate(emu.wsgi), name="qbo-gated")
    gated.start()
    discovery = f"{gated.origin}/.well-known/openid_configuration"
    try:
        emu.oauth.hang("discovery")
        with pytest.raises(requests.ReadTimeout):
            requests.get(discovery, timeout=(2, 0.3))
        # The token endpoint behind the same gate still answers.
        rt = emu.mint_tokens()["refresh_token"]
        assert _post_refresh(gated.origin, rt, timeout=5).status_code == 200
        # intuit-oauth's own constructor has no timeout: it is still waiting after a while.
        built: list = []
        thread = threading.Thread(target=lambda: built.append(
            AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, environment=discovery)), daemon=True)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and built == []
        emu.oauth.release("discovery", answer=True)
        thread.join(5)
        assert built and built[0].token_endpoint == f"{emu.base_url}/oauth2/v1/tokens/bearer"
        assert requests.get(discovery, timeout=2).status_code == 200  # released: answered normally again
    finally:
        emu.oauth.release()
        gated.stop()


def test_stop_is_not_blocked_by_a_parked_request(clock):
    emulator = QBOEmulator(realm_id=seed.REALM_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
    emulator.start(port=0)
    rt = emulator.mint_tokens()["refresh_token"]
    emulator.oauth.hang("token")
    failures: list = []

    def client() -> None:
        try:
            _post_refresh(emulator.base_url, rt, timeout=(2, 3))
        except requests.RequestException as exc:
            failures.append(exc)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    try:
        assert emulator.oauth.hangs.wait_parked("token")
        started = time.monotonic()
        emulator.stop()
        assert time.monotonic() - started < 2
    finally:
        emulator.oauth.release()
        thread.join(5)
    assert failures and not thread.is_alive()  # released after the stop: dropped, no answer
    with pytest.raises(ValueError):
        emulator.oauth.hang("userinfo")


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
