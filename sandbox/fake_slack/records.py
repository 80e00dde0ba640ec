"""What tests and the console read back from the fake: messages, threads, ephemerals, views, calls, and a
wait that wakes on every change."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from sandbox.fake_slack.common import WaitTimeout
from sandbox.fake_slack.limits import blocks_text_length


class RecordsMixin:
    """Read-only views of FakeSlack's state, plus `wait_for` / `wait_version` for tests and long polls."""

    _messages: dict[str, dict[str, dict]]
    _ephemerals: list[dict]
    _channels: dict[str, dict]
    _views: dict[str, dict]
    _stacks: dict[str | None, list[str]]
    _homes: dict[str, str]
    _users: dict[str, dict]
    calls: list[dict]
    history_version: int

    def _bump(self) -> None:
        self.history_version += 1
        self._changed.notify_all()

    def _record(self, method: str, args: dict, body: dict, status: int, *, channel: str | None = None) -> None:
        channel = channel or args.get("channel") or args.get("channel_id")
        self.calls.append({"method": method, "args": copy.deepcopy(args), "ok": bool(body.get("ok")),
                           "error": body.get("error"), "status": status, "at": self.clock(),
                           "channel": channel if isinstance(channel, str) else None,
                           "blocks_text": blocks_text_length(args.get("blocks"))})
        self._bump()

    def call_log(self, method: str | None = None) -> list[dict]:
        """Every call answered (Web API, response_url, upload URL, acks), oldest first, for benchmarks:
        {"at", "method", "channel", "ok", "error", "status", "blocks_text"} (blocks_text: the characters
        limits.blocks_text_length counts in the call's blocks)."""
        keys = ("at", "method", "channel", "ok", "error", "status", "blocks_text")
        with self._lock:
            return [{k: c[k] for k in keys} for c in self.calls if method is None or c["method"] == method]

    def ratelimited_counts(self) -> dict[str, int]:
        """How many HTTP 429 answers each method got (the rate limits' and injected "ratelimited" faults')."""
        counts: dict[str, int] = {}
        with self._lock:
            for c in self.calls:
                if c["status"] == 429:
                    counts[c["method"]] = counts.get(c["method"], 0) + 1
        return counts

    def _snapshot(self, channel: str, msg: dict) -> dict:
        snap = copy.deepcopy(msg)
        snap["channel"] = channel
        if snap.get("thread_ts") in (None, snap["ts"]):
            snap.setdefault("reply_count", 0)
        return snap

    def messages(self, channel: str) -> list[dict]:
        """Top-level messages in posting order (current content; thread broadcasts included), each with
        `reply_count` and a `channel` key."""
        with self._lock:
            return [self._snapshot(channel, msg) for msg in self._messages.get(channel, {}).values()
                    if msg.get("thread_ts") in (None, msg["ts"]) or msg.get("subtype") == "thread_broadcast"]

    def thread(self, channel: str, ts: str) -> list[dict]:
        """The replies to the message `ts`, in order (the parent excluded)."""
        with self._lock:
            return [self._snapshot(channel, m) for m in self._messages.get(channel, {}).values()
                    if m.get("thread_ts") == ts and m["ts"] != ts]

    def message(self, channel: str, ts: str) -> dict | None:
        with self._lock:
            msg = self._messages.get(channel, {}).get(ts)
            return self._snapshot(channel, msg) if msg else None

    def ephemerals(self, user: str, channel: str | None = None) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals
                    if e["recipient"] == user and (channel is None or e["channel"] == channel)]

    def views(self, user: str | None) -> dict:
        """{"modals": [open modal views, root first], "home": the published App Home or None}."""
        with self._lock:
            home_id = self._homes.get(user) if user else None
            return {"modals": [copy.deepcopy(self._views[v]["view"]) for v in self._stacks.get(user, [])],
                    "home": copy.deepcopy(self._views[home_id]["view"]) if home_id else None}

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            rec = self._views.get(view_id)
            return copy.deepcopy(rec["view"]) if rec else None

    def calls_to(self, method: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(c) for c in self.calls if c["method"] == method]

    def channels(self) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._channels.values()]

    def wait_for(self, predicate: Callable[[Any], Any], timeout: float = 5, interval: float = 0.02) -> Any:
        """Poll `predicate(self)` (after every change, and every `interval` s) until truthy; return its value.
        Raises WaitTimeout (an AssertionError) after `timeout` seconds of wall-clock time (not `clock`).
        The predicate runs without the lock held, so it may do anything, even call the fake over HTTP."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.history_version
            result = predicate(self)
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self._lock:
                    recent = [(c["method"], c["error"]) for c in self.calls[-5:]]
                raise WaitTimeout(f"condition not met within {timeout}s; last calls (method, error): {recent}")
            with self._changed:
                if self.history_version == seen:
                    self._changed.wait(min(interval, remaining))

    def wait_version(self, since: int, timeout: float = 25) -> int:
        """Block until history_version > since (or timeout); return the current version (for long polls)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.history_version <= since:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self.history_version

    def state(self, user: str | None = None) -> dict:
        """Everything a console needs, as JSON-ready data."""
        with self._lock:
            channels = []
            for ch in self._channels.values():
                msgs = self.messages(ch["id"])
                for m in msgs:
                    m["replies"] = self.thread(ch["id"], m["ts"]) if m.get("reply_count") else []
                channels.append({**copy.deepcopy(ch), "messages": msgs})
            return {
                "version": self.history_version, "team_id": self.team_id, "bot_user_id": self.bot_user_id,
                "users": [copy.deepcopy(u) for u in self._users.values()], "channels": channels,
                "ephemerals": self.ephemerals(user) if user else [],
                "views": self.views(user) if user else {"modals": [], "home": None},
                "faults": self.faults.armed,
            }
