"""What every part of the fake Slack shares: the refusal type, the fault injector, limits of time and size."""
from __future__ import annotations

from typing import Any

from sandbox.faults import Faults as _BaseFaults

TRIGGER_LIFETIME = 3.0  # seconds (slack-bolt.md §1.7)
RESPONSE_URL_LIFETIME = 30 * 60.0  # slack-bolt.md §1.6
RESPONSE_URL_MAX_USES = 5
MAX_VIEW_STACK = 3
PERMALINK_HOST = "https://sandbox.slack.local"
# real-world.md §2 "Message text": Slack truncates chat.postMessage text beyond 40,000 characters and chat.update
# refuses more than 4,000 with msg_too_long.
MAX_POST_TEXT = 40_000
MAX_UPDATE_TEXT = 4_000
DEFAULT_SCOPES = frozenset({"chat:write", "commands", "channels:join", "files:write", "channels:read", "groups:read"})  # manifest.yml's
_TRUE = ("1", "true", "True", "yes")
_URL_PREFIXES = {"response_url": "/response/", "upload_url": "/upload/v1/"}


class WaitTimeout(AssertionError):
    """`FakeSlack.wait_for` gave up: the predicate never became truthy."""


class SlackError(Exception):
    """A Web API refusal: `{"ok": false, "error": error, **extra}` with an HTTP status (and headers, e.g.
    Retry-After)."""

    def __init__(self, error: str, status: int = 200, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict:
        """The JSON body Slack answers with."""
        return {"ok": False, "error": self.error, **self.extra}


def invalid(error: str, errors: list[str]) -> SlackError:
    """`invalid_blocks` / `invalid_arguments` with `errors[]` and `response_metadata.messages[]` (real-world.md §2)."""
    return SlackError(error, errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


def truthy(v: Any) -> bool:
    """Slack's reading of a boolean argument sent as JSON or as a form field."""
    return (v is True or (isinstance(v, str) and v in _TRUE)
            or (isinstance(v, int) and not isinstance(v, bool) and v != 0))


class _MethodMatch:
    """Matches one Web API method exactly (`/api/chat.update`), response URLs (`method="response_url"`) or
    upload URLs (`method="upload_url"`)."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __call__(self, http_method: str, path: str) -> bool:
        if self.method in _URL_PREFIXES:
            return path.startswith(_URL_PREFIXES[self.method])
        return path == f"/api/{self.method}"

    def __repr__(self) -> str:
        return self.method


class SlackFaults(_BaseFaults):
    """`sandbox.faults.Faults` with Slack's vocabulary.

    Kinds: "ratelimited" (HTTP 429, `Retry-After: retry_after`), "500" (HTTP 500), "slow" (sleep `retry_after`
    seconds, then answer normally), "hold_after_commit" (carry the call out, then hold the answer `seconds`: the
    message is in the channel while the caller still waits, as when Slack's answer is lost on the way back),
    any other string: HTTP 200 `{"ok": false, "error": kind}` (e.g.
    "channel_not_found"). `method=None` matches every call, including response and upload URLs;
    `method="response_url"` / `"upload_url"` only those.
    """

    def inject(  # type: ignore[override]
        self,
        kind: str,
        method: str | None = None,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        match: Any = None,
        seconds: float | None = None,
    ) -> None:
        """Arm `kind` for the next `times` calls of `method` (or those `match` accepts)."""
        if match is None and method is not None:
            match = _MethodMatch(method)
        if seconds is None:
            seconds = retry_after
        if seconds is None and kind == "ratelimited":
            seconds = 1
        super().inject(kind, times=times, match=match, seconds=seconds)
