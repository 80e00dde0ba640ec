"""A fake Slack Web API for tests and the sandbox console.

Serves `/api/<method>` like slack.com (JSON bodies, JSON or form-encoded arguments, `Authorization: Bearer
xoxb-...`), the `response_url`s it hands out (`/response/<id>`), and a read-only state route for a browser
console (`/_fake/state`, `/_fake/version`). Everything lives in memory behind one lock.

    slack = FakeSlack(clock=time.time, bot_user_id="UBOT0001", team_id="T0SANDBOX")
    client = WebClient(token="xoxb-test", base_url=slack.start())
    ...
    slack.stop()

What it enforces, because real Slack does and the bot must cope:
- Block Kit: slack_sdk's own models (`Block.parse(...).to_dict()` validates recursively, `View(...)`), plus
  Slack's limits that the models don't check (50 blocks per message, 100 per view, unknown block or element
  types, empty texts, duplicate block_id / action_id, 10 radio/checkbox options, `submit` with `input` blocks).
  Messages answer `invalid_blocks` with `errors`; views answer `invalid_arguments` (what Slack answers for
  views) with the same `errors` and `response_metadata.messages`.
- `trigger_id`: issued by `issue_trigger_id()`, valid for less than 3 s of `clock`, usable once
  (`invalid_trigger_id`, `expired_trigger_id`, `exchanged_trigger_id`).
- `response_url`: 5 uses within 30 minutes of `clock`, then HTTP 404.
- `chat.update`: only existing messages posted by the bot (`message_not_found`, `cant_update_message`).
"""
from __future__ import annotations

import copy
import json
import logging
import math
import secrets
import threading
import time
import warnings
from typing import Any, Callable
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from sandbox.faults import Faults as _BaseFaults
from sandbox.serving import LoopbackServer


log = logging.getLogger(__name__)

TRIGGER_LIFETIME = 3.0  # seconds
RESPONSE_URL_LIFETIME = 30 * 60.0
RESPONSE_URL_MAX_USES = 5
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000  # chat.postMessage `text`: msg_too_long beyond
MAX_VIEW_STACK = 3
PERMALINK_HOST = "https://sandbox.slack.local"


class WaitTimeout(AssertionError):
    """`FakeSlack.wait_for` gave up: the predicate never became truthy."""


class _MethodMatch:
    """Matches one Web API method exactly (`/api/chat.update`), or response URLs (`method="response_url"`)."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __call__(self, http_method: str, path: str) -> bool:
        if self.method == "response_url":
            return path.startswith("/response/")
        return path == f"/api/{self.method}"

    def __repr__(self) -> str:
        return self.method


class SlackFaults(_BaseFaults):
    """`sandbox.faults.Faults` with Slack's vocabulary.

    Kinds: "ratelimited" (HTTP 429, `Retry-After: retry_after`), "500" (HTTP 500), "slow" (sleep `retry_after`
    seconds, then answer normally), any other string: HTTP 200 `{"ok": false, "error": kind}` (e.g.
    "channel_not_found"). `method=None` matches every call, including response URLs; `method="response_url"`
    only those.
    """

    def inject(  # type: ignore[override]
        self,
        kind: str,
        method: str | None = None,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        match: Any = None,
        seconds: float | None = None,
    ) -> None:
        if match is None and method is not None:
            match = _MethodMatch(method)
        if seconds is None:
            seconds = retry_after
        if seconds is None and kind == "ratelimited":
            seconds = 1
        super().inject(kind, times=times, match=match, seconds=seconds)


class SlackError(Exception):
    """A Web API refusal: `{"ok": false, "error": error, **extra}` with an HTTP status."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# --------------------------------------------------------------------------------------------------------
# Block Kit validation
# --------------------------------------------------------------------------------------------------------


def _known_types() -> tuple[set[str], set[str]]:
    from slack_sdk.models.blocks import Block, BlockElement

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    blocks = {t for c in subclasses(Block) if isinstance(t := getattr(c, "type", None), str)}
    elements = {t for c in subclasses(BlockElement) if isinstance(t := getattr(c, "type", None), str)}
    return blocks, elements | {"plain_text", "mrkdwn"}


_BLOCK_TYPES: set[str] | None = None
_ELEMENT_TYPES: set[str] | None = None
_TEN_OPTIONS = {"radio_buttons", "checkboxes"}


def _types() -> tuple[set[str], set[str]]:
    global _BLOCK_TYPES, _ELEMENT_TYPES
    if _BLOCK_TYPES is None:
        _BLOCK_TYPES, _ELEMENT_TYPES = _known_types()
    return _BLOCK_TYPES, _ELEMENT_TYPES  # type: ignore[return-value]


