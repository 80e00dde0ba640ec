"""Plays Slack's side of the conversation: sends the bot slash commands, clicks, view submissions and
options requests over HTTP, signed exactly as Slack signs them.

    driver = SlackDriver(bot_url="http://127.0.0.1:PORT/slack/events", signing_secret=SECRET, slack=fake)
    resp = driver.command(user="U0REQUEST", channel="C0FINANCE", text="Atomar's Best Tackle")
    msg = fake.wait_for(lambda s: s.messages("C0FINANCE"))[0]
    driver.click(user="U0APPROVE", action_id="approve", source=msg)

`response_url` and `trigger_id` come from the FakeSlack, so what the bot does with them lands there. Like
Slack, the driver also acts on the bot's HTTP answers: a command's ack body is shown (ephemeral, or in the
channel with `response_type: in_channel`) and a view_submission ack closes / updates / pushes the view or
records its errors (`apply=False` turns that off).

Transports: `transport="http"` (default) POSTs signed requests to `bot_url`; `transport="socket"` delivers the
same payloads as Socket Mode envelopes to the app connected to the fake (`slack.socket`, see
sandbox/fake_slack/socket_mode.py) and returns the ack the same way: status 200 and the ack's payload as a JSON
body. No ack within 3 s -> status 504 with `extra["error"] == "ack_timeout"` (and, for a command, Slack's
"failed with the error operation_timeout" ephemeral to the user); no app connected within `connect_wait` ->
ConnectionError. Signing arguments are ignored over the socket (Socket Mode is pre-authenticated).

Tampering, for the signature tests: every request method takes `timestamp=` (e.g. `time() - 600`),
`signature=` (sent instead of the right one) and `headers=` (merged last); `post_raw(body, headers)` sends
anything.
"""
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


