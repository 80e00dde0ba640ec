"""Intuit OAuth 2.0 as the emulator plays it: one-time codes, rotating refresh tokens, lifetimes, disconnects.

Tokens are grouped in grants (one per consent): revoking any token of a grant, or reusing its
authorization code (Intuit staff, oauth-jsclient #173), ends the whole grant.

Lifetimes: access tokens 3,600 s; refresh tokens 100 days from their last use ("valid for 100 days. This is a
rolling expiry date that is extended each time the token is used", blogs.intuit.com 2024-06-03; Intuit answers
x_refresh_token_expires_in 8726400) and, since Intuit's policy of 2025-11-12 ("Important changes to refresh token
policy"), never beyond the grant's hard expiry, "a maximum validity period of five years" from the original
authorization (a refresh keeps the grant's hard expiry). intuit-oauth 1.2.7 sends the opt-in header
`x-include-refresh-token-hard-expires-in: true` (`include_refresh_token_hard_expires_in`) and reads
`x_refresh_token_hard_expires_in` (seconds) from the answer (intuitlib/client.py, config.py): the emulator sends
that field only to a request with the header, as the seconds left until the hard expiry (a sample answer confirmed
by Intuit's oauth-jsclient #207/#211 carries 156032154, less than five years' 157680000: the time left, counting
down; #206 calls it "the five-year absolute refresh token lifetime countdown"). A refresh after either expiry:
400 {"error": "invalid_grant"} (with the description Intuit gives a bad token, python-quickbooks #272). Access
tokens are not cut short by the hard expiry [UNVERIFIED].

Disconnect (`disconnect(realm)`, what a user does from QuickBooks' Apps page): every grant of that company is
revoked at once, so refreshes answer invalid_grant and API calls 401 ("disconnecting the app revokes instantly",
quickbooks-api.md §5). The consent screen can be made to refuse (`deny_consent = True`): the redirect then carries
`error=access_denied` and the state (RFC 6749 §4.1.2.1; Intuit's exact parameters [UNVERIFIED]).

Hang fault: see sandbox/qbo_oauth_hang.py (`oauth.hang("token")`, `oauth.release()`, `oauth.gate(app)`).
"""
from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.qbo_oauth_hang import Hangs, drop_connection

ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # 101 days, what Intuit answers in x_refresh_token_expires_in
HARD_TTL = 5 * 365 * 86400  # "a maximum validity period of five years" (leap days not counted [UNVERIFIED])
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"  # intuitlib.config
DISCOVERY_PATH = "/.well-known/openid_configuration"


@dataclass
class _Grant:
    realm_id: str
    hard_expires: float  # the five-year cap, from the original authorization
    revoked: bool = False
    refresh_token: str = ""  # the only refresh token of the grant that still works
    refresh_expires: float = 0.0
    access: dict[str, float] = field(default_factory=dict)  # access token -> expiry


