"""Typed errors raised by every integration client.

    IntegrationError            anything an integration answered that is not a success
     ├── AuthError              401/403: credentials missing, expired or revoked
     ├── NotFoundError          404, QuickBooks 610: the record does not exist (any more)
     ├── ConflictError          409, QuickBooks 5010 (stale SyncToken): someone else changed it
     ├── ValidationError        400/422, QuickBooks 6000/6210/4000/2xxx: the request itself is refused
     ├── RateLimitedError       429: throttled; `retry_after` says how long to wait
     └── TransientError         5xx, timeouts, dropped connections: safe to retry when idempotent

Every error carries the service, the HTTP status, the service's own fault code and, for QuickBooks, the
`intuit_tid` that Intuit support asks for. Messages never contain credentials.
"""
from __future__ import annotations


class IntegrationError(Exception):
    """Base class: an integration call that did not succeed."""

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        status: int | None = None,
        code: str | None = None,
        intuit_tid: str | None = None,
        retry_after: float | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.service = service
        self.status = status
        self.code = code
        self.intuit_tid = intuit_tid
        self.retry_after = retry_after
        self.details = details or {}

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code {self.code}")
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.intuit_tid:
            parts.append(f"intuit_tid {self.intuit_tid}")
        return " | ".join(parts)

    def brief(self) -> str:
        """What a log line at INFO or above may say of it: kind, code, status and intuit_tid, never the message
        (a service's words can quote a document number, a customer's name or an amount)."""
        parts = [type(self).__name__] + [f"{k}={v}" for k, v in (("code", self.code), ("status", self.status),
                                                                  ("intuit_tid", self.intuit_tid)) if v]
        return " ".join(parts)


def brief(exc: BaseException) -> str:
    """`IntegrationError.brief()`, or the bare type of any other exception (its message is not logged)."""
    return exc.brief() if isinstance(exc, IntegrationError) else type(exc).__name__


class AuthError(IntegrationError):
    """Credentials were refused (401/403, invalid_grant)."""


class NotFoundError(IntegrationError):
    """The record does not exist."""


class ConflictError(IntegrationError):
    """The record changed under us, or an action is already running."""


class ValidationError(IntegrationError):
    """The service refused the request's content; retrying the same request cannot help."""


class RateLimitedError(IntegrationError):
    """Throttled by the service; wait `retry_after` seconds."""


class TransientError(IntegrationError):
    """A 5xx, timeout or dropped connection: the outcome is unknown or temporary."""
