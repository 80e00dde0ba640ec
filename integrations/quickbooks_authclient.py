"""intuit-oauth with timeouts, and the mapping of its failures to our errors.

intuit-oauth 1.2.7's `AuthClient` is a `requests.Session` that calls the discovery document (in its
constructor) and the token endpoint with no timeout at all (real-world.md §7): one hung connection to Intuit
would freeze whoever holds the refresh lock. `TimeoutAuthClient` gives every one of its requests a default
(connect, read) timeout. Token values never appear in a message built here.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from integrations.errors import AuthError, TransientError

SERVICE = "quickbooks"
RECONNECT_HINT = "an admin runs `/applycredit connect` in Slack (or `python bot.py connect-quickbooks`) to connect again"
# Intuit refused the stored connection itself: only a person reconnecting helps (jobs wait for it, data/states.py).
LAPSED = frozenset({"invalid_grant", "not_connected"})
# Connect just over a TCP retransmission window (3 s); Intuit's token endpoint normally answers in well under 1 s.
DEFAULT_AUTH_TIMEOUT: tuple[float, float] = (3.05, 10.0)

Timeout = float | tuple[float, float]
# What a token call raises when it fails: Intuit's refusal, or no answer at all (timeout, connection error).
AUTH_FAILURES = (AuthClientError, requests.RequestException)


class TimeoutAuthClient(AuthClient):
    """`AuthClient` whose every request (discovery GET included) has a bounded connect and read timeout."""

    # A class attribute, so it exists before AuthClient.__init__ fetches the discovery document.
    timeout: Timeout = DEFAULT_AUTH_TIMEOUT

    def __init__(self, *args: Any, timeout: Timeout | None = None, **kwargs: Any) -> None:
        """As AuthClient, plus `timeout` (seconds, or (connect, read)); set before the discovery GET runs."""
        if timeout is not None:
            self.timeout = timeout
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """requests.Session.request with our timeout unless the caller chose one."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, **kwargs)


def timeout_client_factory(timeout: Timeout) -> Callable[..., Any]:
    """A factory taking AuthClient's keyword arguments that builds a TimeoutAuthClient with `timeout`."""

    def build(**kwargs: Any) -> TimeoutAuthClient:
        return TimeoutAuthClient(timeout=timeout, **kwargs)

    return build


def timeout_total(timeout: Timeout) -> float:
    """The longest one request can wait for a silent server: connect plus read."""
    return float(sum(timeout)) if isinstance(timeout, tuple) else 2.0 * float(timeout)


def no_answer(exc: requests.RequestException, action: str) -> TransientError:
    """A timeout or connection failure: Intuit may never have seen the request."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "could not reach Intuit"
    return TransientError(f"QuickBooks {action} {kind} ({type(exc).__name__}); try again in a minute",
                          service=SERVICE, code="no_answer")


def auth_error(exc: Exception, action: str) -> AuthError | TransientError:
    """Map an intuit-oauth failure to our errors; the token endpoint's body never holds a token on failure."""
    if isinstance(exc, requests.RequestException):
        return no_answer(exc, action)
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
        what = ("the authorization code (it works once and expires within minutes)" if "code" in action
                else "the stored refresh token")
        return AuthError(f"QuickBooks refused {what} (invalid_grant): {RECONNECT_HINT}",
                         service=SERVICE, status=status, code=error, intuit_tid=tid)
    return AuthError(
        f"QuickBooks {action} was refused ({error or 'HTTP ' + str(status)}): check QBO_CLIENT_ID and "
        f"QBO_CLIENT_SECRET, then {RECONNECT_HINT}",
        service=SERVICE, status=status, code=error or None, intuit_tid=tid,
    )


def lapsed(error: Exception) -> bool:
    """True when QuickBooks refused the stored connection (revoked, expired, never made): a reconnect is needed."""
    return isinstance(error, AuthError) and error.service == SERVICE and error.code in LAPSED


def fresh_answer(client: Any) -> None:
    """Forget the lifetimes of the client's previous answer: intuit-oauth only sets the fields an answer has."""
    client.x_refresh_token_expires_in = None
    client.x_refresh_token_hard_expires_in = None


def lifetimes(client: Any, now: float) -> dict[str, float | None]:
    """Both expiries of the refresh token in the client's last answer, as epoch seconds, and when it came.

    `x_refresh_token_expires_in`: 100 days from this use (rolling); `x_refresh_token_hard_expires_in`: the seconds
    left until the grant's five-year cap (Intuit's 2025 policy; sent only to a request with the opt-in header,
    which build_client turns on; a confirmed sample answers 156032154 s, i.e. the time left, not the total)."""
    rolling = getattr(client, "x_refresh_token_expires_in", None)
    hard = getattr(client, "x_refresh_token_hard_expires_in", None)
    return {"refresh_expires_at": now + float(rolling) if rolling else None,
            "refresh_hard_expires_at": now + float(hard) if hard else None, "refreshed_at": now}


def build_client(factory: Callable[..., Any], *, client_id: str, client_secret: str, redirect_uri: str,
                 environment: str) -> Any:
    """Build an AuthClient through `factory`, asking for the hard expiry in every token answer; a failed
    discovery download becomes TransientError."""
    try:
        client = factory(client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri,
                         environment=environment)
    except requests.Timeout as exc:
        raise TransientError(f"QuickBooks' OAuth discovery document did not arrive in time ({type(exc).__name__}) "
                             f"for QBO_ENVIRONMENT {environment!r}", service=SERVICE, code="no_answer") from None
    except (AuthClientError, requests.RequestException, ValueError) as exc:
        raise TransientError(f"could not load QuickBooks' OAuth discovery document for QBO_ENVIRONMENT "
                             f"{environment!r} ({type(exc).__name__})", service=SERVICE) from None
    # intuit-oauth 1.2.7: sends x-include-refresh-token-hard-expires-in: true, reads x_refresh_token_hard_expires_in
    client.include_refresh_token_hard_expires_in = True
    return client