class TokenError(Exception):
    """A token-endpoint refusal: HTTP status + OAuth error body."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error} if description is None else {"error_description": description,
                                                                   "error": error}


class OAuthServer:
    """Thread-safe token bookkeeping for one Intuit app (client id/secret) and one realm."""

    def __init__(self, *, client_id: str, client_secret: str, realm_id: str, clock: Callable[[], float]) -> None:
        self.client_id, self.client_secret, self.realm_id = client_id, client_secret, realm_id
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, dict] = {}  # code -> {redirect_uri, used, grant}
        self._grants: list[_Grant] = []
        self._by_refresh: dict[str, _Grant] = {}  # every refresh token ever issued -> its grant
        self._by_access: dict[str, _Grant] = {}
        self.hangs = Hangs()
        self.deny_consent = False  # True: the consent screen answers error=access_denied (the user clicked Cancel)

    # ---- hang fault --------------------------------------------------------------------------------
    def hang(self, endpoint: str = "token") -> None:
        """Make "token" (or "discovery", through `gate`) accept requests and never answer them."""
        self.hangs.hang(endpoint)

    def release(self, endpoint: str | None = None, *, answer: bool = False) -> None:
        """End the hang: parked requests are dropped unanswered (or processed and answered when `answer`)."""
        self.hangs.release(endpoint, answer=answer)

    def gate(self, app: Callable[..., Any]) -> Callable[..., Any]:
        """WSGI wrapper that plays the discovery-document hang (the token endpoint hangs inside `token`)."""

        def gated(environ: dict, start_response: Callable[..., Any]) -> Any:
            path = environ.get("PATH_INFO", "").rstrip("/")
            if path == DISCOVERY_PATH and not self.hangs.park("discovery"):
                drop_connection(environ, "hang: the discovery request was dropped without an answer")
            return app(environ, start_response)

        return gated

    # ---- issuing ---------------------------------------------------------------------------------
    def issue_code(self, redirect_uri: str | None = None) -> str:
        """A one-time authorization code, as the consent screen would produce."""
        code = "AB" + secrets.token_urlsafe(36)
        with self._lock:
            self._codes[code] = {"redirect_uri": redirect_uri, "used": False, "grant": None}
        return code

    def mint(self, *, hard_expires_in: float | None = None) -> dict:
        """Valid tokens for a fresh grant, without the OAuth dance; its hard expiry `hard_expires_in` seconds from
        now (default five years)."""
        with self._lock:
            body = self._issue(self._new_grant(hard_expires_in))
        return {"access_token": body["access_token"], "refresh_token": body["refresh_token"],
                "realm_id": self.realm_id, "x_refresh_token_expires_in": body["x_refresh_token_expires_in"]}

    def set_hard_expiry(self, expires_in: float, refresh_token: str | None = None) -> None:
        """Move the hard expiry of `refresh_token`'s grant (None: every grant) to `expires_in` seconds from now."""
        with self._lock:
            now = self._clock()
            grants = [self._by_refresh[refresh_token]] if refresh_token else self._grants
            for grant in grants:
                grant.hard_expires = now + expires_in
                grant.refresh_expires = min(grant.refresh_expires, grant.hard_expires)

    def _new_grant(self, hard_expires_in: float | None = None) -> _Grant:
        grant = _Grant(self.realm_id, self._clock() + (HARD_TTL if hard_expires_in is None else hard_expires_in))
        self._grants.append(grant)
        return grant

    def _issue(self, grant: _Grant, include_hard: bool = False) -> dict:
        now = self._clock()
        access = "eyJ" + secrets.token_urlsafe(48)  # opaque to clients; the prefix only looks familiar
        refresh = "RT1-" + secrets.token_hex(20)
        hard_left = max(0, int(grant.hard_expires - now))
        refresh_ttl = min(REFRESH_TTL, hard_left)  # never beyond the hard expiry
        grant.access[access] = now + ACCESS_TTL
        grant.refresh_token, grant.refresh_expires = refresh, now + refresh_ttl
        self._by_access[access] = grant
        self._by_refresh[refresh] = grant
        body = {"token_type": "bearer", "access_token": access, "refresh_token": refresh,
                "expires_in": ACCESS_TTL, "x_refresh_token_expires_in": refresh_ttl}
        if include_hard:
            body["x_refresh_token_hard_expires_in"] = hard_left
        return body

    # ---- token endpoint ----------------------------------------------------------------------------
    def check_client(self, authorization: str | None) -> None:
        """HTTP Basic client authentication, else 401 invalid_client."""
        try:
            scheme, _, value = (authorization or "").partition(" ")
            cid, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:  # bad base64 or not UTF-8 (binascii.Error and UnicodeDecodeError are ValueErrors)
            raise TokenError(401, "invalid_client") from None
        # As bytes: compare_digest refuses non-ASCII str, and a client may send any text.
        ok = (scheme.lower() == "basic" and secrets.compare_digest(cid.encode(), self.client_id.encode())
              and secrets.compare_digest(secret.encode(), self.client_secret.encode()))
        if not ok:
            raise TokenError(401, "invalid_client")

    def token(self, form: dict[str, str], *, include_hard: bool = False) -> dict:
        """POST /oauth2/v1/tokens/bearer after client auth: the token response or TokenError; `include_hard`: the
        request carried the opt-in header, so the answer has x_refresh_token_hard_expires_in."""
        if not self.hangs.park("token"):  # before any bookkeeping: a dropped request never reached Intuit
            drop_connection(None, "hang: the token request was dropped without an answer")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._issue(self._exchange(form.get("code", ""), form.get("redirect_uri")), include_hard)
            if grant_type == "refresh_token":
                return self._issue(self._refresh(form.get("refresh_token", "")), include_hard)
        raise TokenError(400, "unsupported_grant_type")

    def _exchange(self, code: str, redirect_uri: str | None) -> _Grant:
        entry = self._codes.get(code)
        if entry is None:
            raise TokenError(400, "invalid_grant")
        if entry["used"]:
            if entry["grant"] is not None:
                entry["grant"].revoked = True
            raise TokenError(400, "invalid_grant")
        if entry["redirect_uri"] and redirect_uri != entry["redirect_uri"]:
            raise TokenError(400, "invalid_grant")
        entry["used"] = True
        entry["grant"] = self._new_grant()
        return entry["grant"]

    def _refresh(self, token: str) -> _Grant:
        """The grant a refresh token may still refresh (issuing from it rotates: the old token stops working)."""
        grant = self._by_refresh.get(token)
        now = self._clock()
        if (grant is None or grant.revoked or grant.refresh_token != token
                or now >= grant.refresh_expires or now >= grant.hard_expires):
            raise TokenError(400, "invalid_grant", "Incorrect or invalid refresh token")
        return grant

    def revoke(self, token: str) -> None:
        """Revoke the grant of a refresh or access token (unknown tokens are ignored, as RFC 7009 says)."""
        with self._lock:
            grant = self._by_refresh.get(token) or self._by_access.get(token)
            if grant is not None:
                grant.revoked = True

    def disconnect(self, realm_id: str | None = None) -> None:
        """The company (default: this realm) disconnects the app from QuickBooks' Apps page: every grant of it is
        revoked at once; refreshes answer invalid_grant, API calls 401, until someone connects again."""
        realm = realm_id or self.realm_id
        with self._lock:
            for grant in self._grants:
                if grant.realm_id == realm:
                    grant.revoked = True

    def revoke_all(self) -> None:
        """Disconnect every company: every token stops working at once."""
        with self._lock:
            realms = {g.realm_id for g in self._grants}
        for realm in realms:
            self.disconnect(realm)

    # ---- bearer check ------------------------------------------------------------------------------
    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        with self._lock:
            for grant in self._grants:
                for tok in grant.access:
                    grant.access[tok] = 0.0

    def check_bearer(self, authorization: str | None) -> tuple[str | None, str]:
        """(realm the token is for, "") when valid, else (None, why) for the 401 detail."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "Authorization header is missing or is not a Bearer token"
        grant = self._by_access.get(token.strip())
        if grant is None:
            return None, "Malformed bearer token: too short or too long"
        if grant.revoked:
            return None, "Token revoked"
        if self._clock() >= grant.access.get(token.strip(), 0.0):
            return None, "Token expired"
        return grant.realm_id, ""
