"""Users, channels and who is in them: what decides whether the bot may post (real-world.md §1).

- `chat.postMessage` / `chat.postEphemeral` need the bot in the channel: public non-member -> `not_in_channel`
  (unless the token has `chat:write.public`, postMessage only), private non-member or unknown ->
  `channel_not_found` (private channels are invisible), archived -> `is_archived` (`chat.update`: `is_inactive`).
- `chat.postEphemeral` to a user who is not in the channel -> `user_not_in_channel`.
- `conversations.join` (scope `channels:join`) joins a public channel; already a member -> ok plus the
  `already_in_channel` warning; private -> `method_not_supported_for_channel_type` (or `channel_not_found`, see
  `private_join_error`); archived -> `is_archived`. Only an `/invite` adds the bot to a private channel.
- `response_url` and `views.*` ignore membership (they never ask).
"""
from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable
from typing import Any

from sandbox.fake_slack.common import SlackError


class MembershipMixin:
    """Users, channels, membership checks and the conversations.* methods of FakeSlack."""

    _users: dict[str, dict]
    _channels: dict[str, dict]
    _messages: dict[str, dict[str, dict]]
    bot_user_id: str
    team_id: str
    scopes: set[str]
    # real-world.md §1: most reports answer a private join with method_not_supported_for_channel_type, some
    # peers see channel_not_found; tests may switch.
    private_join_error = "method_not_supported_for_channel_type"

    # ---- setup helpers -----------------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str | None = None, *, tz: str = "America/New_York",
                 tz_offset: int = -18000, is_admin: bool = False, is_bot: bool = False) -> dict:
        """A workspace member (users are joined to channels by add_channel, see there)."""
        real = real_name or name
        user = {
            "id": user_id, "team_id": self.team_id, "name": name, "real_name": real, "deleted": False, "tz": tz,
            "tz_label": tz, "tz_offset": tz_offset, "is_admin": is_admin, "is_owner": False, "is_bot": is_bot,
            "is_app_user": False, "profile": {"real_name": real, "display_name": name, "team": self.team_id},
        }
        with self._lock:
            self._users[user_id] = user
            self._bump()
        return copy.deepcopy(user)

    def add_channel(self, channel_id: str, name: str | None = None, private: bool = False, bot_member: bool = True,
                    members: Iterable[str] | None = None, *, is_im: bool = False, user: str | None = None) -> dict:
        """Create a channel, or reconfigure one (its messages stay). `members` None: every human user known now.
        Members only ever get added here; `set_bot_member` removes the bot."""
        with self._lock:
            ch = self._channels.get(channel_id)
            if ch is None:
                ch = {"id": channel_id, "name": name or channel_id.lower(), "is_im": is_im, "is_private": private,
                      "is_archived": False, "user": user, "members": [], "created": int(self.clock())}
                self._channels[channel_id] = ch
                self._messages[channel_id] = {}
            else:
                ch["name"] = name or ch["name"]
                ch["is_private"] = private
            humans = [u for u, rec in self._users.items() if not rec["is_bot"]] if members is None else list(members)
            for m in humans + ([self.bot_user_id] if bot_member else []):
                if m not in ch["members"]:
                    ch["members"].append(m)
            self._bump()
            return copy.deepcopy(ch)

    def archive(self, channel: str) -> None:
        """Archive a channel: posts answer is_archived, chat.update is_inactive."""
        with self._lock:
            self._channel(channel)["is_archived"] = True
            self._bump()

    def set_bot_member(self, channel: str, member: bool) -> None:
        """Invite the bot (`/invite @applycredit`) or remove it."""
        with self._lock:
            ch = self._channel(channel)
            if member and self.bot_user_id not in ch["members"]:
                ch["members"].append(self.bot_user_id)
            elif not member and self.bot_user_id in ch["members"]:
                ch["members"].remove(self.bot_user_id)
            self._bump()

    def ensure_user_channel(self, channel: str, user: str) -> None:
        """A command or click from `channel`: unknown ids become a public channel with that user in it and the bot
        not (slash commands reach the app from channels it is not in, real-world.md §1); D... ids a human DM."""
        with self._lock:
            if channel not in self._channels:
                self.add_channel(channel, bot_member=False, members=[user], is_im=channel.startswith("D"))

    def is_member(self, channel: str, user: str) -> bool:
        with self._lock:
            ch = self._channels.get(channel)
            return bool(ch and user in ch["members"])

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            ch = self._channels.get(channel_id)
            return ch["name"] if ch else channel_id.lower()

    def user_name(self, user_id: str) -> str:
        with self._lock:
            u = self._users.get(user_id)
            return u["name"] if u else user_id.lower()

    # ---- checks ------------------------------------------------------------------------------------------

    def _channel(self, channel: str) -> dict:
        ch = self._channels.get(channel)
        if ch is None:
            raise KeyError(f"no channel {channel!r}: add_channel() it first")
        return ch

    def _visible(self, ch: dict) -> bool:
        return not ch["is_private"] and not ch["is_im"] or self.bot_user_id in ch["members"]

    def _resolve(self, channel: Any) -> dict:
        """A channel id, #name or user id (the bot's DM with that user) as the bot's token sees it."""
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        ch = self._channels.get(channel)
        if ch is None and channel[0] in "UW" and channel in self._users:
            # chat:write alone opens the bot<->user DM for channel=U... (real-world.md §1 "DMs")
            ch = self._open_im(channel)
        if ch is None:
            name = channel.lstrip("#")
            ch = next((c for c in self._channels.values() if c["name"] == name and not c["is_im"]), None)
        if ch is None or not self._visible(ch):
            raise SlackError("channel_not_found")
        return ch

    def _open_im(self, user: str) -> dict:
        dm = "D" + user[1:]
        if dm not in self._channels:
            self.add_channel(dm, f"dm-{self._users[user]['name']}", private=True, members=[user], is_im=True,
                             user=user)
        else:
            self.set_bot_member(dm, True)
        return self._channels[dm]

    def _postable(self, channel: Any, *, update: bool = False, ephemeral: bool = False) -> str:
        """The channel id the bot may write to, or the refusal Slack gives."""
        ch = self._resolve(channel)
        if ch["is_archived"]:
            raise SlackError("is_inactive" if update else "is_archived")
        if self.bot_user_id not in ch["members"]:
            if ch["is_private"] or ch["is_im"]:
                raise SlackError("channel_not_found")
            if ephemeral or update or "chat:write.public" not in self.scopes:
                raise SlackError("not_in_channel")
        return ch["id"]

    def _need_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))

    def _channel_json(self, ch: dict) -> dict:
        """A conversation object as the bot's token sees it ([DOC] docs.slack.dev/reference/objects/
        conversation-object: the conversations.info example)."""
        out = {"id": ch["id"], "name": ch["name"], "is_channel": not ch["is_im"] and not ch["is_private"],
               "is_group": ch["is_private"] and not ch["is_im"], "is_im": ch["is_im"],
               "is_mpim": ch["name"].startswith("mpdm-"), "is_private": ch["is_private"],
               "created": ch.get("created", 0), "is_archived": ch["is_archived"], "is_general": False,
               "name_normalized": ch["name"], "is_member": self.bot_user_id in ch["members"],
               "num_members": len(ch["members"])}
        if ch["is_im"]:
            out["user"] = ch.get("user")
        return out

    # ---- Web API methods ---------------------------------------------------------------------------------

    def _m_conversations_join(self, args: dict) -> dict:
        self._need_scope("channels:join")
        ch = self._channels.get(args.get("channel") or "")
        if ch is None:
            raise SlackError("channel_not_found")
        if ch["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        if ch["is_private"]:
            raise SlackError(self.private_join_error if self.bot_user_id not in ch["members"]
                             else "method_not_supported_for_channel_type")
        if ch["is_archived"]:
            raise SlackError("is_archived")
        if self.bot_user_id in ch["members"]:
            return {"ok": True, "channel": self._channel_json(ch), "warning": "already_in_channel",
                    "response_metadata": {"warnings": ["already_in_channel"]}}
        ch["members"].append(self.bot_user_id)
        self._bump()
        return {"ok": True, "channel": self._channel_json(ch)}

    def _m_conversations_info(self, args: dict) -> dict:
        """conversations.info ([DOC] docs.slack.dev/reference/methods/conversations.info: scopes channels:read,
        groups:read, im:read, mpim:read by conversation type; Tier 3). A private channel or DM the bot is not in is
        invisible to it: channel_not_found (as for chat.postMessage, real-world.md §1). Which scope `needed` names
        when one is missing (that of the conversation's type), and that visibility is checked first: [UNVERIFIED]."""
        ch = self._channels.get(args.get("channel") or "")
        if ch is None or not self._visible(ch):
            raise SlackError("channel_not_found")
        kind = "im" if ch["is_im"] else "mpim" if ch["name"].startswith("mpdm-") else \
            "groups" if ch["is_private"] else "channels"
        self._need_scope(f"{kind}:read")
        return {"ok": True, "channel": self._channel_json(ch)}

    def _m_conversations_open(self, args: dict) -> dict:
        self._need_scope("im:write")  # bot tokens need im:write (real-world.md §1 "DMs")
        users = args.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if not users:
            raise SlackError("users_list_not_supplied")
        ids = [u.strip() for u in users.split(",") if u.strip()]
        if len(ids) > 8:
            raise SlackError("too_many_users")
        for u in ids:
            if u not in self._users:
                raise SlackError("user_not_found")
        if len(ids) == 1:
            created = "D" + ids[0][1:] not in self._channels
            ch = self._open_im(ids[0])
            return {"ok": True, "no_op": not created, "already_open": not created, "channel": {"id": ch["id"]}}
        channel_id = "G" + secrets.token_hex(5).upper()
        self.add_channel(channel_id, "mpdm-" + "--".join(self._users[u]["name"] for u in ids), private=True,
                         members=ids)
        return {"ok": True, "channel": {"id": channel_id}}
