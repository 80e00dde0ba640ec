"""The driver's foundation: the response type, signing, the three transports, and what every payload shares."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from sandbox.fake_slack import FakeSlack

VERIFICATION_TOKEN = "sandboxverificationtoken"  # legacy `token` field; Bolt ignores it
TRANSPORTS = ("http", "socket", "inprocess")
# transport="inprocess": (raw body, headers) -> (status, body, headers), e.g. App.dispatch(BoltRequest(...)) in a test.
Dispatch = Callable[[str, dict], tuple[int, str, dict]]
_INTERNAL_KEYS = ("channel", "validation_errors")


@dataclass
class DriverResponse:
    """The bot's HTTP answer, plus what the driver sent."""

    status: int
    text: str
    headers: dict
    payload: dict | None = None  # the payload (or command form) sent
    body: str = ""  # the raw request body sent
    response_url: str | None = None
    trigger_id: str | None = None
    extra: dict = field(default_factory=dict)

    def json(self) -> Any:
        """The answer parsed as JSON; None when empty."""
        return json.loads(self.text) if self.text.strip() else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class DriverBase:
    """Signing, transports and the parts every payload shares; SlackDriver adds the payloads."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        slack: FakeSlack,
        team_id: str | None = None,
        clock: Callable[[], float] = time.time,
        *,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        timeout: float = 10,
        session: requests.Session | None = None,
        transport: str = "http",
        dispatch: Dispatch | None = None,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if (transport == "inprocess") != (dispatch is not None):
            raise ValueError("dispatch= is required with transport='inprocess' (and only then)")
        self.transport = transport
        self.dispatch = dispatch
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.slack = slack
        self.team_id = team_id or slack.team_id
        self.team_domain = team_domain or slack.team_domain
        self.api_app_id = api_app_id or slack.app_id
        self.clock = clock
        self.timeout = timeout
        self.session = session or requests.Session()

    # ---- signing ----------------------------------------------------------------------------------------

    def sign(self, body: str, timestamp: int | str) -> dict:
        """Slack's headers for `body`: X-Slack-Signature = "v0=" + HMAC-SHA256(secret, "v0:{ts}:{body}")."""
        basestring = f"v0:{timestamp}:{body}".encode()
        digest = hmac.new(self.signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
        return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}

    def post_raw(self, body: str | bytes, headers: dict | None = None) -> DriverResponse:
        """POST exactly this body with exactly these headers (nothing is signed for you)."""
        data = body.encode() if isinstance(body, str) else body
        if self.dispatch is not None:  # in-process: the same signed bytes and headers, no socket in between
            status, text, got = self.dispatch(data.decode(), dict(headers or {}))
            return DriverResponse(status=status, text=text, headers=got, body=data.decode(errors="replace"))
        r = self.session.post(self.bot_url, data=data, headers=headers or {}, timeout=self.timeout)
        return DriverResponse(status=r.status_code, text=r.text, headers=dict(r.headers),
                              body=data.decode(errors="replace"))

    def _post_form(
        self, body: str, *, timestamp: float | None, signature: str | None, headers: dict | None
    ) -> DriverResponse:
        ts = int(self.clock() if timestamp is None else timestamp)
        h = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        h.update(self.sign(body, ts))
        if signature is not None:
            h["X-Slack-Signature"] = signature
        h.update(headers or {})
        return self.post_raw(body, h)

    def _post_payload(self, payload: dict, **kw: Any) -> DriverResponse:
        if self.transport == "socket":
            # real-world.md §3: view_submission and block_suggestion acks carry a payload; block_actions do not
            accepts = payload.get("type") in ("view_submission", "block_suggestion")
            return self._over_socket("interactive", payload, accepts)
        body = urlencode({"payload": json.dumps(payload)})
        resp = self._post_form(body, **kw)
        resp.payload = payload
        return resp

    def _over_socket(self, type_: str, payload: dict, accepts: bool, **retry: Any) -> DriverResponse:
        """Deliver one envelope to the app connected over Socket Mode; the ack as a DriverResponse."""
        delivery = self.slack.socket.deliver(type_, payload, accepts_response_payload=accepts, **retry)
        if delivery.error == "no_connection":
            raise ConnectionError(f"no app is connected to the fake Slack over Socket Mode "
                                  f"(waited {self.slack.socket.connect_wait} s for apps.connections.open + connect)")
        extra = {"envelope_id": delivery.envelope_id, "attempts": delivery.attempts}
        if not delivery.acked:
            return DriverResponse(status=504, text="", headers={}, payload=payload,
                                  extra={**extra, "error": "ack_timeout"})
        text = json.dumps(delivery.payload) if delivery.payload else ""
        return DriverResponse(status=200, text=text, headers={"Content-Type": "application/json"}, payload=payload,
                              extra=extra)

    # ---- common parts -------------------------------------------------------------------------------------

    def _user(self, user: str) -> dict:
        name = self.slack.user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": self.team_domain}

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    @staticmethod
    def _kind(source: dict) -> str:
        if source.get("type") in ("modal", "home") and str(source.get("id", "")).startswith("V"):
            return "view"
        if source.get("is_ephemeral"):
            return "ephemeral"
        return "message"

    @staticmethod
    def _clean(source: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in source.items() if k not in _INTERNAL_KEYS}

    def _context(self, user: str, source: dict, channel: str | None) -> dict:
        """container / channel / message / view / response_url for a payload coming from `source`."""
        kind = self._kind(source)
        out: dict[str, Any] = {}
        if kind == "view":
            out["container"] = {"type": "view", "view_id": source["id"]}
            out["view"] = self._clean(source)
            return out
        channel = channel or source.get("channel")
        if not channel:
            raise ValueError("source has no channel: pass channel=")
        container = {
            "type": "message",
            "message_ts": source["ts"],
            "channel_id": channel,
            "is_ephemeral": kind == "ephemeral",
        }
        if source.get("thread_ts") and source.get("thread_ts") != source["ts"]:
            container["thread_ts"] = source["thread_ts"]
        out["container"] = container
        out["channel"] = {"id": channel, "name": self.slack.channel_name(channel)}
        if kind == "message":  # an ephemeral source has no `message` key (slack-bolt.md §1.8)
            out["message"] = self._clean(source)
        out["response_url"] = self.slack.issue_response_url(
            channel, user, original_ts=source["ts"], original_kind="ephemeral" if kind == "ephemeral" else "message"
        )
        return out

    @staticmethod
    def find_element(source: dict, action_id: str, block_id: str | None = None) -> tuple[str | None, dict | None]:
        """(block_id, element) of the element with this action_id in source["blocks"]; (None, None) if absent."""
        for block in source.get("blocks") or []:
            if block_id is not None and block.get("block_id") != block_id:
                continue
            candidates = list(block.get("elements") or [])
            for key in ("accessory", "element"):
                if isinstance(block.get(key), dict):
                    candidates.append(block[key])
            for el in candidates:
                if isinstance(el, dict) and el.get("action_id") == action_id:
                    return block.get("block_id"), el
        return None, None

