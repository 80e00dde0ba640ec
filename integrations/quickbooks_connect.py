"""`connect-quickbooks`: the one-time authorization-code flow that stores a realm's first tokens.

Two ways to receive QuickBooks' redirect (Intuit: production redirect URIs must be https and not an IP;
"localhost (no HTTPS)" is allowed only for development keys — real-world.md §7):
- local: listen on QBO_REDIRECT_URI (http://localhost:PORT/...) and take the browser's redirect;
- paste: print the authorization URL, and the user pastes the full URL the browser was sent to (the https
  redirect URI registered with Intuit; the page itself need not exist). No local https server needed.
The paste flow is chosen for an https redirect URI on a host other than localhost/127.0.0.1, or on request.
"""
from __future__ import annotations

import re
import secrets
import time
import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from intuitlib.enums import Scopes

from data.tokens import TokenStore
from integrations.errors import AuthError
from integrations.quickbooks_authclient import (
    AUTH_FAILURES,
    DEFAULT_AUTH_TIMEOUT,
    SERVICE,
    Timeout,
    auth_error,
    build_client,
    fresh_answer,
    lifetimes,
    timeout_client_factory,
)
from integrations.quickbooks_callback import CallbackServer, is_redirect, query_params, same_state

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
PASTE_ATTEMPTS = 3  # a paste without code/state (the wrong URL copied) asks again this many times in all
AGAIN = "run `python bot.py connect-quickbooks` again"


def uses_paste_flow(redirect_uri: str, paste: bool | None = None) -> bool:
    """True when the redirect cannot reach a local listener (https, not localhost), or when asked for."""
    if paste is not None:
        return paste
    url = urlsplit(redirect_uri)
    return url.scheme == "https" and (url.hostname or "") not in LOCAL_HOSTS


def checked_redirect(params: dict[str, str], state: str) -> tuple[str, str]:
    """(code, realm id) from QuickBooks' redirect parameters, or AuthError saying what was wrong."""
    if not same_state(params.get("state", ""), state):
        raise AuthError(f"the redirect's state did not match this run (a stale or forged link): nothing was "
                        f"connected; {AGAIN}", service=SERVICE, code="state_mismatch")
    error = params.get("error")
    if error == "access_denied":
        raise AuthError(f"access was denied on QuickBooks' consent screen (access_denied): nothing was connected; "
                        f"{AGAIN} and choose Connect", service=SERVICE, code=error)
    if error:
        raise AuthError(f"QuickBooks did not authorize the app ({error[:80]!r}): nothing was connected; {AGAIN}",
                        service=SERVICE, code="authorize_error")
    code, realm = params.get("code", ""), params.get("realmId", "")
    if not code or not re.fullmatch(r"[0-9]{1,32}", realm):
        raise AuthError(f"QuickBooks' redirect had no code or no company (realmId): nothing was connected; {AGAIN}",
                        service=SERVICE, code="no_code")
    return code, realm


def pasted_params(text: str) -> dict[str, str]:
    """Query parameters of a pasted redirect URL (or of a bare `code=...&state=...` query)."""
    text = text.strip().strip("<>\"'").strip()
    url = urlsplit(text)
    query = url.query if url.query else (text if "://" not in text else "")
    return query_params(query.lstrip("?"))


def exchange_code(client: Any, store: TokenStore, code: str, realm_id: str, clock: Callable[[], float]) -> None:
    """Trade the authorization code for tokens and store them in one transaction, replacing any earlier grant's."""
    fresh_answer(client)
    try:
        client.get_bearer_token(code, realm_id=realm_id)
    except AUTH_FAILURES as exc:
        raise auth_error(exc, "authorization-code exchange") from None
    now = clock()
    store.replace(realm_id, access_token=client.access_token, access_expires_at=now + float(client.expires_in or 3600),
                  refresh_token=client.refresh_token, **lifetimes(client, now))


