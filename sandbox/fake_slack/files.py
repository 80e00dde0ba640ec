"""Files, Slack's upload flow v2: files.getUploadURLExternal -> POST the bytes to `upload_url` ->
files.completeUploadExternal (shared into a channel or DM, or kept private to the uploader).

Sources: [DOC] docs.slack.dev/reference/methods/files.getUploadURLExternal and .../files.completeUploadExternal
(scope files:write, Tier 4; "Files can be sent as raw bytes or can be multipart form encoded. Slack will return HTTP
200 if the upload is successful; a non-200 response indicates a failure"; `channel_id`: "Channel ID where the file
will be shared. If not specified the file will be private."; `channels`: "Comma-separated string of channel IDs or
user IDs"; `thread_ts` with one channel only; errors `missing_argument` "Typically only occurs when the length
provided is 0", `file_not_found` "Could not find the file from the upload ticket", `missing_scope`), error lists via
[DOC mirror] slack-ruby/slack-api-ref methods/files/*.json.
[OBS] slackapi/bolt-js#2115: `channel_id` takes no user id: `invalid_arguments` "input must match regex pattern:
^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]" (use the DM's D... id). [OBS] python-slack-sdk#1325, #1359,
node-slack-sdk#1701: an unknown or invisible channel answers `channel_not_found` (the docs name `invalid_channel`).
[OBS] getnao/nao#1372: a public channel the bot is not in answers `not_in_channel` even with chat:write.public.
[OBS] python-slack-sdk#1575, bolt-js#2326: the answer's files carry empty `channels`/`ims`/`shares` (sharing
happens afterwards, "processed asynchronously via a job handler" [DOC]); here the share is made at once but the
answer says nothing of it.
[UNVERIFIED] (our choice): bytes whose count differs from `length` are refused by the upload URL (HTTP 400, so the
file never gets its bytes and completing it answers file_not_found); completing a file twice answers
file_not_found; an archived channel answers is_archived.
"""
from __future__ import annotations

import copy
import json
import mimetypes
import re
import secrets
from typing import Any

from sandbox.fake_slack.common import PERMALINK_HOST, SlackError, invalid

_CHANNEL_ID = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")


