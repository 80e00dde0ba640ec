"""FakeSlack: the workspace state and the Web API dispatch (rate limits included); the HTTP routes live in
routes.py, Socket Mode's WebSocket in socket_mode.py."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import ClassVar, Self

from sandbox.fake_slack import ratelimits
from sandbox.fake_slack.common import (
    DEFAULT_SCOPES,
    PERMALINK_HOST,
    SlackError,
    SlackFaults,
)
from sandbox.fake_slack.files import FilesMixin
from sandbox.fake_slack.membership import MembershipMixin
from sandbox.fake_slack.messages import MessagesMixin
from sandbox.fake_slack.records import RecordsMixin
from sandbox.fake_slack.responses import ResponsesMixin
from sandbox.fake_slack.routes import HttpMixin
from sandbox.fake_slack.socket_mode import SocketModeServer
from sandbox.fake_slack.views import ViewsMixin
from sandbox.serving import LoopbackServer


class FakeSlack(MembershipMixin, MessagesMixin, ResponsesMixin, ViewsMixin, FilesMixin, RecordsMixin, HttpMixin):
    """An in-memory Slack workspace answering the Web API over HTTP (and Socket Mode over a WebSocket)."""

    def __init__(self, clock: Callable[[], float] = time.time, bot_user_id: str = "UBOT0001",
                 team_id: str = "T0SANDBOX", *, bot_id: str = "B0SANDBOX", app_id: str = "A0SANDBOX",
                 team_domain: str = "sandbox", bot_name: str = "applycredit", team_name: str = "Sandbox",
                 scopes: Iterable[str] = DEFAULT_SCOPES, ack_timeout: float = 3.0, connect_wait: float = 5.0,
                 refresh_interval: float | None = None, rate_limits: ratelimits.RateLimitOption = None,
                 rate_clock: Callable[[], float] | None = None) -> None:
        """`scopes`: the bot token's scopes; `ack_timeout` / `connect_wait` / `refresh_interval`: Socket Mode
        (see socket_mode.py); `rate_limits`: None/False none (the default), True Slack's documented tiers,
        or a table {method or "<method>:channel": ratelimits.Bucket} (see ratelimits.py); `rate_clock` the
        buckets' clock (default `clock`): a test runs it N times faster, with the bot's pacer as fast, to keep
        Slack's limits and their Retry-After in the same proportion at a fraction of the wait."""
        self.clock = clock
        self.rate_clock = rate_clock or clock
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.team_id, self.team_domain, self.bot_name, self.team_name = team_id, team_domain, bot_name, team_name
        self.scopes = set(scopes)
        self.tokens: set[str] | None = None  # the valid bot and app-level tokens; None: any well-formed one
        self.faults = SlackFaults()
        self.rate_limits = ratelimits.resolve(rate_limits)
        self._rng = random.Random(team_id)  # Slack's block ids: random, yet the same run to run
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server = LoopbackServer(self._wsgi, name="fake-slack")
        self._stopping = threading.Event()  # releases answers held by "hold_after_commit"
        self.socket = SocketModeServer(app_id, ack_timeout=ack_timeout, connect_wait=connect_wait,
                                       refresh_interval=refresh_interval, on_change=self._touch)
        self.url: str | None = None
        self._reset_state()

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on host:port (0: a free port) in a daemon thread; return the Web API base URL (.../api/)."""
        if not self._server.running:
            self._server.start(port, host)
            self.url = self._server.origin
        return self.api_url

    def stop(self) -> None:
        self._stopping.set()
        self.socket.stop()
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        if self.url is None:
            raise RuntimeError("FakeSlack is not started")
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Forget every message, view, trigger, response URL and call (users and channels too)."""
        with self._lock:
            self._reset_state()
            self._bump()

    def _reset_state(self) -> None:
        self.calls: list[dict] = []
        self.history_version = 0
        self._seq_sec = self._seq = self._ids = 0
        self._truncated = False
        self._users: dict[str, dict] = {}
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, dict[str, dict]] = {}  # channel -> ts -> message (top-level and replies)
        self._ephemerals: list[dict] = []
        self._triggers: dict[str, dict] = {}
        self._response_urls: dict[str, dict] = {}
        self._views: dict[str, dict] = {}
        self._stacks: dict[str | None, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._files: dict[str, dict] = {}
        self._limiter = ratelimits.RateLimiter(self.rate_limits, self.rate_clock) if self.rate_limits else None
        self.add_user(self.bot_user_id, self.bot_name, is_bot=True)

    def _touch(self) -> None:
        with self._lock:
            self._bump()

    # ---- Web API -----------------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict) -> dict:
        """[DOC] docs.slack.dev/reference/methods/auth.test: url, team, user, team_id, user_id, and for a bot
        token bot_id; is_enterprise_install as Slack adds it outside Enterprise Grid."""
        return {"ok": True, "url": f"{PERMALINK_HOST}/", "team": self.team_name, "user": self.bot_name,
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _m_apps_connections_open(self, args: dict) -> dict:
        return {"ok": True, "url": self.socket.issue_url()}

    _METHODS: ClassVar[dict[str, Callable[..., dict]]] = {
        "auth.test": _m_auth_test,
        "apps.connections.open": _m_apps_connections_open,
        "chat.postMessage": MessagesMixin._m_chat_postMessage,
        "chat.update": MessagesMixin._m_chat_update,
        "chat.postEphemeral": MessagesMixin._m_chat_postEphemeral,
        "chat.getPermalink": MessagesMixin._m_chat_getPermalink,
        "conversations.info": MembershipMixin._m_conversations_info,
        "conversations.join": MembershipMixin._m_conversations_join,
        "conversations.open": MembershipMixin._m_conversations_open,
        "views.open": ViewsMixin._m_views_open,
        "views.push": ViewsMixin._m_views_push,
        "views.update": ViewsMixin._m_views_update,
        "views.publish": ViewsMixin._m_views_publish,
        "files.getUploadURLExternal": FilesMixin._m_files_getUploadURLExternal,
        "files.completeUploadExternal": FilesMixin._m_files_completeUploadExternal,
    }

    def _check_token(self, method: str, token: str | None) -> None:
        """Bot tokens for the Web API; the app-level xapp- token only for apps.connections.open. With `tokens` set,
        only those are the workspace's: any other answers invalid_auth ([DOC] auth.test: "invalid_auth: Some aspect
        of authentication cannot be validated", what a revoked or mistyped token gets)."""
        if not token:
            raise SlackError("not_authed")
        if self.tokens is not None and token not in self.tokens:
            raise SlackError("invalid_auth")
        if method == "apps.connections.open" or token.startswith("xapp-"):
            if method != "apps.connections.open" or not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
        elif not token.startswith("xoxb-"):
            raise SlackError("invalid_auth")

    def call(self, method: str, args: dict, token: str | None = "xoxb-direct") -> tuple[int, dict]:
        """Run one Web API method in-process (what the HTTP route does after parsing); returns (status, body)."""
        status, body, _ = self.call_with_headers(method, args, token)
        return status, body

    def call_with_headers(self, method: str, args: dict, token: str | None = "xoxb-direct") -> tuple[int, dict, dict]:
        """`call`, plus the headers Slack adds to this answer (Retry-After on a 429)."""
        status, headers = 200, {}
        with self._lock:
            self._truncated = False
            try:
                handler = self._METHODS.get(method)
                if handler is None:
                    if not token:
                        raise SlackError("not_authed")
                    raise SlackError("unknown_method")
                self._check_token(method, token)
                self._throttle(method, args)
                body = handler(self, args)
            except SlackError as e:
                status, body, headers = e.status, e.body(), e.headers
            self._record(method, {**args, "truncated": True} if self._truncated else args, body, status)
        return status, body, headers

    def _throttle(self, method: str, args: dict) -> None:
        """HTTP 429 `ratelimited` with Retry-After when the method's bucket (or the channel's) is empty."""
        if self._limiter is None:
            return
        wait = self._limiter.take(method, self._channel_key(args.get("channel")))
        if wait is not None:
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})

    def _channel_key(self, channel: object) -> str | None:
        """The channel a call is about, as an id: `#name` and a user id (the bot's DM with them) resolved."""
        if not isinstance(channel, str) or not channel:
            return None
        if channel in self._channels:
            return channel
        if channel[0] in "UW" and channel in self._users:
            return "D" + channel[1:]
        name = channel.lstrip("#")
        return next((c["id"] for c in self._channels.values() if c["name"] == name and not c["is_im"]), channel)
