"""FakeSlack: the workspace state, the Web API dispatch and the HTTP routes (`/api/<method>`, `/response/<id>`,
`/_fake/state`, `/_fake/version`); Socket Mode's WebSocket lives in socket_mode.py."""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from sandbox.fake_slack.common import (
    DEFAULT_SCOPES,
    PERMALINK_HOST,
    SlackError,
    SlackFaults,
)
from sandbox.fake_slack.membership import MembershipMixin
from sandbox.fake_slack.messages import MessagesMixin
from sandbox.fake_slack.records import RecordsMixin
from sandbox.fake_slack.responses import ResponsesMixin
from sandbox.fake_slack.socket_mode import SocketModeServer
from sandbox.fake_slack.views import ViewsMixin
from sandbox.serving import LoopbackServer

log = logging.getLogger(__name__)
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")


class FakeSlack(MembershipMixin, MessagesMixin, ResponsesMixin, ViewsMixin, RecordsMixin):
    """An in-memory Slack workspace answering the Web API over HTTP (and Socket Mode over a WebSocket)."""

    def __init__(self, clock: Callable[[], float] = time.time, bot_user_id: str = "UBOT0001",
                 team_id: str = "T0SANDBOX", *, bot_id: str = "B0SANDBOX", app_id: str = "A0SANDBOX",
                 team_domain: str = "sandbox", bot_name: str = "applycredit",
                 scopes: Iterable[str] = DEFAULT_SCOPES, ack_timeout: float = 3.0, connect_wait: float = 5.0,
                 refresh_interval: float | None = None) -> None:
        """`scopes`: the bot token's scopes; `ack_timeout` / `connect_wait` / `refresh_interval`: Socket Mode
        (see socket_mode.py)."""
        self.clock = clock
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.team_id, self.team_domain, self.bot_name = team_id, team_domain, bot_name
        self.scopes = set(scopes)
        self.faults = SlackFaults()
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
        self.add_user(self.bot_user_id, self.bot_name, is_bot=True)

    def _touch(self) -> None:
        with self._lock:
            self._bump()

    # ---- Web API -----------------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict) -> dict:
        return {"ok": True, "url": f"{PERMALINK_HOST}/", "team": "Sandbox", "user": self.bot_name,
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
        "conversations.join": MembershipMixin._m_conversations_join,
        "conversations.open": MembershipMixin._m_conversations_open,
        "views.open": ViewsMixin._m_views_open,
        "views.push": ViewsMixin._m_views_push,
        "views.update": ViewsMixin._m_views_update,
        "views.publish": ViewsMixin._m_views_publish,
    }

    @staticmethod
    def _check_token(method: str, token: str | None) -> None:
        """Bot tokens for the Web API; the app-level xapp- token only for apps.connections.open."""
        if not token:
            raise SlackError("not_authed")
        if method == "apps.connections.open" or token.startswith("xapp-"):
            if method != "apps.connections.open" or not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
        elif not token.startswith("xoxb-"):
            raise SlackError("invalid_auth")

    def call(self, method: str, args: dict, token: str | None = "xoxb-direct") -> tuple[int, dict]:
        """Run one Web API method in-process (what the HTTP route does after parsing); returns (status, body)."""
        status = 200
        with self._lock:
            self._truncated = False
            try:
                handler = self._METHODS.get(method)
                if handler is None:
                    if not token:
                        raise SlackError("not_authed")
                    raise SlackError("unknown_method")
                self._check_token(method, token)
                body = handler(self, args)
            except SlackError as e:
                status, body = e.status, e.body()
            self._record(method, {**args, "truncated": True} if self._truncated else args, body, status)
        return status, body

    # ---- HTTP --------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        try:
            response = self._route(request)
        except Exception:
            log.exception("fake slack failed on %s", request.path)
            response = _json({"ok": False, "error": "fatal_error"}, 500)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/api/"):
            return self._api(request, path[len("/api/"):])
        if path.startswith("/response/"):
            return self._response_url(request, path[len("/response/"):])
        if path == "/_fake/state" and request.method == "GET":
            return _json(self.state(request.args.get("user") or None))
        if path == "/_fake/version" and request.method == "GET":
            since = request.args.get("since", type=int)
            wait = min(request.args.get("timeout", default=25, type=float), 60)
            version = self.wait_version(since, wait) if since is not None else self.history_version
            return _json({"version": version})
        return Response("Not Found", 404, mimetype="text/plain")

    def _fault(self, request: Request) -> Response | None:
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return None
        if fault.kind in ("slow", "hold_after_commit"):
            if fault.kind == "slow":
                time.sleep(fault.seconds or 0)
            else:
                request.environ["fake_slack.hold"] = fault.seconds or 0  # answered late, after the call is done
            return None
        if fault.kind == "ratelimited":
            resp = _json({"ok": False, "error": "ratelimited"}, 429)
            resp.headers["Retry-After"] = str(math.ceil(fault.seconds) if fault.seconds is not None else 1)
        elif fault.kind == "500":
            resp = _json({"ok": False, "error": "fatal_error"}, 500)
        else:
            resp = _json({"ok": False, "error": fault.kind})
        with self._lock:
            method = request.path.rsplit("/", 1)[-1] if request.path.startswith("/api/") else "response_url"
            self._record(method, {"fault": fault.kind}, json.loads(resp.get_data(as_text=True)), resp.status_code)
        return resp

    def _api(self, request: Request, method: str) -> Response:
        injected = self._fault(request)
        if injected is not None:
            return injected
        args = _request_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else None
        token = token or args.pop("token", None)
        args.pop("token", None)
        for key in _JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    body = {"ok": False, "error": "invalid_blocks_format" if key == "blocks" else "invalid_arguments"}
                    with self._lock:
                        self._record(method, args, body, 200)
                    return _json(body)
        status, body = self.call(method, args, token)
        held = request.environ.get("fake_slack.hold")
        if held:
            self._stopping.wait(held)
        return _json(body, status)

    def _response_url(self, request: Request, url_id: str) -> Response:
        if request.method != "POST":
            return Response("Method Not Allowed", 405)
        injected = self._fault(request)
        if injected is not None:
            return injected
        raw = request.get_data(as_text=True)
        try:
            if request.mimetype == "application/x-www-form-urlencoded":
                payload = json.loads(parse_qs(raw).get("payload", ["{}"])[0])
            else:
                payload = json.loads(raw or "{}")
        except ValueError:
            return _json({"ok": False, "error": "invalid_payload"}, 400)
        status, body = self.respond(url_id, payload)
        if body.get("error") == "invalid_blocks":
            # real-world.md §2: a response_url answers Block Kit violations with HTTP 400 and a bare text body
            return Response("invalid_blocks", 400, mimetype="text/plain")
        return _json(body, status)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _request_args(request: Request) -> dict:
    args: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            args.update(data)
    else:
        args.update(dict(request.form.items()))
    return args
