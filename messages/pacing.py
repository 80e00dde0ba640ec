"""The bot's own pace on Slack's Web API: token buckets per method a bit under Slack's documented tiers, shared by
every call the process makes (the outbox's deliverer and the listeners' calls alike).

Slack's limits [DOC] docs.slack.dev/apis/web-api/rate-limits: per method, per workspace, per app; Tier 2 "20+ per
minute", Tier 3 "50+", Tier 4 "100+", each with short bursts; chat.postMessage about one message per second per
channel plus a workspace-wide ceiling; over the limit HTTP 429 with Retry-After (shared/reference/real-world.md).
Slack publishes no burst sizes: ours are small. `scale` runs every rate (and every Retry-After) N times faster, for
a test whose fake Slack runs its rate clock N times faster too.

The deliverer never waits here: `try_take` takes a token or says how long until one is there, and the message waits
in the outbox while others go on. A listener's call (views.open / update, chat.postEphemeral: Tier 4, rarely short)
waits for its token: `PacedWebClient`, which `pace_requests` puts into every Bolt request (see there).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

PER_CHANNEL = ":channel"  # "<method>:channel": a bucket per channel (chat.postMessage's one per second)


@dataclass(frozen=True)
class Rate:
    """A sustained rate (calls per minute) and how many calls may go at once (the bucket's size)."""

    per_minute: float
    burst: int


TIER_2, TIER_3, TIER_4 = Rate(18, 3), Rate(45, 5), Rate(90, 10)
HUNDREDS = Rate(300, 20)  # auth.test, chat.getPermalink: "hundreds of requests per minute"

# Each method's tier is on its docs page (Facts: "Rate limits"); every rate here is about 10% under it.
LIMITS: dict[str, Rate] = {
    "chat.postMessage" + PER_CHANNEL: Rate(54, 2),  # "one message per second per channel"
    "chat.postMessage": Rate(200, 20),  # the workspace-wide ceiling, "several hundred per minute"
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": HUNDREDS,
    "auth.test": HUNDREDS,
    "conversations.info": TIER_3,
    "conversations.join": TIER_3,
    "conversations.open": TIER_3,
    "users.info": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}
UNLISTED = TIER_2  # a method not above: the careful tier
PROGRESS_SECONDS = 2.5  # one message's progress (a chat.update) at most this often


class _Bucket:
    def __init__(self, rate: Rate, per_second: float, now: float) -> None:
        self.burst, self.per_second, self.tokens, self.last = rate.burst, per_second, float(rate.burst), now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now), after refilling for the time gone by."""
        if now > self.last:
            self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.per_second)
            self.last = now
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.per_second


class Pacer:
    """Per-method (and per-channel) buckets, the holds Slack's 429s asked for, and each message's last update."""

    def __init__(self, limits: dict[str, Rate] | None = None, *, scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 progress_seconds: float = PROGRESS_SECONDS) -> None:
        if scale <= 0:
            raise ValueError("the pace's scale must be positive")
        self.limits, self.scale, self.clock, self.sleep = dict(LIMITS if limits is None else limits), scale, clock, sleep
        self.progress_seconds = progress_seconds / scale
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._held: dict[tuple[str, str], float] = {}
        self._updated: dict[str, float] = {}

    def _bucket(self, key: str, channel: str, now: float) -> _Bucket:
        found = self._buckets.get((key, channel))
        if found is None:
            rate = self.limits.get(key, UNLISTED)
            found = self._buckets[(key, channel)] = _Bucket(rate, rate.per_minute / 60.0 * self.scale, now)
        return found

    def _wait(self, method: str, channel: str, now: float) -> tuple[float, list[_Bucket]]:
        buckets = [self._bucket(method, "", now)]
        if channel and method + PER_CHANNEL in self.limits:
            buckets.append(self._bucket(method + PER_CHANNEL, channel, now))
        held = max(0.0, self._held.get((method, channel), 0.0) - now)
        return max([held, *(b.wait(now) for b in buckets)]), buckets

    def try_take(self, method: str, channel: str | None = None) -> float:
        """0.0: a token was taken and the call may go now; else the seconds until one is there (nothing taken)."""
        with self._lock:
            wait, buckets = self._wait(method, channel or "", self.clock())
            if wait > 0:
                return wait
            for b in buckets:
                b.tokens -= 1
            return 0.0

    def take(self, method: str, channel: str | None = None) -> None:
        """Wait until a token is there, and take it (a listener's call: Tier 4, rarely waits)."""
        while (wait := self.try_take(method, channel)) > 0:
            self.sleep(max(wait, 0.001))

    def hold(self, method: str, channel: str | None, retry_after: float) -> float:
        """Slack answered 429: nothing of this method goes to this channel for Retry-After (Slack's seconds);
        returns the hold in this process's seconds."""
        seconds = max(float(retry_after), 0.0) / self.scale
        with self._lock:
            key = (method, channel or "")
            self._held[key] = max(self._held.get(key, 0.0), self.clock() + seconds)
        return seconds

    def progress_wait(self, message: str) -> float:
        """Seconds until this message may be updated again (0: now): progress at most every PROGRESS_SECONDS."""
        with self._lock:
            last = self._updated.get(message)
            return 0.0 if last is None else max(0.0, last + self.progress_seconds - self.clock())

    def updated(self, message: str) -> None:
        with self._lock:
            self._updated[message] = self.clock()
            if len(self._updated) > 10_000:  # messages long finished: forget the oldest half
                for key in sorted(self._updated, key=self._updated.get)[:5_000]:
                    del self._updated[key]


def channel_of(kwargs: dict) -> str:
    """The channel a Web API call is about (its json, form or query arguments), or ""."""
    for part in ("json", "data", "params"):
        args = kwargs.get(part)
        if isinstance(args, dict) and isinstance(args.get("channel"), str):
            return args["channel"]
    return ""


def ratelimited(error: SlackApiError) -> float | None:
    """Retry-After of a 429 answer (1 s when Slack gave none); None for any other refusal."""
    response = error.response
    if response.status_code != 429 and response.get("error") != "ratelimited":
        return None
    value = (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
    try:
        return float(value) if value else 1.0
    except ValueError:
        return 1.0


class PacedWebClient(WebClient):
    """A WebClient whose every call waits for the pacer's token; a 429 holds the method there and is tried once
    more after its Retry-After."""

    def __init__(self, *args, pacer: Pacer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    @classmethod
    def like(cls, client: WebClient, pacer: Pacer) -> PacedWebClient:
        """The same client (token, address, timeouts, retry handlers), paced."""
        return cls(pacer=pacer, **_settings(client))

    def api_call(self, api_method: str, **kwargs):  # noqa: D102 (WebClient's)
        channel = channel_of(kwargs)
        for attempt in (1, 2):
            self.pacer.take(api_method, channel)
            try:
                return super().api_call(api_method, **kwargs)
            except SlackApiError as e:
                wait = ratelimited(e)
                if wait is None or attempt == 2:
                    raise
                self.pacer.hold(api_method, channel, wait)
        raise AssertionError("unreachable")

    def unpaced(self) -> WebClient:
        """The same client without the wait: for the outbox's deliverer, which asks the pacer itself."""
        return WebClient(**_settings(self))


def _settings(client: WebClient) -> dict:
    """What Bolt copies from one WebClient to the next (slack_bolt/app/app.py `_init_context`)."""
    return {"token": client.token, "base_url": client.base_url, "timeout": client.timeout, "ssl": client.ssl,
            "proxy": client.proxy, "headers": dict(client.headers), "team_id": client.default_params.get("team_id"),
            "logger": client.logger, "retry_handlers": list(client.retry_handlers)}


def pace_requests(pacer: Pacer):
    """A Bolt middleware (App(before_authorize=...)) giving each request a paced client.

    Bolt builds a new WebClient for every request (slack_bolt/app/app.py `_init_context`, copying the app's
    client's token, address and retry handlers, not its class), and listeners get `context.client`: this swaps it
    for a PacedWebClient before authorization (whose first auth.test is then paced too) and every listener."""

    def paced(context, next) -> None:  # noqa: A002 (Bolt's name for the chain)
        context["client"] = PacedWebClient.like(context.client, pacer)
        next()

    return paced
