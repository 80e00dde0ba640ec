"""Channel messages and ephemerals: storage with Slack's `ts`, threads, and the chat.* methods the bot calls."""
from __future__ import annotations

import copy
import random
from typing import Any

from sandbox.fake_slack.blockkit import validate_blocks, with_block_ids
from sandbox.fake_slack.common import (
    MAX_POST_TEXT,
    MAX_UPDATE_TEXT,
    PERMALINK_HOST,
    SlackError,
    invalid,
    truthy,
)
from sandbox.fake_slack.limits import MESSAGE_BLOCKS_TEXT, blocks_text_length


class MessagesMixin:
    """chat.postMessage / update / postEphemeral / getPermalink and the message store of FakeSlack."""

    _messages: dict[str, dict[str, dict]]
    _ephemerals: list[dict]
    bot_user_id: str
    bot_id: str
    app_id: str
    team_id: str
    bot_name: str
    _rng: random.Random

    # ---- storage -----------------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        """Unique, increasing `ts` ("<seconds>.<6 digits>"), never going back even if the clock does."""
        sec = max(int(self.clock()), self._seq_sec)
        if sec == self._seq_sec:
            self._seq += 1
            if self._seq > 999_999:
                sec, self._seq = sec + 1, 1
        else:
            self._seq = 1
        self._seq_sec = sec
        return f"{sec:d}.{self._seq:06d}"

    def _store_message(self, channel: str, msg: dict, thread_ts: str | None, broadcast: bool = False) -> dict:
        msgs = self._messages[channel]
        parent = None
        if thread_ts:
            parent = msgs.get(thread_ts)
            if parent is None:
                raise SlackError("invalid_thread_ts")
            if parent.get("thread_ts") not in (None, parent["ts"]):  # a reply: thread on its parent
                parent = msgs[parent["thread_ts"]]
        msg["ts"] = self._next_ts()
        if parent is not None:
            msg["thread_ts"] = parent["ts"]
            msg["parent_user_id"] = parent.get("user")
            if broadcast:
                msg["subtype"] = "thread_broadcast"
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            users = parent.setdefault("reply_users", [])
            if msg.get("user") not in users:
                users.append(msg.get("user"))
            parent["reply_users_count"] = len(users)
            parent["latest_reply"] = msg["ts"]
        msgs[msg["ts"]] = msg
        self._bump()
        return msg

    def _bot_message(self, text: str | None, blocks: Any, attachments: Any = None, metadata: Any = None) -> dict:
        msg: dict[str, Any] = {
            "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
            "team": self.team_id, "text": text or "",
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "team_id": self.team_id},
        }
        for key, value in (("blocks", blocks), ("attachments", attachments), ("metadata", metadata)):
            if value:
                msg[key] = copy.deepcopy(value)
        return msg

    def _find_ephemeral(self, ts: str) -> dict | None:
        return next((e for e in self._ephemerals if e["ts"] == ts), None)

    def _check_content(self, args: dict, *, update: bool = False) -> tuple[str | None, Any]:
        """Validated (text, blocks), each block with its block_id (Slack gives one to a block sent without).
        real-world.md §2: chat.update refuses text over 4,000 (`msg_too_long`); chat.postMessage truncates text
        over 40,000 (the call is recorded with `truncated`); too much text across all blocks: msg_blocks_too_long
        (limits.MESSAGE_BLOCKS_TEXT)."""
        text, blocks = args.get("text"), args.get("blocks")
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                raise invalid("invalid_blocks", errors)
            if blocks_text_length(blocks) > MESSAGE_BLOCKS_TEXT:
                raise SlackError("msg_blocks_too_long")
            blocks = with_block_ids(blocks, self._rng)
        if text is not None and not isinstance(text, str):
            text = str(text)
        if text and update and len(text) > MAX_UPDATE_TEXT:
            raise SlackError("msg_too_long")
        if text and len(text) > MAX_POST_TEXT:
            self._truncated = True
            text = text[:MAX_POST_TEXT]
        return text, blocks

    def _add_ephemeral(self, channel: str, user: str, text: str | None, blocks: Any, thread_ts: str | None) -> dict:
        eph = {"type": "message", "is_ephemeral": True, "user": self.bot_user_id, "bot_id": self.bot_id,
               "recipient": user, "channel": channel, "ts": self._next_ts(), "text": text or ""}
        if blocks:
            eph["blocks"] = copy.deepcopy(blocks)
        if thread_ts:
            eph["thread_ts"] = thread_ts
        self._ephemerals.append(eph)
        self._bump()
        return eph

    def _delete_message(self, channel: str, msg: dict) -> None:
        msgs = self._messages[channel]
        if msg.get("reply_count"):  # a parent with replies leaves a tombstone, as in Slack
            for key in ("blocks", "attachments", "bot_id", "app_id", "bot_profile", "metadata"):
                msg.pop(key, None)
            msg.update({"subtype": "tombstone", "text": "This message was deleted.", "user": "USLACKBOT"})
        else:
            del msgs[msg["ts"]]
            parent = msgs.get(msg.get("thread_ts") or "")
            if parent is not None and parent is not msg and parent.get("reply_count"):
                parent["reply_count"] -= 1
                if parent["reply_count"] == 0 and parent.get("subtype") == "tombstone":
                    del msgs[parent["ts"]]  # a tombstone goes with its last reply
        self._bump()

    def post_user_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict:
        """A message typed by a human (e.g. from the console); the bot can't chat.update it."""
        with self._lock:
            self.ensure_user_channel(channel, user)
            msg = {"type": "message", "user": user, "text": text, "team": self.team_id}
            msg = self._store_message(channel, msg, thread_ts)
            return self._snapshot(channel, msg)

    def show_command_error(self, channel: str, user: str, command: str, error: str) -> dict:
        """What Slack shows the user when the app did not answer a command in 3 s (slack-bolt.md §1.1)."""
        with self._lock:
            eph = self._add_ephemeral(channel, user, f'{command} failed with the error "{error}"', None, None)
            eph.update(user="USLACKBOT", bot_id=None, subtype="slash_command_error")
            return copy.deepcopy(eph)

    @staticmethod
    def _has_content(args: dict) -> bool:
        return bool(args.get("text") or args.get("blocks") or args.get("attachments"))

    # ---- Web API methods ---------------------------------------------------------------------------------

    def _m_chat_postMessage(self, args: dict) -> dict:
        channel = self._postable(args.get("channel"))
        if not self._has_content(args):
            raise SlackError("no_text")
        text, blocks = self._check_content(args)
        msg = self._bot_message(text, blocks, args.get("attachments"), args.get("metadata"))
        msg = self._store_message(channel, msg, args.get("thread_ts") or None,
                                  broadcast=truthy(args.get("reply_broadcast")))
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _m_chat_update(self, args: dict) -> dict:
        channel = self._postable(args.get("channel"), update=True)
        ts = args.get("ts")
        msg = self._messages[channel].get(ts) if ts else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        if args.get("text") is None and args.get("blocks") is None and args.get("attachments") is None:
            raise SlackError("no_text")
        text, blocks = self._check_content(args, update=True)
        if text is not None:
            msg["text"] = text
        if blocks is not None:  # [] removes them; absent keeps them (as Slack documents)
            if blocks:
                msg["blocks"] = copy.deepcopy(blocks)
            else:
                msg.pop("blocks", None)
        for key in ("attachments", "metadata"):
            if args.get(key) is not None:
                msg[key] = copy.deepcopy(args[key])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._bump()
        out = {k: copy.deepcopy(v) for k, v in msg.items() if k != "edited"}
        return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"], "message": out}

    def _m_chat_postEphemeral(self, args: dict) -> dict:
        channel = self._postable(args.get("channel"), ephemeral=True)
        user = args.get("user")
        # real-world.md §1: "the ephemeral message will not be delivered" to a user who is not in the channel
        if not user or not self.is_member(channel, user):
            raise SlackError("user_not_in_channel")
        if not self._has_content(args):
            raise SlackError("no_text")
        text, blocks = self._check_content(args)
        eph = self._add_ephemeral(channel, user, text, blocks, args.get("thread_ts") or None)
        return {"ok": True, "message_ts": eph["ts"]}

    def _m_chat_getPermalink(self, args: dict) -> dict:
        channel = self._resolve(args.get("channel"))["id"]
        ts = args.get("message_ts")
        msg = self._messages[channel].get(ts) if ts else None
        if msg is None:
            raise SlackError("message_not_found")
        link = f"{PERMALINK_HOST}/archives/{channel}/p{ts.replace('.', '')}"
        if msg.get("thread_ts") not in (None, ts):
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}
