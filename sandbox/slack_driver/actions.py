"""Slash commands and block_actions clicks, as Slack sends them."""
from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from sandbox.slack_driver.base import VERIFICATION_TOKEN, DriverBase, DriverResponse


class CommandsAndClicks(DriverBase):
    """command() and click()."""

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

