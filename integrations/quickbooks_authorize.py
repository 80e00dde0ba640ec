"""Intuit's authorization-code flow run by the bot itself (`/applycredit connect`): the consent URL for a `state`,
and the exchange of the code that comes back. The CLI's flows (local listener, paste) are quickbooks_connect.py.

A new AuthClient per use: its constructor fetches the discovery document (bounded by the timeouts), and an
AuthClient keeps the last answer's tokens, which two admins connecting at once must not share.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from intuitlib.enums import Scopes

from data.tokens import TokenStore
from integrations.quickbooks_authclient import DEFAULT_AUTH_TIMEOUT, Timeout, build_client, timeout_client_factory
from integrations.quickbooks_connect import exchange_code


class AuthorizationFlow:
    """The consent URL and the code exchange for one Intuit app; the tokens go to `store` in one transaction."""

    def __init__(self, *, client_id: str, client_secret: str, redirect_uri: str, environment: str,
                 store: TokenStore, clock: Callable[[], float] = time.time,
                 auth_client_factory: Callable[..., Any] | None = None,
                 timeout: Timeout = DEFAULT_AUTH_TIMEOUT) -> None:
        self._app = {"client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri,
                     "environment": environment}
        self.redirect_uri = redirect_uri
        self._store = store
        self._clock = clock
        self._factory = auth_client_factory or timeout_client_factory(timeout)

    def __repr__(self) -> str:
        return f"AuthorizationFlow(redirect_uri={self.redirect_uri!r})"

    def _client(self) -> Any:
        return build_client(self._factory, **self._app)

    def consent_url(self, state: str) -> str:
        """Intuit's consent page for the Accounting scope, carrying `state` (Intuit sends it back verbatim)."""
        return self._client().get_authorization_url([Scopes.ACCOUNTING], state_token=state)

    def exchange(self, code: str, realm_id: str) -> None:
        """Trade the code for a new grant's tokens and store them, replacing the old ones (AuthError if refused)."""
        exchange_code(self._client(), self._store, code, realm_id, self._clock)
