"""`/applycredit connect` (admins): a private, one-time link to connect QuickBooks again (workflow/reconnect.py).

HTTP mode: an ephemeral link to the bot's Reconnect URL; the bot receives Intuit's redirect itself (web/). Socket
Mode: a modal with Intuit's consent link and a field for the address the browser was sent to. The paste is
checked at once (a wrong address can be pasted again); the code exchange runs after the ack, then the modal says
how it went.
"""
from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import deps_of
from messages.blocks import connection as words
from workflow.declined import Declined
from workflow.validation import InvalidRequest

log = logging.getLogger(__name__)


def start_connect(deps, ack, client: WebClient, command: dict, respond) -> None:
    """The subcommand: refuse, give the link (HTTP mode) or open the paste modal (Socket Mode)."""
    if deps.reconnect is None:
        ack(response_type="ephemeral", text="QuickBooks is not configured (QBO_CLIENT_ID); nothing to connect.")
        return
    try:
        invitation = deps.reconnect.invite(command["user_id"])
    except Declined as e:
        ack(response_type="ephemeral", text=e.message)
        return
    if invitation.served:
        ack(response_type="ephemeral", text=words.link_text(invitation.url, invitation.expires_at, deps.tz))
        return
    ack()
    view = words.paste_modal(invitation.url, invitation.redirect_uri, invitation.expires_at, deps.tz)
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as e:  # e.g. expired_trigger_id: Slack delivered the command late
        log.warning("views.open for connect failed: %s", e.response.get("error"))
        respond(f"Slack didn't let me open the form ({e.response.get('error')}); run `{deps.command} connect` again.")


def on_submit(ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    """The pasted address: field error to paste again, a refusal, or 'connecting…' and the exchange after the ack."""
    deps = deps_of(context)
    user = body["user"]["id"]
    pasted = ((view.get("state") or {}).get("values", {}).get(words.URL_BLOCK, {}).get("url") or {}).get("value") or ""
    try:
        claim = deps.reconnect.claim_pasted(pasted, user)
    except InvalidRequest as e:
        ack(response_action="errors", errors={words.URL_BLOCK: e.message[:150]})
        return
    except Declined as e:
        ack(response_action="update", view=words.result_view(words.refused_text(e.message)))
        return
    ack(response_action="update", view=words.result_view(words.connecting_text()))
    deps.later(_complete, deps, client, user, claim)


def _complete(deps, client: WebClient, user: str, claim) -> None:
    """The exchange, then its outcome to the admin in a direct message (the app's Messages tab)."""
    try:
        resumed = deps.reconnect.complete(claim)
        text = words.connected_text(claim.realm_id, resumed)
    except Declined as e:
        text = words.refused_text(e.message)
    client.chat_postMessage(channel=user, text=text)


def register(app: App, deps) -> None:
    app.view(words.CALLBACK_PASTE)(on_submit)
