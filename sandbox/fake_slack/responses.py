"""`response_url`s: 5 uses within 30 minutes, no channel membership needed (real-world.md §1
"Channel-independent paths"), Block Kit violations answered HTTP 400 with a bare `invalid_blocks` text body
(real-world.md §2, slackapi/java-slack-sdk#1017)."""
from __future__ import annotations

import copy
import secrets
from typing import Any

from sandbox.fake_slack.common import (
    RESPONSE_URL_LIFETIME,
    RESPONSE_URL_MAX_USES,
    SlackError,
    truthy,
)


class ResponsesMixin:
    """issue_response_url / respond and what replace_original / delete_original do."""

    _response_urls: dict[str, dict]
    _messages: dict[str, dict[str, dict]]
    url: str | None

    def issue_response_url(self, channel: str | None, user: str | None, original_ts: str | None = None, *,
                           original_kind: str | None = None) -> str:
        """A response_url for (channel, user). `original_ts` names the message or ephemeral that
        `replace_original` / `delete_original` act on; without it the first message posted through the URL
        becomes the original. An unknown channel is created as the user's (see `ensure_user_channel`)."""
        if self.url is None:
            raise RuntimeError("FakeSlack is not started")
        with self._lock:
            if channel and user:
                self.ensure_user_channel(channel, user)
            original = None
            if original_ts:
                kind = original_kind
                if kind is None:
                    kind = "ephemeral" if self._find_ephemeral(original_ts) is not None else "message"
                original = {"kind": kind, "ts": original_ts}
            url_id = secrets.token_hex(8)
            self._response_urls[url_id] = {"id": url_id, "channel": channel, "user": user, "original": original,
                                           "issued_at": self.clock(), "uses": 0}
            return f"{self.url}/response/{url_id}"

    def respond(self, url_id: str, payload: dict, *, count: bool = True) -> tuple[int, dict]:
        """What POSTing `payload` to a response_url does. `count=False` for a command's ack body (Slack
        shows it without spending one of the URL's 5 uses)."""
        with self._lock:
            try:
                body = self._respond(url_id, payload, count)
                status = 200
            except SlackError as e:
                status, body = e.status, e.body()
            self._record("response_url" if count else "ack_response", {"url_id": url_id, **payload}, body, status,
                         channel=(self._response_urls.get(url_id) or {}).get("channel"))
            return status, body

    def _respond(self, url_id: str, payload: dict, count: bool) -> dict:
        rec = self._response_urls.get(url_id)
        if rec is None:
            raise SlackError("invalid_url", status=404)
        if count:
            if self.clock() - rec["issued_at"] > RESPONSE_URL_LIFETIME:
                raise SlackError("expired_url", status=404)
            if rec["uses"] >= RESPONSE_URL_MAX_USES:
                raise SlackError("used_url", status=404)
        if not isinstance(payload, dict):
            raise SlackError("invalid_payload", status=400)
        channel, user, original = rec["channel"], rec["user"], rec["original"]
        if truthy(payload.get("delete_original")):
            if original is None:
                raise SlackError("message_not_found", status=404)
            self._delete_original(channel, original)
            rec["original"] = None
        else:
            self._post_response(rec, channel, user, original, payload)
        if count:
            rec["uses"] += 1
        self._bump()
        return {"ok": True}

    def _post_response(self, rec: dict, channel: str | None, user: str | None, original: dict | None,
                       payload: dict) -> None:
        if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
            raise SlackError("no_text", status=400)
        try:
            text, blocks = self._check_content(payload)
        except SlackError as e:
            e.status = 400
            raise
        if truthy(payload.get("replace_original")) and original is not None:
            self._replace_original(channel, original, text, blocks, payload.get("attachments"))
        elif payload.get("response_type") == "in_channel":
            if channel is None:
                raise SlackError("channel_not_found", status=404)
            msg = self._store_message(channel, self._bot_message(text, blocks, payload.get("attachments")),
                                      payload.get("thread_ts") or None)
            if rec["original"] is None:
                rec["original"] = {"kind": "message", "ts": msg["ts"]}
        else:
            if channel is None or user is None:
                raise SlackError("channel_not_found", status=404)
            eph = self._add_ephemeral(channel, user, text, blocks, payload.get("thread_ts") or None)
            if rec["original"] is None:
                rec["original"] = {"kind": "ephemeral", "ts": eph["ts"]}

    def _delete_original(self, channel: str | None, original: dict) -> None:
        if original["kind"] == "ephemeral":
            eph = self._find_ephemeral(original["ts"])
            if eph is None:
                raise SlackError("message_not_found", status=404)
            self._ephemerals.remove(eph)
            self._bump()
            return
        msg = self._messages.get(channel or "", {}).get(original["ts"])
        if msg is None:
            raise SlackError("message_not_found", status=404)
        self._delete_message(channel, msg)

    def _replace_original(self, channel: str | None, original: dict, text: str | None, blocks: Any,
                          attachments: Any) -> None:
        if original["kind"] == "ephemeral":
            target = self._find_ephemeral(original["ts"])
        else:
            target = self._messages.get(channel or "", {}).get(original["ts"])
        if target is None:
            raise SlackError("message_not_found", status=404)
        target["text"] = text or ""
        for key, value in (("blocks", blocks), ("attachments", attachments)):
            if value:
                target[key] = copy.deepcopy(value)
            else:
                target.pop(key, None)
        self._bump()