def _block_elements(block: dict, ptr: str) -> list[tuple[dict, str]]:
    """The interactive/context elements of one block, with their JSON pointers."""
    found: list[tuple[dict, str]] = []
    btype = block.get("type")
    if btype in ("actions", "context", "context_actions"):
        for j, el in enumerate(block.get("elements") or []):
            found.append((el, f"{ptr}/elements/{j}"))
    if btype == "section" and block.get("accessory") is not None:
        found.append((block["accessory"], f"{ptr}/accessory"))
    if btype == "input" and block.get("element") is not None:
        found.append((block["element"], f"{ptr}/element"))
    return found


def _empty_texts(node: Any, ptr: str, out: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            text = node["text"]
            if not isinstance(text, str):
                out.append(f"must provide a string [json-pointer:{ptr}/text]")
            elif not text:
                out.append(f"must be more than 0 characters [json-pointer:{ptr}/text]")
        for key, value in node.items():
            _empty_texts(value, f"{ptr}/{key}", out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _empty_texts(value, f"{ptr}/{i}", out)


def validate_blocks(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS, prefix: str = "") -> list[str]:
    """Slack-style error strings ("<why> [json-pointer:/blocks/0/text]") for a `blocks` array; [] when valid."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    block_types, element_types = _types()
    base = f"{prefix}/blocks"
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{base}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:{base}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"{base}/{i}"
        if not isinstance(block, dict):
            errors.append(f"must be an object [json-pointer:{ptr}]")
            continue
        btype = block.get("type")
        if not btype:
            errors.append(f"missing required field: type [json-pointer:{ptr}]")
            continue
        if btype not in block_types:
            errors.append(f"unsupported type: {btype} [json-pointer:{ptr}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{ptr}/block_id]")
            block_ids.add(block_id)
        before = len(errors)
        action_ids: set[str] = set()
        for el, eptr in _block_elements(block, ptr):
            if not isinstance(el, dict) or not el.get("type"):
                errors.append(f"missing required field: type [json-pointer:{eptr}]")
                continue
            if el["type"] not in element_types:
                errors.append(f"unsupported type: {el['type']} [json-pointer:{eptr}/type]")
                continue
            action_id = el.get("action_id")
            if action_id is not None:
                if action_id in action_ids:
                    errors.append(f"duplicate action_id: {action_id} [json-pointer:{eptr}/action_id]")
                action_ids.add(action_id)
            if el["type"] in _TEN_OPTIONS and len(el.get("options") or []) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:{eptr}/options]")
        _empty_texts(block, ptr, errors)
        if len(errors) > before:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = Block.parse(block)
                if parsed is None:
                    raise SlackObjectFormationError(f"unsupported type: {btype}")
                parsed.to_dict()  # validates the block and, through to_dict(), its elements
        except SlackObjectFormationError as e:
            errors.append(f"{e} [json-pointer:{ptr}]")
        except TypeError as e:  # a required argument is missing
            msg = str(e)
            if "missing" in msg and "argument" in msg:
                field = msg.rsplit(":", 1)[-1].strip().strip("'")
                errors.append(f"missing required field: {field} [json-pointer:{ptr}]")
            else:
                errors.append(f"invalid block: {msg} [json-pointer:{ptr}]")
        except Exception as e:  # noqa: BLE001 - anything else the models choke on is refused too
            errors.append(f"invalid block: {e} [json-pointer:{ptr}]")
    return errors


def validate_view(view: Any) -> list[str]:
    """Error strings for a view payload ("[json-pointer:/view/...]"); [] when valid."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.views import View

    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    if vtype == "modal" and not view.get("title"):
        errors.append("missing required field: title [json-pointer:/view]")
    blocks = view.get("blocks")
    if blocks is None:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors.extend(validate_blocks(blocks, limit=MAX_VIEW_BLOCKS, prefix="/view"))
        if (
            vtype == "modal"
            and isinstance(blocks, list)
            and not view.get("submit")
            and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        ):
            i = next(i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("type") == "input")
            errors.append(f"must define `submit` to use an `input` block in modals [json-pointer:/view/blocks/{i}/input]")
    shell = {k: v for k, v in view.items() if k != "blocks"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            View(**shell, blocks=[{"type": "divider"}]).validate_json()
    except SlackObjectFormationError as e:
        errors.append(f"{e} [json-pointer:/view]")
    except TypeError as e:
        errors.append(f"invalid view: {e} [json-pointer:/view]")
    return errors


def _invalid(error: str, errors: list[str]) -> SlackError:
    return SlackError(error, errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


# --------------------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------------------

_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
_TRUE = ("1", "true", "True", "yes")


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v in _TRUE) or (isinstance(v, int) and not isinstance(v, bool) and v != 0)


def initial_state(blocks: list) -> dict:
    """What Slack puts in `view.state.values` before the user touches anything: each input's initial value."""
    values: dict = {}
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        entry: dict = {"type": element.get("type")}
        if "initial_option" in element:
            entry["selected_option"] = copy.deepcopy(element["initial_option"])
        elif element.get("type", "").endswith("_select"):
            entry["selected_option"] = None
        elif "initial_options" in element:
            entry["selected_options"] = copy.deepcopy(element["initial_options"])
        else:
            entry["value"] = element.get("initial_value")
        values[block.get("block_id")] = {element.get("action_id"): entry}
    return values


class FakeSlack:
    """An in-memory Slack workspace answering the Web API over HTTP. Thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        bot_user_id: str = "UBOT0001",
        team_id: str = "T0SANDBOX",
        *,
        bot_id: str = "B0SANDBOX",
        app_id: str = "A0SANDBOX",
        team_domain: str = "sandbox",
        bot_name: str = "applycredit",
    ) -> None:
        self.clock = clock
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_name = bot_name
        self.faults = SlackFaults()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server = LoopbackServer(self._wsgi, name="fake-slack")
        self.url: str | None = None
        self._reset_state()

    # ---- lifecycle ------------------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on host:port (0: a free port) in a daemon thread; return the Web API base URL (…/api/)."""
        if not self._server.running:
            self._server.start(port, host)
            self.url = self._server.origin
        return self.api_url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "FakeSlack":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
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
        self._seq_sec = 0
        self._seq = 0
        self._ids = 0
        self._users: dict[str, dict] = {}
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, dict[str, dict]] = {}  # channel -> ts -> message (top-level and replies)
        self._ephemerals: list[dict] = []
        self._triggers: dict[str, dict] = {}
        self._response_urls: dict[str, dict] = {}
        self._views: dict[str, dict] = {}  # view_id -> {"view": ..., "user": ..., "open": bool}
        self._stacks: dict[str | None, list[str]] = {}  # user -> open modal view ids, root first
        self._homes: dict[str, str] = {}  # user -> view_id
        self.add_user(self.bot_user_id, self.bot_name, is_bot=True)

    # ---- setup helpers --------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        *,
        tz: str = "America/New_York",
        tz_offset: int = -18000,
        is_admin: bool = False,
        is_bot: bool = False,
    ) -> dict:
        real = real_name or name
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real,
            "deleted": False,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": {"real_name": real, "display_name": name, "team": self.team_id},
        }
        with self._lock:
            self._users[user_id] = user
            self._bump()
        return copy.deepcopy(user)

    def add_channel(self, channel_id: str, name: str | None = None, *, is_im: bool = False, user: str | None = None) -> dict:
        with self._lock:
            ch = self._channels.get(channel_id)
            if ch is None:
                ch = {"id": channel_id, "name": name or channel_id.lower(), "is_im": is_im, "user": user}
                self._channels[channel_id] = ch
                self._messages[channel_id] = {}
                self._bump()
            elif name:
                ch["name"] = name
            return dict(ch)

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            ch = self._channels.get(channel_id)
            return ch["name"] if ch else channel_id.lower()

    def user_name(self, user_id: str) -> str:
        with self._lock:
            u = self._users.get(user_id)
            return u["name"] if u else user_id.lower()

    def issue_trigger_id(self, user: str | None = None) -> str:
        """A fresh trigger_id, valid for views.open/views.push for less than 3 s of `clock`, once."""
        with self._lock:
            now = self.clock()
            self._ids += 1
            trigger_id = f"{int(now)}.{self._ids}.{secrets.token_hex(16)}"
            self._triggers[trigger_id] = {"issued_at": now, "used": False, "user": user}
            return trigger_id

    def issue_response_url(
        self, channel: str | None, user: str | None, original_ts: str | None = None, *, original_kind: str | None = None
    ) -> str:
        """A response_url for (channel, user). `original_ts` names the message or ephemeral that
        `replace_original` / `delete_original` act on; without it the first message posted through the URL
        becomes the original."""
        if self.url is None:
            raise RuntimeError("FakeSlack is not started")
        with self._lock:
            if channel:
                self._ensure_channel(channel)
            original = None
            if original_ts:
                kind = original_kind
                if kind is None:
                    kind = "ephemeral" if self._find_ephemeral(original_ts) is not None else "message"
                original = {"kind": kind, "ts": original_ts}
            url_id = f"{secrets.token_hex(8)}"
            self._response_urls[url_id] = {
                "id": url_id,
                "channel": channel,
                "user": user,
                "original": original,
                "issued_at": self.clock(),
                "uses": 0,
            }
            return f"{self.url}/response/{url_id}"

    def post_user_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict:
        """A message typed by a human (e.g. from the console); the bot can't chat.update it."""
        with self._lock:
            self._ensure_channel(channel)
            msg = {"type": "message", "user": user, "text": text, "team": self.team_id}
            msg = self._store_message(channel, msg, thread_ts)
            return self._snapshot(channel, msg)

    # ---- records ----------------------------------------------------------------------------------------

    def messages(self, channel: str) -> list[dict]:
        """Top-level messages in posting order (current content; thread broadcasts included), each with
        `reply_count` and a `channel` key."""
        with self._lock:
            out = []
            for msg in self._messages.get(channel, {}).values():
                if msg.get("thread_ts") in (None, msg["ts"]) or msg.get("subtype") == "thread_broadcast":
                    out.append(self._snapshot(channel, msg))
            return out

    def thread(self, channel: str, ts: str) -> list[dict]:
        """The replies to the message `ts`, in order (the parent excluded)."""
        with self._lock:
            return [
                self._snapshot(channel, m)
                for m in self._messages.get(channel, {}).values()
                if m.get("thread_ts") == ts and m["ts"] != ts
            ]

    def message(self, channel: str, ts: str) -> dict | None:
        with self._lock:
            msg = self._messages.get(channel, {}).get(ts)
            return self._snapshot(channel, msg) if msg else None

    def ephemerals(self, user: str, channel: str | None = None) -> list[dict]:
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if e["recipient"] == user and (channel is None or e["channel"] == channel)
            ]

    def views(self, user: str | None) -> dict:
        """{"modals": [open modal views, root first], "home": the published App Home or None}."""
        with self._lock:
            home_id = self._homes.get(user) if user else None
            return {
                "modals": [copy.deepcopy(self._views[v]["view"]) for v in self._stacks.get(user, [])],
                "home": copy.deepcopy(self._views[home_id]["view"]) if home_id else None,
            }

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            rec = self._views.get(view_id)
            return copy.deepcopy(rec["view"]) if rec else None

    def calls_to(self, method: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(c) for c in self.calls if c["method"] == method]

    def channels(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._channels.values()]

    def wait_for(self, predicate: Callable[["FakeSlack"], Any], timeout: float = 5, interval: float = 0.02) -> Any:
        """Poll `predicate(self)` (after every change, and every `interval` s) until truthy; return its value.
        Raises WaitTimeout (an AssertionError) after `timeout` seconds of wall-clock time (not `clock`).
        The predicate runs without the lock held, so it may do anything, even call the fake over HTTP."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.history_version
            result = predicate(self)
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self._lock:
                    recent = [(c["method"], c["error"]) for c in self.calls[-5:]]
                raise WaitTimeout(f"condition not met within {timeout}s; last calls (method, error): {recent}")
            with self._changed:
                if self.history_version == seen:
                    self._changed.wait(min(interval, remaining))

    def wait_version(self, since: int, timeout: float = 25) -> int:
        """Block until history_version > since (or timeout); return the current version (for long polls)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.history_version <= since:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self.history_version

    def state(self, user: str | None = None) -> dict:
        """Everything a console needs, as JSON-ready data."""
        with self._lock:
            channels = []
            for ch in self._channels.values():
                msgs = self.messages(ch["id"])
                for m in msgs:
                    m["replies"] = self.thread(ch["id"], m["ts"]) if m.get("reply_count") else []
                channels.append({**ch, "messages": msgs})
            return {
                "version": self.history_version,
                "team_id": self.team_id,
                "bot_user_id": self.bot_user_id,
                "users": [copy.deepcopy(u) for u in self._users.values()],
                "channels": channels,
                "ephemerals": self.ephemerals(user) if user else [],
                "views": self.views(user) if user else {"modals": [], "home": None},
                "faults": self.faults.armed,
            }

    # ---- internals: ids, storage ------------------------------------------------------------------------

    def _bump(self) -> None:
        self.history_version += 1
        self._changed.notify_all()

    def _next_ts(self) -> str:
        sec = max(int(self.clock()), self._seq_sec)
        if sec == self._seq_sec:
            self._seq += 1
            if self._seq > 999_999:
                sec, self._seq = sec + 1, 1
        else:
            self._seq = 1
        self._seq_sec = sec
        return f"{sec:d}.{self._seq:06d}"

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}0{self._ids:08X}"

    def _ensure_channel(self, channel: str) -> str:
        """Resolve a channel id (unknown C/G/D ids are created) or a #name; SlackError otherwise."""
        if not channel or not isinstance(channel, str):
            raise SlackError("channel_not_found")
        if channel in self._channels:
            return channel
        if channel[0] in "UW" and channel in self._users:  # a user id: the bot's DM with that user
            dm = "D" + channel[1:]
            self.add_channel(dm, f"dm-{self._users[channel]['name']}", is_im=True, user=channel)
            return dm
        name = channel.lstrip("#")
        for ch in self._channels.values():
            if ch["name"] == name:
                return ch["id"]
        if channel[0] in "CGD" and channel[1:].isalnum() and channel.upper() == channel:
            self.add_channel(channel, is_im=channel[0] == "D")
            return channel
        raise SlackError("channel_not_found")

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

    def _snapshot(self, channel: str, msg: dict) -> dict:
        snap = copy.deepcopy(msg)
        snap["channel"] = channel
        if snap.get("thread_ts") in (None, snap["ts"]):
            snap.setdefault("reply_count", 0)
        return snap

    def _bot_message(self, text: str | None, blocks: Any, attachments: Any = None, metadata: Any = None) -> dict:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "team_id": self.team_id},
            "text": text or "",
        }
        if blocks:
            msg["blocks"] = copy.deepcopy(blocks)
        if attachments:
            msg["attachments"] = copy.deepcopy(attachments)
        if metadata:
            msg["metadata"] = copy.deepcopy(metadata)
        return msg

    def _find_ephemeral(self, ts: str) -> dict | None:
        return next((e for e in self._ephemerals if e["ts"] == ts), None)

    def _check_content(self, args: dict) -> tuple[str | None, Any]:
        text, blocks = args.get("text"), args.get("blocks")
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                raise _invalid("invalid_blocks", errors)
        if text is not None and not isinstance(text, str):
            text = str(text)
        if text and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return text, blocks

    def _add_ephemeral(self, channel: str, user: str, text: str | None, blocks: Any, thread_ts: str | None) -> dict:
        eph = {
            "type": "message",
            "is_ephemeral": True,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "recipient": user,
            "channel": channel,
            "ts": self._next_ts(),
            "text": text or "",
        }
        if blocks:
            eph["blocks"] = copy.deepcopy(blocks)
        if thread_ts:
            eph["thread_ts"] = thread_ts
        self._ephemerals.append(eph)
        self._bump()
        return eph

    def _trigger_user(self, trigger_id: Any) -> str | None:
        if not trigger_id:
            raise _invalid("invalid_arguments", ["missing required field: trigger_id"])
        trig = self._triggers.get(trigger_id)
        if trig is None:
            raise SlackError("invalid_trigger_id")
        if trig["used"]:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trig["issued_at"] >= TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return trig["user"]

    def _new_view(self, view: dict, user: str | None, *, root: str | None = None, previous: str | None = None) -> dict:
        view_id = self._new_id("V")
        stored = self._view_body(view, view_id, root or view_id, previous)
        self._views[view_id] = {"view": stored, "user": user, "open": True}
        return stored

    def _view_body(self, view: dict, view_id: str, root: str, previous: str | None, state: dict | None = None) -> dict:
        body = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "title": copy.deepcopy(view.get("title")),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "blocks": copy.deepcopy(view.get("blocks") or []),
            "state": {"values": {**initial_state(view.get("blocks") or []), **copy.deepcopy(state or {})}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root,
            "previous_view_id": previous,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        return body

    def _check_view(self, view: Any) -> dict:
        if not isinstance(view, dict):
            raise _invalid("invalid_arguments", ["must be an object [json-pointer:/view]"])
        errors = validate_view(view)
        if errors:
            raise _invalid("invalid_arguments", errors)
        return view

    def _open_view_record(self, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        rec = None
        if view_id:
            rec = self._views.get(view_id)
        elif external_id:
            rec = next((r for r in self._views.values() if r["view"]["external_id"] == external_id and r["open"]), None)
        else:
            raise _invalid("invalid_arguments", ["view_id or external_id required"])
        if rec is None or not rec["open"]:
            raise SlackError("not_found")
        return rec

    # ---- Web API methods ----------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict) -> dict:
        return {
            "ok": True,
            "url": f"{PERMALINK_HOST}/",
            "team": "Sandbox",
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict) -> dict:
        channel = self._ensure_channel(args.get("channel"))
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise SlackError("no_text")
        text, blocks = self._check_content(args)
        msg = self._bot_message(text, blocks, args.get("attachments"), args.get("metadata"))
        thread_ts = args.get("thread_ts") or None
        msg = self._store_message(channel, msg, thread_ts, broadcast=_truthy(args.get("reply_broadcast")))
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _m_chat_update(self, args: dict) -> dict:
        channel = self._ensure_channel(args.get("channel"))
        ts = args.get("ts")
        msg = self._messages[channel].get(ts) if ts else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        if args.get("text") is None and args.get("blocks") is None and args.get("attachments") is None:
            raise SlackError("no_text")
        text, blocks = self._check_content(args)
        if text is not None:
            msg["text"] = text
        if blocks is not None:  # [] removes them; absent keeps them (as Slack documents)
            if blocks:
                msg["blocks"] = copy.deepcopy(blocks)
            else:
                msg.pop("blocks", None)
        if args.get("attachments") is not None:
            msg["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata") is not None:
            msg["metadata"] = copy.deepcopy(args["metadata"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._bump()
        out = {k: copy.deepcopy(v) for k, v in msg.items() if k != "edited"}
        return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"], "message": out}

    def _m_chat_delete(self, args: dict) -> dict:
        channel = self._ensure_channel(args.get("channel"))
        ts = args.get("ts")
        msg = self._messages[channel].get(ts) if ts else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise SlackError("message_not_found")
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._delete_message(channel, msg)
        return {"ok": True, "channel": channel, "ts": ts}

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

    def _m_chat_postEphemeral(self, args: dict) -> dict:
        channel = self._ensure_channel(args.get("channel"))
        user = args.get("user")
        if not user:
            raise SlackError("user_not_in_channel")
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise SlackError("no_text")
        text, blocks = self._check_content(args)
        eph = self._add_ephemeral(channel, user, text, blocks, args.get("thread_ts") or None)
        return {"ok": True, "message_ts": eph["ts"]}

    def _m_chat_getPermalink(self, args: dict) -> dict:
        channel = self._ensure_channel(args.get("channel"))
        ts = args.get("message_ts")
        msg = self._messages[channel].get(ts) if ts else None
        if msg is None:
            raise SlackError("message_not_found")
        link = f"{PERMALINK_HOST}/archives/{channel}/p{ts.replace('.', '')}"
        if msg.get("thread_ts") not in (None, ts):
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _m_views_open(self, args: dict) -> dict:
        user = self._trigger_user(args.get("trigger_id"))
        view = self._check_view(args.get("view"))
        if view.get("type") != "modal":
            raise _invalid("invalid_arguments", ["must be modal [json-pointer:/view/type]"])
        self._triggers[args["trigger_id"]]["used"] = True
        for old in self._stacks.get(user, []):  # opening a modal replaces whatever was open
            self._views[old]["open"] = False
        stored = self._new_view(view, user)
        self._stacks[user] = [stored["id"]]
        self._bump()
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _m_views_push(self, args: dict) -> dict:
        user = self._trigger_user(args.get("trigger_id"))
        view = self._check_view(args.get("view"))
        stack = self._stacks.get(user) or []
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        self._triggers[args["trigger_id"]]["used"] = True
        stored = self._new_view(view, user, root=stack[0], previous=stack[-1])
        stack.append(stored["id"])
        self._bump()
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _m_views_update(self, args: dict) -> dict:
        rec = self._open_view_record(args)
        view = self._check_view(args.get("view"))
        current = rec["view"]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        keep = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
        state = {k: v for k, v in current["state"]["values"].items() if k in keep}
        rec["view"] = self._view_body(view, current["id"], current["root_view_id"], current["previous_view_id"], state)
        self._bump()
        return {"ok": True, "view": copy.deepcopy(rec["view"])}

    def _m_views_publish(self, args: dict) -> dict:
        user = args.get("user_id")
        if not user:
            raise _invalid("invalid_arguments", ["missing required field: user_id"])
        if user not in self._users:
            raise SlackError("user_not_found")
        view = self._check_view(args.get("view"))
        if view.get("type") != "home":
            raise _invalid("invalid_arguments", ["must be home [json-pointer:/view/type]"])
        home_id = self._homes.get(user)
        if home_id:
            current = self._views[home_id]["view"]
            if args.get("hash") and args["hash"] != current["hash"]:
                raise SlackError("hash_conflict")
            self._views[home_id]["view"] = self._view_body(view, home_id, home_id, None)
        else:
            stored = self._new_view(view, user)
            self._homes[user] = stored["id"]
            home_id = stored["id"]
        self._bump()
        return {"ok": True, "view": copy.deepcopy(self._views[home_id]["view"])}

    def _m_users_info(self, args: dict) -> dict:
        user = self._users.get(args.get("user") or "")
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _m_conversations_open(self, args: dict) -> dict:
        users = args.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if args.get("channel"):
            channel = self._ensure_channel(args["channel"])
            return {"ok": True, "channel": {"id": channel}}
        if not users:
            raise SlackError("users_list_not_supplied")
        ids = [u.strip() for u in users.split(",") if u.strip()]
        for u in ids:
            if u not in self._users:
                raise SlackError("user_not_found")
        if len(ids) == 1:
            channel_id = "D" + ids[0][1:]
            created = channel_id not in self._channels
            self.add_channel(channel_id, f"dm-{self._users[ids[0]]['name']}", is_im=True, user=ids[0])
            return {"ok": True, "no_op": not created, "already_open": not created, "channel": {"id": channel_id}}
        channel_id = "G" + secrets.token_hex(5).upper()
        self.add_channel(channel_id, "mpdm-" + "--".join(self._users[u]["name"] for u in ids))
        return {"ok": True, "channel": {"id": channel_id}}

    _METHODS = {
        "auth.test": _m_auth_test,
        "chat.postMessage": _m_chat_postMessage,
        "chat.update": _m_chat_update,
        "chat.delete": _m_chat_delete,
        "chat.postEphemeral": _m_chat_postEphemeral,
        "chat.getPermalink": _m_chat_getPermalink,
        "views.open": _m_views_open,
        "views.push": _m_views_push,
        "views.update": _m_views_update,
        "views.publish": _m_views_publish,
        "users.info": _m_users_info,
        "conversations.open": _m_conversations_open,
    }

    def call(self, method: str, args: dict, token: str | None = "xoxb-direct") -> tuple[int, dict]:
        """Run one Web API method in-process (what the HTTP route does after parsing); returns (status, body)."""
        status, body = 200, None
        with self._lock:
            try:
                if not token:
                    raise SlackError("not_authed")
                if not token.startswith("xoxb-"):
                    raise SlackError("invalid_auth")
                handler = self._METHODS.get(method)
                if handler is None:
                    raise SlackError("unknown_method")
                body = handler(self, args)
            except SlackError as e:
                status, body = e.status, {"ok": False, "error": e.error, **e.extra}
            self._record(method, args, body, status)
        return status, body

    def _record(self, method: str, args: dict, body: dict, status: int) -> None:
        self.calls.append(
            {
                "method": method,
                "args": copy.deepcopy(args),
                "ok": bool(body.get("ok")),
                "error": body.get("error"),
                "status": status,
                "at": self.clock(),
            }
        )
        self._bump()

    # ---- response URLs ------------------------------------------------------------------------------------

    def respond(self, url_id: str, payload: dict, *, count: bool = True) -> tuple[int, dict]:
        """What POSTing `payload` to a response_url does. `count=False` for a command's ack body (Slack
        shows it without spending one of the URL's 5 uses)."""
        with self._lock:
            try:
                body = self._respond(url_id, payload, count)
                status = 200
            except SlackError as e:
                status, body = e.status, {"ok": False, "error": e.error, **e.extra}
            self._record("response_url" if count else "ack_response", {"url_id": url_id, **payload}, body, status)
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
        if _truthy(payload.get("delete_original")):
            if original is None:
                raise SlackError("message_not_found", status=404)
            self._delete_original(channel, original)
            rec["original"] = None
        else:
            if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
                raise SlackError("no_text", status=400)
            try:
                text, blocks = self._check_content(payload)
            except SlackError as e:
                e.status = 400
                raise
            if _truthy(payload.get("replace_original")) and original is not None:
                self._replace_original(channel, original, text, blocks, payload.get("attachments"))
            elif payload.get("response_type") == "in_channel":
                if channel is None:
                    raise SlackError("channel_not_found", status=404)
                msg = self._store_message(
                    channel,
                    self._bot_message(text, blocks, payload.get("attachments")),
                    payload.get("thread_ts") or None,
                )
                if rec["original"] is None:
                    rec["original"] = {"kind": "message", "ts": msg["ts"]}
            else:
                if channel is None or user is None:
                    raise SlackError("channel_not_found", status=404)
                eph = self._add_ephemeral(channel, user, text, blocks, payload.get("thread_ts") or None)
                if rec["original"] is None:
                    rec["original"] = {"kind": "ephemeral", "ts": eph["ts"]}
        if count:
            rec["uses"] += 1
        self._bump()
        return {"ok": True}

    def _delete_original(self, channel: str, original: dict) -> None:
        if original["kind"] == "ephemeral":
            eph = self._find_ephemeral(original["ts"])
            if eph is None:
                raise SlackError("message_not_found", status=404)
            self._ephemerals.remove(eph)
            self._bump()
        else:
            msg = self._messages.get(channel, {}).get(original["ts"])
            if msg is None:
                raise SlackError("message_not_found", status=404)
            self._delete_message(channel, msg)

    def _replace_original(self, channel: str, original: dict, text: str | None, blocks: Any, attachments: Any) -> None:
        if original["kind"] == "ephemeral":
            target = self._find_ephemeral(original["ts"])
        else:
            target = self._messages.get(channel, {}).get(original["ts"])
        if target is None:
            raise SlackError("message_not_found", status=404)
        target["text"] = text or ""
        for key, value in (("blocks", blocks), ("attachments", attachments)):
            if value:
                target[key] = copy.deepcopy(value)
            else:
                target.pop(key, None)
        self._bump()

    # ---- driver hooks (what Slack does with the bot's HTTP answers) --------------------------------------

    def close_view(self, user: str | None, view_id: str, *, clear: bool = False) -> None:
        """Close a modal (and those pushed above it); `clear=True` closes the whole stack."""
        with self._lock:
            stack = self._stacks.get(user, [])
            if view_id in stack:
                cut = 0 if clear else stack.index(view_id)
                for v in stack[cut:]:
                    self._views[v]["open"] = False
                del stack[cut:]
                self._bump()

    def apply_view_response(self, user: str | None, view_id: str, response: dict | None) -> None:
        """Apply a view_submission ack: none → close the view; update / push / clear / errors. An invalid
        view in the ack is recorded in `calls` (method "view_submission.ack") and the modal stays as it was,
        as Slack shows the user an error then."""
        response = response or {}
        action = response.get("response_action")
        with self._lock:
            rec = self._views.get(view_id)
            if rec is None:
                return
            try:
                if action == "errors":
                    rec["view"]["validation_errors"] = copy.deepcopy(response.get("errors") or {})
                elif action == "update":
                    view = self._check_view(response.get("view"))
                    cur = rec["view"]
                    rec["view"] = self._view_body(view, cur["id"], cur["root_view_id"], cur["previous_view_id"])
                elif action == "push":
                    view = self._check_view(response.get("view"))
                    stack = self._stacks.setdefault(user, [])
                    if len(stack) >= MAX_VIEW_STACK:
                        raise SlackError("push_limit_reached")
                    stored = self._new_view(view, user, root=stack[0] if stack else None, previous=view_id)
                    stack.append(stored["id"])
                elif action == "clear":
                    self.close_view(user, view_id, clear=True)
                else:
                    self.close_view(user, view_id)
                body = {"ok": True}
            except SlackError as e:
                body = {"ok": False, "error": e.error, **e.extra}
            self._record("view_submission.ack", {"view_id": view_id, **response}, body, 200)

    def set_view_state(self, view_id: str, values: dict) -> None:
        with self._lock:
            rec = self._views.get(view_id)
            if rec is not None:
                merged = rec["view"]["state"]["values"]
                for block_id, actions in (values or {}).items():
                    merged.setdefault(block_id, {}).update(copy.deepcopy(actions))
                self._bump()

    # ---- HTTP -----------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        try:
            response = self._route(request)
        except Exception:  # noqa: BLE001 - a fake must not hang the client; say what broke
            log.exception("fake slack failed on %s", request.path)
            response = Response(json.dumps({"ok": False, "error": "fatal_error"}), 500, mimetype="application/json")
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
        kind = fault.kind
        if kind == "slow":
            time.sleep(fault.seconds or 0)
            return None
        if kind == "ratelimited":
            resp = _json({"ok": False, "error": "ratelimited"}, 429)
            resp.headers["Retry-After"] = str(math.ceil(fault.seconds) if fault.seconds is not None else 1)
        elif kind == "500":
            resp = _json({"ok": False, "error": "fatal_error"}, 500)
        else:
            resp = _json({"ok": False, "error": kind})
        with self._lock:
            body = json.loads(resp.get_data(as_text=True))
            self._record(request.path.rsplit("/", 1)[-1] if request.path.startswith("/api/") else "response_url",
                         {"fault": kind}, body, resp.status_code)
        return resp

    def _api(self, request: Request, method: str) -> Response:
        injected = self._fault(request)
        if injected is not None:
            return injected
        args = _request_args(request)
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
        token = token or args.pop("token", None)
        args.pop("token", None)
        for key in _JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                    with self._lock:
                        body = {"ok": False, "error": error}
                        self._record(method, args, body, 200)
                    return _json(body)
        status, body = self.call(method, args, token)
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
        return _json(body, status)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _request_args(request: Request) -> dict:
    args: dict[str, Any] = {k: v for k, v in request.args.items()}
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            args.update(data)
    else:
        args.update({k: v for k, v in request.form.items()})
    return args
