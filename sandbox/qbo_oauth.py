"""Intuit OAuth 2.0 as the emulator plays it: one-time codes, rotating refresh tokens, expiring access tokens.

Tokens are grouped in grants (one per consent): revoking any token of a grant, or reusing its
authorization code (Intuit staff, oauth-jsclient #173), ends the whole grant.

Hang fault (real-world.md §7: intuit-oauth has no timeouts): `oauth.hang("token")` makes the token endpoint
accept each request and never answer until `oauth.release()`; released requests are dropped without an
answer and without touching any token (they never reached Intuit), or with `release(answer=True)` processed
and answered late (Intuit did rotate the token, the client had given up). `oauth.hang("discovery")` does the
same to the discovery document, through the WSGI wrapper `oauth.gate(app)`. A parked request holds only its
own daemon thread, so stopping the server is never blocked by it.
"""
from __future__ import annotations

import base64
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # 101 days, what Intuit answers in x_refresh_token_expires_in
DISCOVERY_PATH = "/.well-known/openid_configuration"
HANG_ENDPOINTS = ("token", "discovery")
MAX_HANG_SECONDS = 600.0  # a forgotten hang still ends, so a long test session cannot pile up parked threads


@dataclass
class _Episode:
    released: threading.Event = field(default_factory=threading.Event)
    answer: bool = False


class Hangs:
    """Endpoints that accept a request and never answer it, until released."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._episodes: dict[str, _Episode] = {}
        self.parked = {e: 0 for e in HANG_ENDPOINTS}  # requests waiting right now
        self.hung = {e: 0 for e in HANG_ENDPOINTS}  # requests ever parked

    def hang(self, endpoint: str) -> None:
        """From now on every request to `endpoint` ("token" or "discovery") waits without an answer."""
        if endpoint not in HANG_ENDPOINTS:
            raise ValueError(f"unknown hang endpoint {endpoint!r}; one of {HANG_ENDPOINTS}")
        with self._lock:
            self._episodes.setdefault(endpoint, _Episode())

    def release(self, endpoint: str | None = None, *, answer: bool = False) -> None:
        """Stop hanging (one endpoint or all); parked requests are dropped, or answered when `answer`."""
        with self._lock:
            for name in [endpoint] if endpoint else list(self._episodes):
                episode = self._episodes.pop(name, None)
                if episode is not None:
                    episode.answer = answer
                    episode.released.set()

    def park(self, endpoint: str) -> bool:
        """Called by a request: waits while `endpoint` hangs; True to answer normally, False to drop it."""
        with self._lock:
            episode = self._episodes.get(endpoint)
            if episode is None:
                return True
            self.parked[endpoint] += 1
            self.hung[endpoint] += 1
            self._lock.notify_all()
        try:
            released = episode.released.wait(MAX_HANG_SECONDS)
        finally:
            with self._lock:
                self.parked[endpoint] -= 1
        return released and episode.answer

    def wait_parked(self, endpoint: str, count: int = 1, timeout: float = 5.0) -> bool:
        """For tests: wait until `count` requests to `endpoint` have been parked in all."""
        with self._lock:
            return self._lock.wait_for(lambda: self.hung[endpoint] >= count, timeout)


def _drop(environ: dict | None, why: str) -> None:
    """Close the connection without an answer (werkzeug treats ConnectionError as "client went away")."""
    sock = (environ or {}).get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError(why)


@dataclass
class _Grant:
    realm_id: str
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
        self._not_before = 0.0  # access tokens issued before this instant are expired
        self.hangs = Hangs()

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
                _drop(environ, "hang: the discovery request was dropped without an answer")
            return app(environ, start_response)

        return gated

    # ---- issuing ---------------------------------------------------------------------------------
    def issue_code(self, redirect_uri: str | None = None) -> str:
        """A one-time authorization code, as the consent screen would produce."""
        code = "AB" + secrets.token_urlsafe(36)
        with self._lock:
            self._codes[code] = {"redirect_uri": redirect_uri, "used": False, "grant": None}
        return code

    def mint(self) -> dict:
        """Valid tokens for a fresh grant, without the OAuth dance."""
        with self._lock:
            grant = _Grant(self.realm_id)
            self._grants.append(grant)
            body = self._issue(grant)
        return {"access_token": body["access_token"], "refresh_token": body["refresh_token"],
                "realm_id": self.realm_id}

    def _issue(self, grant: _Grant) -> dict:
        now = self._clock()
        access = "eyJ" + secrets.token_urlsafe(48)  # opaque to clients; the prefix only looks familiar
        refresh = "RT1-" + secrets.token_hex(20)
        grant.access[access] = now + ACCESS_TTL
        grant.refresh_token, grant.refresh_expires = refresh, now + REFRESH_TTL
        self._by_access[access] = grant
        self._by_refresh[refresh] = grant
        return {"token_type": "bearer", "access_token": access, "refresh_token": refresh,
                "expires_in": ACCESS_TTL, "x_refresh_token_expires_in": REFRESH_TTL}

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

    def token(self, form: dict[str, str]) -> dict:
        """POST /oauth2/v1/tokens/bearer after client auth: the token response or TokenError."""
        if not self.hangs.park("token"):  # before any bookkeeping: a dropped request never reached Intuit
            _drop(None, "hang: the token request was dropped without an answer")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(form.get("code", ""), form.get("redirect_uri"))
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""))
        raise TokenError(400, "unsupported_grant_type")

    def _exchange(self, code: str, redirect_uri: str | None) -> dict:
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
        grant = _Grant(self.realm_id)
        self._grants.append(grant)
        entry["grant"] = grant
        return self._issue(grant)

    def _refresh(self, token: str) -> dict:
        grant = self._by_refresh.get(token)
        if (grant is None or grant.revoked or grant.refresh_token != token
                or self._clock() >= grant.refresh_expires):
            raise TokenError(400, "invalid_grant", "Incorrect or invalid refresh token")
        return self._issue(grant)  # rotates: the old refresh token stops working

    def revoke(self, token: str) -> None:
        """Revoke the grant of a refresh or access token (unknown tokens are ignored, as RFC 7009 says)."""
        with self._lock:
            grant = self._by_refresh.get(token) or self._by_access.get(token)
            if grant is not None:
                grant.revoked = True

    def revoke_all(self) -> None:
        """What disconnecting the app in QuickBooks does: every token stops working at once."""
        with self._lock:
            for grant in self._grants:
                grant.revoked = True
        self.expire_access_tokens()

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