class SlackDriver:
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
    ) -> None:
        if transport not in ("http", "socket"):
            raise ValueError(f"transport must be 'http' or 'socket', not {transport!r}")
        self.transport = transport
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
        r = self.session.post(self.bot_url, data=data, headers=headers or {}, timeout=self.timeout)
        return DriverResponse(status=r.status_code, text=r.text, headers=dict(r.headers), body=data.decode(errors="replace"))

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
            return DriverResponse(status=504, text="", headers={}, payload=payload, extra={**extra, "error": "ack_timeout"})
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

    # ---- slash command --------------------------------------------------------------------------------

    def command(
        self,
        user: str,
        channel: str,
        text: str = "",
        command: str = "/applycredit",
        *,
        apply: bool = True,
        timestamp: float | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse:
        """A slash command, form-encoded in Slack's field order, with a fresh response_url and trigger_id."""
        # A command can come from any channel; one the fake does not know becomes a public channel with this
        # user in it and the bot not (real-world.md §1: commands reach the app from channels it is not in).
        self.slack.ensure_user_channel(channel, user)
        response_url = self.slack.issue_response_url(channel, user)
        trigger_id = self.slack.issue_trigger_id(user)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self.slack.channel_name(channel),
            "user_id": user,
            "user_name": self.slack.user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        if self.transport == "socket":
            resp = self._over_socket("slash_commands", form, True)
            if resp.status == 504:  # Slack tells the user the app did not answer in time
                self.slack.show_command_error(channel, user, command, "operation_timeout")
        else:
            resp = self._post_form(urlencode(form), timestamp=timestamp, signature=signature, headers=headers)
        resp.payload, resp.response_url, resp.trigger_id = form, response_url, trigger_id
        if apply and resp.status == 200 and resp.text.strip():
            # Slack shows a command's ack body like a response_url post that doesn't count as a use.
            try:
                body = resp.json()
            except ValueError:
                body = {"text": resp.text}
            if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
                self.slack.respond(response_url.rsplit("/", 1)[-1], body, count=False)
        return resp

    # ---- block_actions ----------------------------------------------------------------------------------

    def click(
        self,
        user: str,
        action_id: str,
        value: str | None = None,
        source: dict | None = None,
        block_id: str | None = None,
        selected_option: dict | None = None,
        state_values: dict | None = None,
        *,
        channel: str | None = None,
        element_type: str | None = None,
        action: dict | None = None,
        timestamp: float | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse:
        """A block_actions payload for the element `action_id` of `source` (a message or ephemeral from
        the fake, or a view). The element is looked up in source's blocks to fill block_id and type;
        `action=` adds or overrides action fields (e.g. {"selected_date": ...})."""
        if source is None:
            raise ValueError("source is required (a message, ephemeral or view dict from the fake)")
        found_block, element = self.find_element(source, action_id, block_id)
        if element is None and element_type is None:
            raise LookupError(f"no element with action_id={action_id!r} in the source's blocks")
        element = element or {}
        etype = element_type or element.get("type")
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or found_block,
            "type": etype,
            "action_ts": self._action_ts(),
        }
        if etype == "button":
            act["text"] = element.get("text")
            act["value"] = value if value is not None else element.get("value")
            if element.get("style"):
                act["style"] = element["style"]
        elif selected_option is not None or etype in ("static_select", "external_select", "radio_buttons", "overflow"):
            if selected_option is None and value is not None:
                selected_option = next(
                    (o for o in element.get("options") or [] if o.get("value") == value),
                    {"text": {"type": "plain_text", "text": value}, "value": value},
                )
            act["selected_option"] = selected_option
        elif value is not None:
            act["value"] = value
        act = {k: v for k, v in act.items() if v is not None or k == "selected_option"}
        act.update(action or {})

        ctx = self._context(user, source, channel)
        values = copy.deepcopy(state_values or {})
        if etype != "button" and act.get("block_id"):  # the changed element's new state
            state = {k: v for k, v in act.items() if k not in ("action_id", "block_id", "action_ts", "text")}
            values.setdefault(act["block_id"], {})[action_id] = state
        if "view" in ctx:
            merged = copy.deepcopy(ctx["view"].get("state", {}).get("values", {}))
            for bid, acts in values.items():
                merged.setdefault(bid, {}).update(acts)
            ctx["view"]["state"] = {"values": merged}
            values = merged
        trigger_id = self.slack.issue_trigger_id(user)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": ctx["container"],
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        for key in ("channel", "message", "view"):
            if key in ctx:
                payload[key] = ctx[key]
        payload["state"] = {"values": values}
        if "response_url" in ctx:
            payload["response_url"] = ctx["response_url"]
        payload["actions"] = [act]
        resp = self._post_payload(payload, timestamp=timestamp, signature=signature, headers=headers)
        resp.response_url, resp.trigger_id = ctx.get("response_url"), trigger_id
        if "view" in ctx and resp.ok:
            self.slack.set_view_state(source["id"], values)
        return resp

    # ---- view_submission / view_closed -----------------------------------------------------------------

    def submit_view(
        self,
        user: str,
        view: dict,
        values: dict | None = None,
        *,
        apply: bool = True,
        timestamp: float | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse:
        """A view_submission of `view` with state values {block_id: {action_id: {"type": ..., ...}}}.
        With apply=True the fake then does what Slack does with the ack (close, update, push, errors)."""
        sent = self._clean(view)
        merged = copy.deepcopy(sent.get("state", {}).get("values", {}))
        for bid, acts in (values or {}).items():
            merged.setdefault(bid, {}).update(copy.deepcopy(acts))
        sent["state"] = {"values": merged}
        trigger_id = self.slack.issue_trigger_id(user)
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": sent,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        resp = self._post_payload(payload, timestamp=timestamp, signature=signature, headers=headers)
        resp.trigger_id = trigger_id
        if apply and resp.status == 200:
            self.slack.set_view_state(view["id"], values or {})
            try:
                body = resp.json()
            except ValueError:
                body = None
            self.slack.apply_view_response(user, view["id"], body if isinstance(body, dict) else None)
        return resp

    def close_view(
        self, user: str, view: dict, *, timestamp: float | None = None, signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse | None:
        """The user closes a modal: it leaves the fake's stack; a view_closed is sent if notify_on_close."""
        self.slack.close_view(user, view["id"])
        if not view.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": self._clean(view),
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return self._post_payload(payload, timestamp=timestamp, signature=signature, headers=headers)

    # ---- block_suggestion (external_select options) ----------------------------------------------------

    def options(
        self,
        user: str,
        action_id: str,
        block_id: str | None = None,
        value: str = "",
        source: dict | None = None,
        *,
        channel: str | None = None,
        timestamp: float | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse:
        """A block_suggestion for an external_select; `.json()` is the bot's {"options": [...]}."""
        if source is not None and block_id is None:
            block_id, _ = self.find_element(source, action_id)
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if source is not None:
            kind = self._kind(source)
            if kind == "view":
                payload["container"] = {"type": "view", "view_id": source["id"]}
                payload["view"] = self._clean(source)
            else:
                ch = channel or source.get("channel")
                payload["container"] = {
                    "type": "message",
                    "message_ts": source["ts"],
                    "channel_id": ch,
                    "is_ephemeral": kind == "ephemeral",
                }
                payload["channel"] = {"id": ch, "name": self.slack.channel_name(ch)}
                if kind == "message":
                    payload["message"] = self._clean(source)
        return self._post_payload(payload, timestamp=timestamp, signature=signature, headers=headers)

    # ---- Events API (event_callback) ----------------------------------------------------------------------

    def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: float | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> DriverResponse:
        """An Events API `event_callback` (JSON body, signed like everything else). Pass the same `event_id`
        with `retry_num=1, 2, …` to replay Slack's retries (X-Slack-Retry-Num / X-Slack-Retry-Reason)."""
        now = self.clock() if timestamp is None else timestamp
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": {"event_ts": f"{now:.6f}", **copy.deepcopy(event)},
            "type": "event_callback",
            "event_id": event_id or f"Ev{int(now * 1000):X}{id(event) % 10000:04d}",
            "event_time": int(now),
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id, "user_id": self.slack.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        if self.transport == "socket":
            return self._over_socket("events_api", payload, False, retry_attempt=retry_num or 0,
                                     retry_reason=retry_reason if retry_num else "")
        body = json.dumps(payload)
        h = {"Content-Type": "application/json", "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        h.update(self.sign(body, int(now)))
        if signature is not None:
            h["X-Slack-Signature"] = signature
        if retry_num is not None:
            h.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        h.update(headers or {})
        resp = self.post_raw(body, h)
        resp.payload = payload
        return resp

    def app_home_opened(self, user: str, **kw: Any) -> DriverResponse:
        """The user opened the app's Home tab."""
        return self.event({"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home"}, **kw)
