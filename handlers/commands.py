"""/applycredit: acknowledge at once, open a loading modal, then look the client up.

`access_gate` (a Bolt middleware, wired by bot.py) keeps people outside REQUESTER_IDS and channels outside
ALLOWED_CHANNELS away from client data before any listener runs, in API and guided mode alike.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from config import Access
from handlers import WAIT, deps_of, update_view
from integrations.errors import AuthError, IntegrationError
from messages.blocks import picker as views
from workflow.lookup import clean_query

log = logging.getLogger(__name__)
HELP_WORDS = {"help", "?", "-h", "--help"}
INBOX_WORDS = {"", "inbox"}  # no client: the credit inbox
NOT_ALLOWED = ("You're not allowed to use {command}: it shows client balances. Ask a finance approver to add "
               "you to REQUESTER_IDS. Nothing was shown or changed.")
CHANNEL_NOT_ALLOWED = ("{command} isn't used in this channel: requests and their figures are posted where the "
                       "command runs, so only {channels} are allowed. Run it there; nothing was shown or changed.")
# Buttons outside the picker, inbox and App Home: who may press them is decided by workflow/policy.py.
# Forms whose submissions the policy decides (a guided mismatch report; the connect modal, for admins).
POLICY_FORMS = frozenset({"guided_mismatch", "qbo_connect"})
GATED_ACTIONS = frozenset({"choose_client", "resync_only", "inbox_apply", "inbox_resync", "inbox_page_prev",
                           "inbox_page_next", "proposal_choose"})


def access_gate(access: Access) -> Callable[..., BoltResponse | None]:
    """A middleware: refuse the command, App Home and the forms to people (or channels) not allowed."""

    def gate(body: dict, context: BoltContext, client: WebClient, next) -> BoltResponse | None:  # noqa: A002
        refusal = _refusal(access, body, deps_of(context).command)
        if refusal is None:
            next()
            return None
        kind, text = refusal
        deps = deps_of(context)
        if kind == "home":  # the user's App Home says why it is empty
            deps.queue("home", "home", client.views_publish, user_id=body["event"]["user"], view=_home_view(text))
        elif kind == "view_action":
            deps.queue("reply", ("view", body["view"]["id"]), update_view, client, body["view"]["id"],
                       views.message_view(text))
        if kind == "submit":
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {"credit": text[:150]}})
        if kind == "options":
            return BoltResponse(status=200, body={"options": []})
        if kind == "command":
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        return BoltResponse(status=200, body="")

    return gate


def _refusal(access: Access, body: dict, command_name: str) -> tuple[str, str] | None:
    """(what was refused, the words) for a request from someone not allowed; None lets it through."""
    kind = body.get("type")
    if body.get("command") == command_name:
        user, channel = body.get("user_id"), body.get("channel_id")
        if clean_query(body.get("text") or "").lower() in HELP_WORDS | {"connect"}:
            return None  # help shows no client data; connect is for admins (workflow/policy.py decides)
        if not access.user_allowed(user):
            return "command", NOT_ALLOWED.format(command=command_name)
        if not access.channel_allowed(channel):
            listed = ", ".join(f"<#{c}>" for c in sorted(access.channels))
            return "command", CHANNEL_NOT_ALLOWED.format(command=command_name, channels=listed)
        return None
    event = body.get("event") or {}
    if event.get("type") == "app_home_opened":
        return None if access.user_allowed(event.get("user")) else ("home", NOT_ALLOWED.format(command=command_name))
    user = (body.get("user") or {}).get("id")
    if kind not in ("block_actions", "block_suggestion", "view_submission") or access.user_allowed(user):
        return None
    text = NOT_ALLOWED.format(command=command_name)
    view = body.get("view") or {}
    if kind == "view_submission":
        return None if view.get("callback_id") in POLICY_FORMS else ("submit", text)
    if kind == "block_suggestion":
        return "options", text
    actions = {a.get("action_id") for a in body.get("actions") or []}
    if view.get("type") in ("modal", "home") or actions & GATED_ACTIONS:
        return ("view_action" if view.get("id") else "action"), text
    return None  # job and sweep buttons: workflow/policy.py decides


def _home_view(text: str) -> dict:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def on_command(ack, command: dict, client: WebClient, respond, context: BoltContext) -> None:
    """/applycredit [help | sweep | inbox | history … | export YYYY-MM | <client>]."""
    deps = deps_of(context)
    text = clean_query(command.get("text") or "")
    if text.lower() in HELP_WORDS:
        ack(response_type="ephemeral", text=deps.screens.help_text(deps.command))
        return
    word, _, rest = text.partition(" ")
    if word.lower() in ("history", "export"):  # approvers only (handlers/history.py asks the policy)
        from handlers import history

        if word.lower() == "history":
            history.start_history(deps, ack, command, respond, rest.strip())
        else:
            history.start_export(deps, ack, client, command, respond, rest.strip())
        return
    if text.lower() == "connect":  # admins: connect QuickBooks again (handlers/connect.py)
        from handlers.connect import start_connect

        start_connect(deps, ack, client, command, respond)
        return
    if text.lower() == "sweep":  # the bulk sweep (handlers/sweep.py)
        from handlers.sweep import start_sweep

        start_sweep(deps, ack, client, command, respond)
        return
    if text.lower() in INBOX_WORDS:
        ack()
        from handlers.inbox import open_inbox  # imported here: handlers.inbox imports this module

        open_inbox(deps, client, respond, trigger_id=command["trigger_id"], user=command["user_id"],
                   channel=command["channel_id"])
        return
    if not deps.room("lookup"):  # this person's share of lookups is taken: say so, open nothing
        ack(response_type="ephemeral", text=WAIT)
        return
    ack()
    try:
        opened = client.views_open(trigger_id=command["trigger_id"], view=views.loading_view(text))
    except SlackApiError as e:  # e.g. expired_trigger_id when Slack delivered the command late
        log.warning("views.open failed: %s", e.response.get("error"))
        respond(f"Slack didn't let me open the form ({e.response.get('error')}); please run "
                f"`{deps.command} {text}` again.")
        return
    view_id, shown = opened["view"]["id"], opened["view"].get("hash")
    user, channel = command["user_id"], command["channel_id"]
    draft = deps.drafts.save(user_id=user, channel_id=channel, data={"query": text})
    # Off Bolt's threads (keeps acks prompt), in this person's lane; the same query again replaces this one.
    if not deps.queue("lookup", ("lookup", text.lower()), show_lookup, deps, client, view_id=view_id, draft=draft,
                      query=text, hash=shown):
        update_view(client, view_id, views.message_view(WAIT), shown)


def register(app: App, deps) -> None:
    app.command(deps.command)(on_command)


def show_lookup(deps, client, *, view_id: str, draft: str, query: str, hash: str | None = None) -> None:  # noqa: A002
    """Search the directory's clients and show the picker, a choice of clients, or 'no match' (`hash`: the view
    as it was shown before the lookup; moved on meanwhile, nothing is shown: handlers.update_view)."""
    try:
        orgs = deps.directory.find_clients(query)
    except IntegrationError as e:
        update_view(client, view_id, views.message_view(unavailable(deps.directory.source, e)), hash)
        return
    if not orgs:
        update_view(client, view_id, deps.screens.no_match(query), hash)
    elif len(orgs) > 1:
        data = deps.drafts.load(draft) or {}
        deps.drafts.update(draft, {**_draft_data(data), "org_ids": [o.id for o in orgs],
                                        "orgs": {str(o.id): _org_json(o) for o in orgs[:100]}})
        update_view(client, view_id, views.choose_client_view(query, orgs, draft), hash)
    else:
        show_picker(deps, client, view_id=view_id, draft=draft, org=orgs[0], hash=hash)


def show_picker(deps, client, *, view_id: str, draft: str, org, hash: str | None = None) -> None:  # noqa: A002
    try:
        found = deps.directory.load(org)
    except IntegrationError as e:
        update_view(client, view_id, views.message_view(unavailable(e.service or "an integration", e)), hash)
        return
    except LookupError as e:
        update_view(client, view_id, views.message_view(views.esc(str(e))), hash)
        return
    data = deps.drafts.load(draft) or {}
    deps.drafts.update(draft, {**_draft_data(data), "client": found.to_json()})
    update_view(client, view_id, deps.screens.picker(found, draft), hash)


def unavailable(service: str, e: IntegrationError) -> str:
    """What to tell the user when a read failed: waiting helps unless the credentials were refused."""
    service = {"quickbooks": "QuickBooks", "connectbooster": "ConnectBooster"}.get(service, service)
    what = f"({views.esc(type(e).__name__)}{', code ' + views.esc(e.code) if e.code else ''})"
    if isinstance(e, AuthError):
        fix = ("QuickBooks needs to be connected again: an admin runs `/applycredit connect`"
               if e.service == "quickbooks" else "its credentials (CONNECTBOOSTER_API_KEY) need checking by an admin")
        return f":warning: {views.esc(service)} refused the bot's credentials {what}. Nothing was changed; {fix}."
    return f":warning: I couldn't read from {views.esc(service)} just now {what}. Nothing was changed; try again in a minute."


def _draft_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("user_id", "channel_id")}


def _org_json(org) -> dict:
    return {"id": org.id, "name": org.name, "qbo_customer_id": org.qbo_customer_id}