def _read_paste(input_fn: Callable[[str], str], out: Callable[[str], None], redirect_uri: str) -> dict[str, str]:
    """Ask for the redirected URL until one carries QuickBooks' answer (a few tries)."""
    for _ in range(PASTE_ATTEMPTS):
        try:
            text = input_fn("Paste the full URL from the browser's address bar, then press Enter: ")
        except (EOFError, KeyboardInterrupt):
            raise AuthError(f"no URL was pasted: nothing was connected; {AGAIN}", service=SERVICE,
                            code="no_input") from None
        params = pasted_params(text)
        if is_redirect(params):
            return params
        out(f"That URL has no code and state from QuickBooks. Copy the whole address the browser shows after "
            f"you approve access (it starts with {redirect_uri}) and paste it again.")
    raise AuthError(f"no URL from QuickBooks' redirect was pasted: nothing was connected; {AGAIN}",
                    service=SERVICE, code="no_input")


def _paste_flow(client: Any, store: TokenStore, state: str, *, redirect_uri: str, input_fn: Callable[[str], str],
                out: Callable[[str], None], clock: Callable[[], float]) -> str:
    out(f"After approving, the browser is sent to {redirect_uri} (that page may show an error or nothing: "
        "that is fine, its address is what matters).")
    params = _read_paste(input_fn, out, redirect_uri)
    code, realm_id = checked_redirect(params, state)
    exchange_code(client, store, code, realm_id, clock)
    return realm_id


def _local_flow(client: Any, store: TokenStore, state: str, *, server: CallbackServer,
                timeout: float, clock: Callable[[], float]) -> str:
    outcome: dict[str, Any] = {}

    def on_callback(params: dict[str, str]) -> tuple[int, str]:
        try:
            code, realm_id = checked_redirect(params, state)
            exchange_code(client, store, code, realm_id, clock)
        except AuthError as exc:  # handed to the main thread, which raises it
            outcome["error"] = exc
            return 400, f"Nothing was connected: {exc.message}"
        except Exception as exc:  # noqa: BLE001 (any failure is handed to the main thread, which raises it)
            outcome["error"] = exc
            return 500, "The authorization code could not be exchanged; see the terminal."
        outcome["realm_id"] = realm_id
        return 200, f"QuickBooks company {realm_id} is connected. You can close this window."

    server.on_callback = on_callback
    server.wait(timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["realm_id"]


def connect_quickbooks(
    settings: Any,
    store: TokenStore,
    *,
    open_browser: bool = False,
    out: Callable[[str], None] = print,
    timeout: float = 600.0,
    clock: Callable[[], float] = time.time,
    auth_client_factory: Callable[..., Any] | None = None,
    paste: bool | None = None,
    input_fn: Callable[[str], str] = input,
    http_timeout: Timeout = DEFAULT_AUTH_TIMEOUT,
) -> str:
    """Authorization-code flow: print the consent URL, take one redirect (local listener or pasted URL),
    store the tokens; returns the realm. `paste=None` chooses from QBO_REDIRECT_URI (see uses_paste_flow);
    `timeout` bounds the wait for the local listener; `http_timeout` bounds every call to Intuit."""
    redirect_uri = settings.qbo_redirect_uri
    client = build_client(auth_client_factory or timeout_client_factory(http_timeout),
                          client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
                          redirect_uri=redirect_uri, environment=settings.qbo_environment)
    state = secrets.token_urlsafe(24)
    pasting = uses_paste_flow(redirect_uri, paste)
    # Listen before printing the URL, so a fast browser cannot be redirected to a closed port.
    server = None if pasting else CallbackServer(redirect_uri, lambda params: (500, ""), state=state)
    try:
        url = client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)
        out(f"Open this URL to connect QuickBooks, then approve access:\n{url}")
        if open_browser:
            webbrowser.open(url)
        if server is None:
            realm_id = _paste_flow(client, store, state, redirect_uri=redirect_uri, input_fn=input_fn, out=out,
                                   clock=clock)
        else:
            realm_id = _local_flow(client, store, state, server=server,
                                   timeout=timeout, clock=clock)
    finally:
        if server is not None:
            server.server_close()
    out(f"Connected QuickBooks company (realm) {realm_id}; tokens are stored in the database.")
    configured = getattr(settings, "qbo_realm_id", "")
    if configured and configured != realm_id:
        out(f"Note: QBO_REALM_ID is {configured}, not {realm_id}: set QBO_REALM_ID={realm_id} to use this company.")
    return realm_id
