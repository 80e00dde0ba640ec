"""Modals and App Home: trigger_ids (3 s, once), views.open/push/update/publish, and what Slack does with a
view_submission ack. Views ignore channel membership (real-world.md §1: "views.open: No scopes required")."""
from __future__ import annotations

import copy
import json
import random
import secrets
from typing import Any

from sandbox.fake_slack.blockkit import initial_state, validate_view, with_block_ids
from sandbox.fake_slack.common import (
    MAX_VIEW_STACK,
    TRIGGER_LIFETIME,
    SlackError,
    invalid,
)

VIEW_MAX_BYTES = 250 * 1024  # real-world.md §2: a whole view over 250kb -> view_too_large


class ViewsMixin:
    """Triggers, the view store and the views.* methods of FakeSlack."""

    _triggers: dict[str, dict]
    _views: dict[str, dict]  # view_id -> {"view": ..., "user": ..., "open": bool}
    _stacks: dict[str | None, list[str]]  # user -> open modal view ids, root first
    _homes: dict[str, str]  # user -> view_id
    _users: dict[str, dict]
    team_id: str
    app_id: str
    bot_id: str
    _rng: random.Random

    def issue_trigger_id(self, user: str | None = None) -> str:
        """A fresh trigger_id, valid for views.open/views.push for less than 3 s of `clock`, once."""
        with self._lock:
            now = self.clock()
            self._ids += 1
            trigger_id = f"{int(now)}.{self._ids}.{secrets.token_hex(16)}"
            self._triggers[trigger_id] = {"issued_at": now, "used": False, "user": user}
            return trigger_id

    def _trigger_user(self, trigger_id: Any) -> str | None:
        if not trigger_id:
            raise invalid("invalid_arguments", ["missing required field: trigger_id"])
        trig = self._triggers.get(trigger_id)
        if trig is None:
            raise SlackError("invalid_trigger_id")
        if trig["used"]:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trig["issued_at"] >= TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return trig["user"]

    def _new_view(self, view: dict, user: str | None, *, root: str | None = None, previous: str | None = None) -> dict:
        self._ids += 1
        view_id = f"V0{self._ids:08X}"
        stored = self._view_body(view, view_id, root or view_id, previous)
        self._views[view_id] = {"view": stored, "user": user, "open": True}
        return stored

    def _view_body(self, view: dict, view_id: str, root: str, previous: str | None, state: dict | None = None) -> dict:
        """The view as Slack stores and returns it: its blocks with Slack's block ids where the app gave none,
        and a fresh `hash` (each open / push / update / publish gets a new one, so a views.update with an older
        hash is refused with hash_conflict: [DOC] api.slack.com/methods/views.update "hash_conflict - Error
        returned when the provided hash doesn't match the current stored value"). The hash's form copies the
        docs' example "156772938.1827394" [UNVERIFIED beyond that]."""
        blocks = with_block_ids(view.get("blocks") or [], self._rng)
        self._ids += 1
        return {
            "id": view_id, "team_id": self.team_id, "type": view.get("type"),
            "callback_id": view.get("callback_id", ""), "external_id": view.get("external_id", ""),
            "private_metadata": view.get("private_metadata", ""), "title": copy.deepcopy(view.get("title")),
            "close": copy.deepcopy(view.get("close")), "submit": copy.deepcopy(view.get("submit")),
            "blocks": copy.deepcopy(blocks),
            "state": {"values": {**initial_state(blocks), **copy.deepcopy(state or {})}},
            "hash": f"{int(self.clock())}.{self._ids}{secrets.randbelow(10**6):06d}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root, "previous_view_id": previous, "app_id": self.app_id,
            "app_installed_team_id": self.team_id, "bot_id": self.bot_id,
        }

    def _check_view(self, view: Any) -> dict:
        if not isinstance(view, dict):
            raise invalid("invalid_arguments", ["must be an object [json-pointer:/view]"])
        if len(json.dumps(view).encode()) > VIEW_MAX_BYTES:
            raise SlackError("view_too_large")
        errors = validate_view(view)
        if errors:
            raise invalid("invalid_arguments", errors)
        return view

    def _open_view_record(self, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if view_id:
            rec = self._views.get(view_id)
        elif external_id:
            rec = next((r for r in self._views.values() if r["view"]["external_id"] == external_id and r["open"]), None)
        else:
            raise invalid("invalid_arguments", ["view_id or external_id required"])
        if rec is None or not rec["open"]:
            raise SlackError("not_found")
        return rec

    # ---- driver hooks (what Slack does with the bot's answers) -------------------------------------------

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
        """Apply a view_submission ack: none -> close the view; update / push / clear / errors. An invalid
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
                body = e.body()
            self._record("view_submission.ack", {"view_id": view_id, **response}, body, 200)

    def set_view_state(self, view_id: str, values: dict) -> None:
        """Merge what the user typed or chose into the view's state."""
        with self._lock:
            rec = self._views.get(view_id)
            if rec is not None:
                merged = rec["view"]["state"]["values"]
                for block_id, actions in (values or {}).items():
                    merged.setdefault(block_id, {}).update(copy.deepcopy(actions))
                self._bump()

    # ---- Web API methods ---------------------------------------------------------------------------------

    def _m_views_open(self, args: dict) -> dict:
        user = self._trigger_user(args.get("trigger_id"))
        view = self._check_view(args.get("view"))
        if view.get("type") != "modal":
            raise invalid("invalid_arguments", ["must be modal [json-pointer:/view/type]"])
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
            raise invalid("invalid_arguments", ["missing required field: user_id"])
        if user not in self._users:
            raise SlackError("user_not_found")
        view = self._check_view(args.get("view"))
        if view.get("type") != "home":
            raise invalid("invalid_arguments", ["must be home [json-pointer:/view/type]"])
        home_id = self._homes.get(user)
        if home_id:
            current = self._views[home_id]["view"]
            if args.get("hash") and args["hash"] != current["hash"]:
                raise SlackError("hash_conflict")
            self._views[home_id]["view"] = self._view_body(view, home_id, home_id, None)
        else:
            home_id = self._new_view(view, user)["id"]
            self._homes[user] = home_id
        self._bump()
        return {"ok": True, "view": copy.deepcopy(self._views[home_id]["view"])}
