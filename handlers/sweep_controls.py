"""The sweep's controls: "Edit plan…" (a modal to leave clients out before approval, its clients' options) and
"Undo sweep…" (after it ran). Who may: workflow/policy.py, asked by workflow/sweep_controls.py."""
from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import Click, deps_of
from messages.blocks import sweep_controls as blocks
from workflow.declined import Declined
from workflow.policy import NotAllowed

log = logging.getLogger(__name__)


def on_edit(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """"Edit plan…": asked of the policy first (a refusal is said at once), then the modal (its trigger lasts 3 s)."""
    ack()
    click = Click.of(body, action, respond)
    try:
        batch = deps_of(context).service.sweeps.controls.may_leave_out(batch_id=click.target, user_id=click.user,
                                                                       channel_id=click.channel,
                                                                       message_ts=click.message_ts)
    except NotAllowed as refused:
        click.refuse(client, refused.message)
        return
    try:
        client.views_open(trigger_id=body["trigger_id"],
                          view=blocks.leave_out_modal(batch, click.channel, click.message_ts))
    except SlackApiError as e:
        click.refuse(client, f"Slack didn't open the plan ({e.response.get('error')}); click Edit plan… again.")


def _where(view: dict) -> tuple[int | None, str | None, str | None]:
    """The sweep, channel and message the modal was opened from (the bot wrote them into private_metadata)."""
    batch, channel, ts = ((view.get("private_metadata") or "").split("|") + ["", "", ""])[:3]
    return (int(batch) if batch.isdigit() else None), channel or None, ts or None


def on_client_options(ack, body: dict, payload: dict, context: BoltContext) -> None:
    """The plan's clients matching what was typed (at most 100, Slack's limit)."""
    batch_id, _, _ = _where(body.get("view") or {})
    batch = deps_of(context).service.sweeps.batches.get(batch_id) if batch_id is not None else None
    ack(options=blocks.client_options(batch, payload.get("value") or "") if batch is not None else [])


def on_leave_out(ack, body: dict, view: dict, context: BoltContext) -> None:
    """Leave the chosen clients out (database only, so before the ack: a refusal shows on the field)."""
    batch_id, channel, ts = _where(view)
    chosen = ((view["state"]["values"].get(blocks.LEAVE_OUT) or {}).get(blocks.LEAVE_OUT) or {})
    customers = [o.get("value") for o in chosen.get("selected_options") or [] if o.get("value")]
    try:
        deps_of(context).service.sweeps.controls.leave_out(batch_id=batch_id, user_id=body["user"]["id"],
                                                           channel_id=channel, message_ts=ts, customer_ids=customers)
    except Declined as refused:
        ack(response_action="errors", errors={blocks.LEAVE_OUT: refused.message[:150]})
        return
    ack()


def on_undo(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """"Undo sweep…" (confirmed in Slack's dialog): every item that may be undone gets its undo job."""
    ack()
    click = Click.of(body, action, respond)
    try:
        deps_of(context).service.sweeps.controls.undo(batch_id=click.target, user_id=click.user,
                                                      channel_id=click.channel, message_ts=click.message_ts)
    except NotAllowed as refused:
        click.refuse(client, refused.message)


def register(app: App, deps) -> None:
    app.action("sweep_edit")(on_edit)
    app.options(blocks.LEAVE_OUT)(on_client_options)
    app.view(blocks.LEAVE_OUT)(on_leave_out)
    app.action("sweep_undo")(on_undo)
