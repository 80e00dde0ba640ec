"""FakeSlack's HTTP side: `/api/<method>`, `/response/<id>`, `/upload/v1/<ticket>`, `/_fake/state`, `/_fake/version`.

Every Web API answer to a bot token carries `x-oauth-scopes`, the token's scopes comma-separated ([OBS]
slack-ruby/slack-ruby-client#378: "x-oauth-scopes is a list of scopes that the token has", the only API way to read
them; [DOC] docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPICallResult: the SDK exposes it as
`response_metadata.scopes`). Separator without spaces, and the app-level token's "connections:write":
[UNVERIFIED].
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
# real-world.md §2: a response_url answers Block Kit refusals with HTTP 400 and a bare text body (Bolt's respond()
# does not raise); msg_blocks_too_long the same way [UNVERIFIED: bolt-js#2867 even saw respond() take blocks that
# chat.postMessage refused].
_TEXT_REFUSALS = ("invalid_blocks", "msg_blocks_too_long")


class HttpMixin:
    """The WSGI app of FakeSlack: parses requests, plays injected faults, and answers like Slack's servers."""

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
        if path.startswith("/upload/v1/") and request.method == "POST":
            return self._upload(request, path[len("/upload/v1/"):])
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
            method = request.path.rsplit("/", 1)[-1] if request.path.startswith("/api/") else \
                "upload_url" if request.path.startswith("/upload/") else "response_url"
            self._record(method, {"fault": fault.kind}, json.loads(resp.get_data(as_text=True)), resp.status_code)
        return resp

    def _scopes_header(self, token: str | None) -> str | None:
        """x-oauth-scopes for this token: the bot's scopes, the app-level token's, none for anything else (an
        unknown token included: it has no scopes)."""
        if token and self.tokens is not None and token not in self.tokens:
            return None
        if token and token.startswith("xoxb-"):
            return ",".join(sorted(self.scopes))
        if token and token.startswith("xapp-"):
            return "connections:write"
        return None

    def _api(self, request: Request, method: str) -> Response:
        args = _request_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else None
        token = token or args.get("token")
        args.pop("token", None)
        response = self._fault(request) or self._api_answer(request, method, args, token)
        scopes = self._scopes_header(token)
        if scopes is not None:
            response.headers["x-oauth-scopes"] = scopes
        return response

    def _api_answer(self, request: Request, method: str, args: dict, token: str | None) -> Response:
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
        status, body, headers = self.call_with_headers(method, args, token)
        held = request.environ.get("fake_slack.hold")
        if held:
            self._stopping.wait(held)
        response = _json(body, status)
        response.headers.update(headers)
        return response

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
        if body.get("error") in _TEXT_REFUSALS:
            return Response(body["error"], 400, mimetype="text/plain")
        return _json(body, status)

    def _upload(self, request: Request, ticket: str) -> Response:
        """The upload URL: raw bytes, or a multipart form whose first file part holds them ([DOC] "Files can be
        sent as raw bytes or can be multipart form encoded")."""
        injected = self._fault(request)
        if injected is not None:
            return injected
        if request.mimetype == "multipart/form-data":
            part = next(iter(request.files.values()), None)
            data = part.read() if part is not None else b""
        else:
            data = request.get_data(cache=False, parse_form_data=False)
        status, text = self.receive_upload(ticket, data)
        return Response(text, status, mimetype="text/plain")


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
