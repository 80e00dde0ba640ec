"""Slack's Web API rate limits as token buckets on the fake's clock. Off unless `FakeSlack(rate_limits=...)`.

What Slack documents [DOC] https://docs.slack.dev/apis/web-api/rate-limits : limits apply "per API method per
workspace/team per app"; Tier 1 "1+ per minute ... A small amount of burst behavior is tolerated", Tier 2 "20+ per
minute ... occasional bursts", Tier 3 "50+ per minute ... Sporadic bursts are welcome", Tier 4 "100+ per minute ...
generous burst behavior"; Special: "chat.postMessage generally allows posting one message per second per channel,
while also maintaining a workspace-wide limit". Over the limit: HTTP 429, `{"ok": false, "error": "ratelimited"}`
and `Retry-After` in seconds (real-world.md "A month-end and the years after").

Each method's tier, from the "Rate limits" fact of its page (api.slack.com/methods/<method>, mirrored at
docs.slack.dev/reference/methods/<method>), checked against Slack's own table [SRC] slackapi/java-slack-sdk
slack-api-client/src/main/java/com/slack/api/methods/MethodsRateLimits.java and MethodsRateLimitTier.java (which
quotes the special tiers: auth.test and chat.getPermalink "allows hundreds of requests per minute" (the SDK paces
them at 600/min); chat.postMessage "1 message per second to a specific channel ... limiting posting to several
hundred messages per minute" workspace-wide; "Generous burst behavior is also granted").
[UNVERIFIED] (our choice, Slack publishes no numbers): every burst size, the workspace-wide chat.postMessage
ceiling (300/min), the special tiers' 600/min, that refused calls spend nothing, and that a call Slack refuses for
another reason (channel_not_found...) still spends its token.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

PER_CHANNEL = ":channel"  # a table key "<method>:channel" is a bucket per channel (chat.postMessage's 1/s rule)


@dataclass(frozen=True)
class Bucket:
    """A sustained rate (requests per minute) and how many requests may arrive at once (the bucket's size)."""

    per_minute: float
    burst: int


TIER_1, TIER_2, TIER_3, TIER_4 = Bucket(1, 2), Bucket(20, 5), Bucket(50, 10), Bucket(100, 20)
SPECIAL_HUNDREDS = Bucket(600, 100)  # auth.test, chat.getPermalink: "hundreds of requests per minute"

# method -> bucket; the source of every tier is the method's docs page (Facts: "Rate limits"), see module docstring.
DOCUMENTED_LIMITS: dict[str, Bucket] = {
    "auth.test": SPECIAL_HUNDREDS,  # Special
    "apps.connections.open": TIER_1,
    "chat.postMessage" + PER_CHANNEL: Bucket(60, 4),  # Special: ~1 per second per channel, short bursts
    "chat.postMessage": Bucket(300, 50),  # Special: the workspace-wide ceiling, "several hundred per minute"
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.delete": TIER_3,
    "chat.getPermalink": SPECIAL_HUNDREDS,  # Special
    "conversations.info": TIER_3,
    "conversations.join": TIER_3,
    "conversations.open": TIER_3,
    "conversations.list": TIER_2,
    "conversations.members": TIER_4,
    "conversations.history": TIER_3,  # 1/min for new non-Marketplace apps since 2025-05-29 (docs page)
    "users.info": TIER_4,
    "users.list": TIER_2,
    "users.lookupByEmail": TIER_3,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "files.info": TIER_4,
    "files.delete": TIER_3,
}

RateLimitOption = bool | Mapping[str, Bucket] | None


def resolve(option: RateLimitOption) -> dict[str, Bucket] | None:
    """None/False: no limits; True: Slack's documented tiers; a mapping: exactly that table."""
    if option is None or option is False:
        return None
    if option is True:
        return dict(DOCUMENTED_LIMITS)
    return dict(option)


class _Tokens:
    """One bucket's state: tokens left, refilled at `per_minute / 60` per second of the clock, up to `burst`."""

    def __init__(self, bucket: Bucket, now: float) -> None:
        self.bucket, self.tokens, self.last = bucket, float(bucket.burst), now

    def wait(self, now: float) -> float:
        """Seconds until one token is there (0: now), after refilling for the time gone by."""
        rate = self.bucket.per_minute / 60.0
        if now > self.last:  # a clock going backwards refills nothing
            self.tokens = min(float(self.bucket.burst), self.tokens + (now - self.last) * rate)
            self.last = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate


class RateLimiter:
    """Token buckets per method (and per channel where the table says so); callers hold FakeSlack's lock."""

    def __init__(self, table: Mapping[str, Bucket], clock: Callable[[], float]) -> None:
        self.table, self.clock = dict(table), clock
        self._state: dict[tuple[str, str | None], _Tokens] = {}

    def take(self, method: str, channel: str | None) -> int | None:
        """None: the call may go ahead (a token taken from each of its buckets); else Retry-After in whole seconds."""
        keys: list[tuple[str, str | None]] = []
        if method in self.table:
            keys.append((method, None))
        if channel and method + PER_CHANNEL in self.table:
            keys.append((method + PER_CHANNEL, channel))
        now = self.clock()
        buckets = [self._tokens(key, now) for key in keys]
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for b in buckets:
            b.tokens -= 1
        return None

    def _tokens(self, key: tuple[str, str | None], now: float) -> _Tokens:
        if key not in self._state:
            self._state[key] = _Tokens(self.table[key[0]], now)
        return self._state[key]
