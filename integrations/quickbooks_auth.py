"""QuickBooks OAuth 2.0: access tokens for the client, and the one-time `connect-quickbooks` flow.

`QuickBooksTokens` hands out access tokens and refreshes them through intuit-oauth's `AuthClient`:
- the AuthClient is built on first use (its constructor downloads the discovery document);
- refreshes are serialized by a lock, and before refreshing the row is re-read, because the database
  row (not this object) is the truth: another thread or process may have refreshed already;
- Intuit rotates the refresh token on every refresh: the new pair is stored in one transaction before
  the new access token leaves this module.
Token values are never logged and never put into an error message.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from data.tokens import TokenRecord, TokenStore
from integrations.errors import AuthError, TransientError

log = logging.getLogger(__name__)

SERVICE = "quickbooks"
REFRESH_MARGIN_SECONDS = 60.0  # refresh when the access token has less than this left
RECONNECT_HINT = "run `python bot.py connect-quickbooks` to connect QuickBooks again"


class TokenProvider(Protocol):
    """What QuickBooksClient needs: a usable access token, and a fresh one after a 401."""

    def access_token(self) -> str: ...

    def refreshed_after(self, rejected: str) -> str: ...


def _auth_error(exc: Exception, action: str) -> AuthError | TransientError:
    """Map an intuit-oauth failure to our errors; the token endpoint's body never holds a token on failure."""
    if not isinstance(exc, AuthClientError):
        return TransientError(f"QuickBooks {action} failed: {type(exc).__name__}", service=SERVICE)
    tid, status = exc.intuit_tid, exc.status_code
    try:
        error = str(json.loads(exc.content or b"{}").get("error", ""))
    except (ValueError, AttributeError):
        error = ""
    if status >= 500 or status == 429:
        return TransientError(f"QuickBooks {action} failed", service=SERVICE, status=status, intuit_tid=tid)
    if error == "invalid_grant":
        return AuthError(
            f"QuickBooks refused the stored refresh token (invalid_grant): {RECONNECT_HINT}",
            service=SERVICE, status=status, code=error, intuit_tid=tid,
        )
    return AuthError(
        f"QuickBooks {action} was refused ({error or 'HTTP ' + str(status)}): check QBO_CLIENT_ID and "
        f"QBO_CLIENT_SECRET, then {RECONNECT_HINT}",
        service=SERVICE, status=status, code=error or None, intuit_tid=tid,
    )


