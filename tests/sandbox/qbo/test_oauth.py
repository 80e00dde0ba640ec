"""OAuth 2.0 against the emulator: discovery through intuit-oauth, codes, rotation, client auth, bearer checks."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from sandbox import seed
from tests.sandbox.qbo.conftest import CLIENT_ID, CLIENT_SECRET, QBO

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
    assert r.status_code == 403 and r.json()["fault"]["error"][0]["code"] == "3100"
    emu.expire_access_tokens()
    _assert_gateway_401(qbo.get("Invoice", "130"))
    assert QBO(emu, emu.mint_tokens()["access_token"]).get("Invoice", "130").status_code == 200
    assert all(k in emu.requests[0] for k in ("method", "path", "query", "status", "at"))