class FilesMixin:
    """files.getUploadURLExternal / completeUploadExternal, the upload URL, and `files()` for tests."""

    _files: dict[str, dict]
    _messages: dict[str, dict[str, dict]]
    bot_user_id: str
    team_id: str
    url: str | None

    # ---- what tests read back ----------------------------------------------------------------------------

    def files(self, channel: str | None = None) -> list[dict]:
        """Uploaded files, oldest first: {"id", "name", "title", "length", "content" (bytes), "completed",
        "private", "channels", "initial_comment", "thread_ts"}; `channel`: only those shared there."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values() if channel is None or channel in f["channels"]]

    # ---- the upload URL (not a Web API method: no token, no rate limit) ----------------------------------

    def receive_upload(self, ticket: str, data: bytes) -> tuple[int, str]:
        """What POSTing `data` to an upload_url answers: (HTTP status, text body)."""
        with self._lock:
            rec = next((f for f in self._files.values() if f["ticket"] == ticket and not f["completed"]), None)
            if rec is None:
                status, body = 404, "invalid_upload_url"
            elif len(data) != rec["length"]:
                status, body = 400, f"length_mismatch: expected {rec['length']} bytes, got {len(data)}"
            else:
                rec["content"] = data
                status, body = 200, f"OK - {len(data)}"
            self._record("upload_url", {"file_id": rec and rec["id"], "bytes": len(data)},
                         {"ok": status == 200, "error": None if status == 200 else body.split(":")[0]}, status)
            return status, body

    # ---- Web API methods ---------------------------------------------------------------------------------

    def _m_files_getUploadURLExternal(self, args: dict) -> dict:
        self._need_scope("files:write")
        filename, length = args.get("filename"), args.get("length")
        if not filename or length in (None, "", 0, "0"):
            raise SlackError("missing_argument")
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise invalid("invalid_arguments", ["must be an integer [json-pointer:/length]"]) from None
        if length <= 0:
            raise SlackError("missing_argument")
        self._ids += 1
        file_id, ticket = f"F0{self._ids:09X}", secrets.token_urlsafe(16)
        self._files[file_id] = {
            "id": file_id, "name": filename, "title": filename, "length": length, "content": None,
            "ticket": ticket, "completed": False, "private": True, "channels": [], "initial_comment": None,
            "thread_ts": None, "user": self.bot_user_id, "created": int(self.clock()),
        }
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{ticket}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict) -> dict:
        self._need_scope("files:write")
        items = self._upload_items(args.get("files"))
        channels = self._share_targets(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and len(channels) != 1:
            raise invalid("invalid_arguments", ["thread_ts needs exactly one channel [json-pointer:/thread_ts]"])
        if thread_ts and thread_ts not in self._messages[channels[0]]:
            raise SlackError("invalid_thread_ts")  # as chat.postMessage answers [UNVERIFIED for files]
        records = []
        for item in items:
            rec = self._files.get(item["id"])
            if rec is None or rec["content"] is None or rec["completed"]:
                raise SlackError("file_not_found")
            records.append(rec)
        for rec, item in zip(records, items, strict=True):
            rec.update(completed=True, title=item.get("title") or rec["name"], private=not channels,
                       channels=list(channels), initial_comment=args.get("initial_comment"), thread_ts=thread_ts)
        for channel in channels:
            self._share(channel, records, args.get("initial_comment"), thread_ts)
        self._bump()
        return {"ok": True, "files": [self._file_json(rec) for rec in records]}

    # ---- helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def _upload_items(raw: Any) -> list[dict]:
        """`files` as sent: a JSON array (form field) or a list of {"id", "title"?}."""
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            items = None
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("id") for i in items):
            raise invalid("invalid_arguments", ["must be a non-empty array of {id, title} [json-pointer:/files]"])
        return items

    def _share_targets(self, args: dict) -> list[str]:
        """The channel ids to share into, checked like a post (membership, archive), before anything changes."""
        wanted: list[str] = []
        channel_id = args.get("channel_id")
        if channel_id:
            if not _CHANNEL_ID.match(str(channel_id)):
                raise invalid("invalid_arguments",
                              ["input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"])
            wanted.append(channel_id)
        for part in str(args.get("channels") or "").split(","):
            if part.strip():
                wanted.append(part.strip())  # a user id means the bot<->user DM ([DOC] `channels`)
        targets = [self._postable(c, ephemeral=True) for c in wanted]  # no chat:write.public shortcut here
        return list(dict.fromkeys(targets))

    def _share(self, channel: str, records: list[dict], comment: str | None, thread_ts: str | None) -> None:
        """The file message the channel shows (as Slack posts it for a bot's upload)."""
        msg = self._bot_message(comment or "", None)
        msg.update(upload=True, files=[self._file_json(rec) for rec in records])
        self._store_message(channel, msg, thread_ts)

    def _file_json(self, rec: dict) -> dict:
        """A file object as files.completeUploadExternal answers it (no shares yet, see the module docstring)."""
        name = rec["name"]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        private = f"{self.url}/files-pri/{self.team_id}-{rec['id']}/{name}"
        return {
            "id": rec["id"], "created": rec["created"], "timestamp": rec["created"], "name": name,
            "title": rec["title"], "mimetype": mimetypes.guess_type(name)[0] or "", "filetype": ext,
            "pretty_type": ext.upper(), "user": rec["user"], "user_team": self.team_id, "editable": False,
            "size": rec["length"], "mode": "hosted", "is_external": False, "external_type": "", "is_public": False,
            "public_url_shared": False, "display_as_bot": False, "username": "", "url_private": private,
            "url_private_download": private.replace("/files-pri/", "/files-pri/download/", 1),
            "permalink": f"{PERMALINK_HOST}/files/{rec['user']}/{rec['id']}/{name}", "channels": [], "groups": [],
            "ims": [], "shares": {}, "comments_count": 0, "file_access": "visible",
        }