class QuickBooksTokens:
    """TokenProvider over intuit-oauth and a TokenStore, safe to share between threads."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        environment: str,
        realm_id: str,
        store: TokenStore,
        initial_refresh_token: str = "",
        clock: Callable[[], float] = time.time,
        auth_client_factory: Callable[..., Any] | None = None,
    ) -> None:
        """`auth_client_factory(client_id=, client_secret=, redirect_uri=, environment=)` defaults to AuthClient."""
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._environment = environment
        self.realm_id = realm_id
        self._store = store
        self._initial_refresh_token = initial_refresh_token
        self._clock = clock
        self._factory = auth_client_factory or AuthClient
        self._auth_client: Any = None
        self._lock = threading.Lock()
        self._cached: tuple[str, float] | None = None  # (access token, expires at)

    def __repr__(self) -> str:
        return f"QuickBooksTokens(realm_id={self.realm_id!r}, environment={self._environment!r})"

    def access_token(self) -> str:
        """A token valid for at least another minute, refreshing (once, for all threads) when needed."""
        cached = self._cached
        if cached and self._usable(cached[0], cached[1]):
            return cached[0]
        with self._lock:
            record = self._store.load(self.realm_id)
            if record and self._usable(record.access_token, record.access_expires_at):
                return self._remember(record.access_token, record.access_expires_at)
            return self._refresh(record)

    def refreshed_after(self, rejected: str) -> str:
        """After a 401 with `rejected`: a newer stored token if someone already refreshed, else refresh now."""
        with self._lock:
            record = self._store.load(self.realm_id)
            if (
                record
                and record.access_token
                and record.access_token != rejected
                and self._usable(record.access_token, record.access_expires_at)
            ):
                return self._remember(record.access_token, record.access_expires_at)
            return self._refresh(record)

    def _usable(self, token: str | None, expires_at: float | None) -> bool:
        return bool(token) and expires_at is not None and expires_at - self._clock() > REFRESH_MARGIN_SECONDS

    def _remember(self, token: str, expires_at: float) -> str:
        self._cached = (token, expires_at)
        return token

    def _client(self) -> Any:
        """Build the AuthClient on first use: its constructor fetches the discovery document."""
        if self._auth_client is None:
            try:
                self._auth_client = self._factory(
                    client_id=self._client_id, client_secret=self._client_secret,
                    redirect_uri=self._redirect_uri, environment=self._environment,
                )
            except (AuthClientError, requests.RequestException, ValueError) as exc:
                raise TransientError(
                    f"could not load QuickBooks' OAuth discovery document ({type(exc).__name__})", service=SERVICE
                ) from None
        return self._auth_client

    def _refresh(self, record: TokenRecord | None) -> str:
        """Refresh with the newest refresh token; called with the lock held."""
        refresh_token = record.refresh_token if record else self._initial_refresh_token
        if not refresh_token:
            raise AuthError(f"QuickBooks is not connected for company {self.realm_id}: {RECONNECT_HINT}",
                            service=SERVICE)
        client = self._client()
        try:
            client.refresh(refresh_token=refresh_token)
        except (AuthClientError, requests.RequestException) as exc:
            error = _auth_error(exc, "token refresh")
            log.warning("QuickBooks token refresh failed for realm %s: %s", self.realm_id, error)
            newer = self._store.load(self.realm_id)
            if error.code == "invalid_grant" and newer and newer.refresh_token != refresh_token:
                # Another process rotated the token between our read and our refresh: use its result.
                if self._usable(newer.access_token, newer.access_expires_at):
                    return self._remember(newer.access_token, newer.access_expires_at)
                return self._refresh(newer)
            raise error from None
        now = self._clock()
        access = client.access_token
        expires_at = now + float(client.expires_in or 3600)
        new_refresh = client.refresh_token or refresh_token  # keep the old one if none came back
        refresh_expires = client.x_refresh_token_expires_in
        try:
            self._store.save(
                self.realm_id,
                access_token=access,
                access_expires_at=expires_at,
                refresh_token=new_refresh,
                refresh_expires_at=now + float(refresh_expires) if refresh_expires else None,
            )
        except Exception:
            # Intuit has already retired the old refresh token: without this row the next refresh fails.
            log.error("QuickBooks tokens for realm %s were refreshed but could not be stored; if refreshing "
                      "fails from now on, %s", self.realm_id, RECONNECT_HINT)
            raise
        log.info("QuickBooks tokens refreshed for realm %s (refresh token rotated: %s)",
                 self.realm_id, new_refresh != refresh_token)
        return self._remember(access, expires_at)


class _RedirectHandler(BaseHTTPRequestHandler):
    """Answers the browser's redirect once; anything on another path gets a 404."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        server: _RedirectServer = self.server  # type: ignore[assignment]
        url = urlsplit(self.path)
        if url.path != server.expected_path:
            self._answer(404, "Not found.")
            return
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        server.result = params
        done = server.on_redirect(params)
        self._answer(200 if done[0] else 400, done[1])

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the query string holds the auth code
        return


class _RedirectServer(HTTPServer):
    expected_path = "/"
    result: dict | None = None
    on_redirect: Callable[[dict], tuple[bool, str]]


