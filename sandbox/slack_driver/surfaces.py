"""View submissions and closes, block_suggestion options requests, Events API callbacks."""
from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.slack_driver.base import VERIFICATION_TOKEN, DriverBase, DriverResponse


class ViewsOptionsEvents(DriverBase):
    """submit_view(), close_view(), options(), event(), app_home_opened()."""

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

