"""The modal's interactions: choosing a client, the invoice menu's options, Resync only, and Submit."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers import deps_of, update_view, view_hash
from handlers.commands import show_picker
from integrations.errors import IntegrationError
from messages.blocks import picker as views
from workflow.lookup import ClientView
from workflow.validation import InvalidRequest

log = logging.getLogger(__name__)


def _own_draft(deps, draft_id: str, user: str) -> dict | None:
    """The draft behind a modal, only for the user who opened it."""
    draft = deps.drafts.load(draft_id or "")
    return draft if draft and draft["user_id"] == user else None


def on_choose_client(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    view, user = body["view"], body["user"]["id"]
    draft = _own_draft(deps, view.get("private_metadata"), user)
    org = (draft or {}).get("orgs", {}).get(action["selected_option"]["value"])
    if org is None:
        deps.queue("reply", ("view", view["id"]), update_view, client, view["id"], views.message_view(
            f"That choice is not valid any more; run `{deps.command}` again."))
        return
    deps.queue("lookup", ("picker", view["id"]), _load_choice, deps, client, view_id=view["id"],
               draft=view["private_metadata"], org=org, hash=view_hash(body))


def _load_choice(deps, client, *, view_id: str, draft: str, org: dict, hash: str | None) -> None:  # noqa: A002
    """'Looking up…', then the picker for the chosen client (background pool: both are Slack/API calls). A view
    changed since the choice (another choice shown first) is left to that one."""
    loading = update_view(client, view_id, views.loading_view(org["name"]), hash)
    if loading is None and hash:
        return
    show_picker(deps, client, view_id=view_id, draft=draft, org=SimpleNamespace(**org), hash=loading)


def on_invoice_options(ack, body: dict, payload: dict, context: BoltContext) -> None:
    draft = _own_draft(deps_of(context), body.get("view", {}).get("private_metadata"), body["user"]["id"])
    if not draft or "client" not in draft:
        ack(options=[])
        return
    ack(options=views.invoice_options(ClientView.from_json(draft["client"]), payload.get("value", "")))


def on_resync_only(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    deps.queue("resync", ("resync", body.get("view", {}).get("id")), start_resync_only, deps, body, action,
               client)  # it reads QuickBooks: off Bolt's threads


def on_submit(ack, body: dict, view: dict, context: BoltContext) -> None:
    deps = deps_of(context)
    user = body["user"]["id"]
    draft = _own_draft(deps, view.get("private_metadata"), user)
    if not draft or "client" not in draft:  # expired (APPROVAL_TTL_HOURS), used already, or not this user's
        ack(response_action="errors", errors={"credit": f"This form expired; run {deps.command} again."})
        return
    values = view["state"]["values"]
    try:
        job = deps.service.request(
            client=ClientView.from_json(draft["client"]), user_id=user, channel_id=draft["channel_id"],
            credit=_selected(values, "credit"), invoice=_selected(values, "invoice"),
            amount=_text(values, "amount"), note=_text(values, "note"))
    except InvalidRequest as r:
        ack(response_action="errors", errors={r.field: r.message[:150]})
        return
    deps.drafts.delete(view["private_metadata"])  # used: its snapshot of the client is not kept
    ack(response_action="update", view=views.submitted_view(job.id, job.channel_id))
    deps.service.runner.publish(job)


def register(app: App, deps) -> None:
    app.action("choose_client")(on_choose_client)
    app.options("invoice")(on_invoice_options)
    app.action("resync_only")(on_resync_only)
    app.view(views.CALLBACK_REQUEST)(on_submit)


def start_resync_only(deps, body: dict, action: dict, client) -> None:
    """Start the resync-only job for the credit behind the button, and say so in the modal."""
    view, user, shown = body["view"], body["user"]["id"], view_hash(body)
    draft_id, _, credit = action.get("value", "").partition("|")
    draft = _own_draft(deps, draft_id, user)
    if not draft or draft_id != view.get("private_metadata") or "client" not in draft:
        update_view(client, view["id"], views.message_view("This form is not valid any more; run "
                                                           f"`{deps.command}` again."))
        return
    try:  # QuickBooks is read first: the person may have moved on meanwhile (the job's thread still says it)
        job = deps.service.request_resync_only(client=ClientView.from_json(draft["client"]), user_id=user,
                                               channel_id=draft["channel_id"], credit=credit)
    except InvalidRequest as r:
        update_view(client, view["id"], views.message_view(views.esc(r.message)), shown)
        return
    except IntegrationError as e:
        update_view(client, view["id"], views.message_view(
            f":warning: QuickBooks could not be read ({views.esc(type(e).__name__)}); nothing was started."), shown)
        return
    deps.drafts.delete(draft_id)  # used
    update_view(client, view["id"], views.message_view(
        f":arrows_counterclockwise: Resync #{job.id} started in <#{job.channel_id}>; its thread shows each step.",
        title="Resync started"), shown)


def _selected(values: dict, block: str) -> str | None:
    chosen = (values.get(block, {}).get(block) or {}).get("selected_option") or {}
    return chosen.get("value")


def _text(values: dict, block: str) -> str | None:
    return (values.get(block, {}).get(block) or {}).get("value")