def connect_quickbooks(
    settings: Any,
    store: TokenStore,
    *,
    open_browser: bool = False,
    out: Callable[[str], None] = print,
    timeout: float = 600.0,
    clock: Callable[[], float] = time.time,
    auth_client_factory: Callable[..., Any] | None = None,
) -> str:
    """Authorization-code flow: print the consent URL, take one redirect, store the tokens; returns the realm."""
    redirect = urlsplit(settings.qbo_redirect_uri)
    try:
        client = (auth_client_factory or AuthClient)(
            client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
            redirect_uri=settings.qbo_redirect_uri, environment=settings.qbo_environment,
        )
    except (AuthClientError, requests.RequestException, ValueError) as exc:
        raise TransientError(f"could not load QuickBooks' OAuth discovery document for QBO_ENVIRONMENT "
                             f"{settings.qbo_environment!r} ({type(exc).__name__})", service=SERVICE) from None
    state = secrets.token_urlsafe(24)
    outcome: dict[str, Any] = {}

    def on_redirect(params: dict) -> tuple[bool, str]:
        if not secrets.compare_digest(params.get("state", ""), state):
            outcome["error"] = AuthError("the redirect's state did not match: start connect-quickbooks again",
                                         service=SERVICE)
            return False, "State mismatch: nothing was connected. Run connect-quickbooks again."
        if "error" in params or not params.get("code") or not params.get("realmId", "").isdigit():
            reason = params.get("error", "no code or realmId")
            outcome["error"] = AuthError(f"QuickBooks did not authorize the app ({reason})", service=SERVICE)
            return False, "QuickBooks did not authorize the app; nothing was connected."
        try:
            _exchange(client, store, params["code"], params["realmId"], clock)
        except Exception as exc:  # handed to the main thread, which raises it
            outcome["error"] = exc
            return False, "The authorization code could not be exchanged; see the terminal."
        outcome["realm_id"] = params["realmId"]
        return True, f"QuickBooks company {params['realmId']} is connected. You can close this window."

    address = (redirect.hostname or "localhost", redirect.port or 80)
    try:
        server = _RedirectServer(address, _RedirectHandler)
    except OSError as exc:
        raise RuntimeError(f"cannot listen on {address[0]}:{address[1]} for QBO_REDIRECT_URI ({exc.strerror}): "
                           "free the port or change QBO_REDIRECT_URI (and the app's redirect URI at Intuit)") from None
    server.expected_path = redirect.path or "/"
    server.on_redirect = on_redirect
    server.timeout = 1.0
    try:
        url = client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)
        out(f"Open this URL to connect QuickBooks, then approve access:\n{url}")
        if open_browser:
            webbrowser.open(url)
        deadline = time.monotonic() + timeout
        while server.result is None:
            if time.monotonic() > deadline:
                raise AuthError("timed out waiting for QuickBooks' redirect: run connect-quickbooks again",
                                service=SERVICE)
            server.handle_request()
    finally:
        server.server_close()
    if "error" in outcome:
        raise outcome["error"]
    realm_id = outcome["realm_id"]
    out(f"Connected QuickBooks company (realm) {realm_id}; tokens are stored in the database.")
    configured = getattr(settings, "qbo_realm_id", "")
    if configured and configured != realm_id:
        out(f"Note: QBO_REALM_ID is {configured}, not {realm_id}: set QBO_REALM_ID={realm_id} to use this company.")
    return realm_id


def _exchange(client: Any, store: TokenStore, code: str, realm_id: str, clock: Callable[[], float]) -> None:
    """Trade the authorization code for tokens and store them in one transaction."""
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except (AuthClientError, requests.RequestException) as exc:
        raise _auth_error(exc, "authorization-code exchange") from None
    now = clock()
    refresh_expires = client.x_refresh_token_expires_in
    store.save(
        realm_id,
        access_token=client.access_token,
        access_expires_at=now + float(client.expires_in or 3600),
        refresh_token=client.refresh_token,
        refresh_expires_at=now + float(refresh_expires) if refresh_expires else None,
    )
