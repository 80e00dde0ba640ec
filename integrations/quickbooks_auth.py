"""QuickBooks OAuth 2.0: access tokens for the client (the connect flow lives in quickbooks_connect).

`QuickBooksTokens` hands out access tokens and refreshes them through intuit-oauth's `AuthClient`:
- the AuthClient is built on first use (its constructor downloads the discovery document), as a
  `TimeoutAuthClient`: every call to Intuit has a connect and a read timeout;
- refreshes are serialized by a lock that is only ever held across bounded calls; a thread waits for it
  at most `lock_wait` seconds; threads that queued behind a refresh that got no answer, and callers in the
  `failure_cooldown` seconds after it, share that failure at once instead of repeating its wait one after
  another (QuickBooksClient retries around `access_token()`: without this its retries would multiply it);
- before refreshing the row is re-read, because the database row (not this object) is the truth: another
  thread or process may have refreshed already;
- a refresh that got no answer is retried: if it never reached Intuit the old refresh token still works,
  and if it did (Intuit rotated it) the invalid_grant branch picks up a newer stored row when there is one;
- Intuit rotates the refresh token on every refresh: the new pair is stored in one transaction before
  the new access token leaves this module.
Token values are never logged and never put into an error message.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from data.tokens import TokenStore
from integrations.errors import AuthError, TransientError
from integrations.http import RetryPolicy
from integrations.quickbooks_authclient import (
    AUTH_FAILURES,
    DEFAULT_AUTH_TIMEOUT,
    RECONNECT_HINT,
    SERVICE,
    Timeout,
    TimeoutAuthClient,
    auth_error,
    build_client,
    fresh_answer,
    lifetimes,
    timeout_client_factory,
    timeout_total,
)
from integrations.quickbooks_connect import connect_quickbooks

__all__ = [
    "DEFAULT_AUTH_TIMEOUT",
    "RECONNECT_HINT",
    "REFRESH_MARGIN_SECONDS",
    "SERVICE",
    "QuickBooksTokens",
    "TimeoutAuthClient",
    "TokenProvider",
    "connect_quickbooks",
]

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 60.0  # refresh when the access token has less than this left
_auth_error = auth_error  # the old private name, kept for anything that still imports it


class TokenProvider(Protocol):
    """What QuickBooksClient needs: a usable access token, and a fresh one after a 401."""

    def access_token(self) -> str: ...

    def refreshed_after(self, rejected: str) -> str: ...


def default_refresh_retry() -> RetryPolicy:
    """Two attempts, short capped backoff: the lock is held meanwhile, so keep the whole refresh short."""
    return RetryPolicy(attempts=2, base_seconds=0.5, cap_seconds=2.0)


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
        timeout: Timeout = DEFAULT_AUTH_TIMEOUT,
        retry: RetryPolicy | None = None,
        lock_wait: float | None = None,
        failure_cooldown: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`auth_client_factory(client_id=, client_secret=, redirect_uri=, environment=)` defaults to a
        TimeoutAuthClient with `timeout` (seconds, or (connect, read)); `retry` retries a refresh that got no
        answer or a 5xx; `lock_wait` bounds how long a thread waits for another's refresh (default: the
        longest a refresh can take with these timeouts and retries); for `failure_cooldown` seconds after a
        refresh that failed transiently, callers get that failure at once (`monotonic` is its clock)."""
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._environment = environment
        self.realm_id = realm_id
        self._store = store
        self._initial_refresh_token = initial_refresh_token
        self._clock = clock
        self._monotonic = monotonic
        self._timeout = timeout
        self._factory = auth_client_factory or timeout_client_factory(timeout)
        self._retry = retry or default_refresh_retry()
        self.lock_wait = lock_wait if lock_wait is not None else self.refresh_bound()
        self.failure_cooldown = failure_cooldown
        self._auth_client: Any = None
        self._lock = threading.Lock()
        self._cached: tuple[str, float] | None = None  # (access token, expires at)
        self._failure: tuple[float, TransientError] | None = None  # (monotonic end, error) of the last failed refresh
        self.on_stored: Callable[[], None] | None = None  # called after every stored token answer

    def __repr__(self) -> str:
        return f"QuickBooksTokens(realm_id={self.realm_id!r}, environment={self._environment!r})"

    def refresh_bound(self) -> float:
        """The longest one refresh can hold the lock: every attempt's discovery and token calls time out."""
        attempts = max(1, self._retry.attempts)
        return attempts * 2 * timeout_total(self._timeout) + (attempts - 1) * self._retry.cap_seconds

    def access_token(self) -> str:
        """A token valid for at least another minute, refreshing (once, for all threads) when needed."""
        cached = self._cached
        if cached and self._usable(cached[0], cached[1]):
            return cached[0]
        asked = self._monotonic()
        self._acquire()
        try:
            record = self._store.load(self.realm_id)
            if record and self._usable(record.access_token, record.access_expires_at):
                return self._remember(record.access_token, record.access_expires_at)
            return self._refresh(asked, rejected=None)
        finally:
            self._lock.release()

    def refreshed_after(self, rejected: str) -> str:
        """After a 401 with `rejected`: a newer stored token if someone already refreshed, else refresh now."""
        asked = self._monotonic()
        self._acquire()
        try:
            return self._refresh(asked, rejected=rejected)
        finally:
            self._lock.release()

    def _acquire(self) -> None:
        """Take the refresh lock, waiting at most `lock_wait` seconds (the holder only makes bounded calls)."""
        if not self._lock.acquire(timeout=self.lock_wait):
            raise TransientError(f"QuickBooks' access token is being refreshed by another request that has not "
                                 f"finished within {self.lock_wait:g} s; try again in a minute",
                                 service=SERVICE, code="refresh_busy")

    def _usable(self, token: str | None, expires_at: float | None) -> bool:
        return bool(token) and expires_at is not None and expires_at - self._clock() > REFRESH_MARGIN_SECONDS

    def _remember(self, token: str, expires_at: float) -> str:
        self._cached = (token, expires_at)
        return token

    def _client(self) -> Any:
        """Build the AuthClient on first use: its constructor fetches the discovery document (bounded)."""
        if self._auth_client is None:
            self._auth_client = build_client(self._factory, client_id=self._client_id,
                                             client_secret=self._client_secret, redirect_uri=self._redirect_uri,
                                             environment=self._environment)
        return self._auth_client

    def keepalive(self, max_age: float) -> bool:
        """Refresh when the stored tokens were last refreshed `max_age` seconds ago or more (or never), even with
        a usable access token: Intuit ends a refresh token 100 days after its last use. True when it refreshed."""
        asked = self._monotonic()
        self._acquire()
        try:
            record = self._store.load(self.realm_id)
            if record is None and not self._initial_refresh_token:
                return False  # never connected: nothing to keep alive
            due_before = self._clock() - max_age
            if record is not None and record.refreshed_at is not None and record.refreshed_at > due_before:
                return False
            self._refresh(asked, rejected=None, older_than=due_before)
            return True
        finally:
            self._lock.release()

    def forget(self) -> None:
        """Drop the remembered access token (after a reconnect stored a new grant)."""
        self._cached = None
        self._failure = None

    def _refresh(self, asked: float, *, rejected: str | None, older_than: float | None = None) -> str:
        """Refresh with retries; called with the lock held."""
        failure = self._failure
        if failure is not None and (failure[0] >= asked or self._monotonic() - failure[0] < self.failure_cooldown):
            # A refresh just got no answer (perhaps while we queued behind it): repeating its wait now would
            # only stack delays; the error says to try again shortly.
            raise TransientError(failure[1].message, service=SERVICE, status=failure[1].status,
                                 code=failure[1].code, intuit_tid=failure[1].intuit_tid)
        try:
            token = self._retry.call(lambda: self._refresh_once(rejected, older_than), idempotent=True)
        except TransientError as exc:
            error = TransientError(f"{exc.message} (gave up after {self._retry.attempts} attempts)",
                                   service=SERVICE, status=exc.status, code=exc.code, intuit_tid=exc.intuit_tid)
            self._failure = (self._monotonic(), error)
            log.warning("QuickBooks token refresh failed for realm %s: %s", self.realm_id, error)
            raise error from None
        self._failure = None
        return token

    def _refresh_once(self, rejected: str | None, older_than: float | None = None) -> str:
        """One attempt with the newest stored refresh token (another process may have refreshed meanwhile).
        `older_than` (the keepalive): refresh even a usable token unless the row was refreshed after that time."""
        record = self._store.load(self.realm_id)
        kept_alive = older_than is None or (record is not None and (record.refreshed_at or 0) > older_than)
        if (kept_alive and record and record.access_token and record.access_token != rejected
                and self._usable(record.access_token, record.access_expires_at)):
            return self._remember(record.access_token, record.access_expires_at)
        refresh_token = record.refresh_token if record else self._initial_refresh_token
        if not refresh_token:
            raise AuthError(f"QuickBooks is not connected for company {self.realm_id}: {RECONNECT_HINT}",
                            service=SERVICE, code="not_connected")
        client = self._client()
        fresh_answer(client)
        try:
            client.refresh(refresh_token=refresh_token)
        except AUTH_FAILURES as exc:
            error = auth_error(exc, "token refresh")
            log.warning("QuickBooks token refresh attempt failed for realm %s: %s", self.realm_id, error)
            newer = self._store.load(self.realm_id)
            if error.code == "invalid_grant" and newer and newer.refresh_token != refresh_token:
                # Another process rotated the token between our read and our refresh: use its result.
                return self._refresh_once(rejected, older_than)
            raise error from None
        return self._store_refreshed(client, refresh_token)

    def _store_refreshed(self, client: Any, old_refresh: str) -> str:
        """Persist the rotated pair in one transaction, then hand out the new access token."""
        now = self._clock()
        access = client.access_token
        expires_at = now + float(client.expires_in or 3600)
        new_refresh = client.refresh_token or old_refresh  # keep the old one if none came back
        try:
            self._store.save(self.realm_id, access_token=access, access_expires_at=expires_at,
                             refresh_token=new_refresh, **lifetimes(client, now))
        except Exception:
            # Intuit has already retired the old refresh token: without this row the next refresh fails.
            log.error("QuickBooks tokens for realm %s were refreshed but could not be stored; if refreshing "
                      "fails from now on, %s", self.realm_id, RECONNECT_HINT)
            raise
        log.info("QuickBooks tokens refreshed for realm %s (refresh token rotated: %s)",
                 self.realm_id, new_refresh != old_refresh)
        token = self._remember(access, expires_at)
        self._stored()
        return token

    def _stored(self) -> None:
        """Tell `on_stored` (the connection watch: expiry warnings); its failure never fails the refresh."""
        if self.on_stored is None:
            return
        try:
            self.on_stored()
        except Exception:
            log.exception("after storing QuickBooks tokens for realm %s", self.realm_id)
