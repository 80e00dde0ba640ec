"""/applycredit sweep: claim the one-sweep slot at once, plan in the background, post the plan for approval."""
from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import UNREACHABLE, Click, deps_of, post_joining, sweep_controls
from integrations.errors import IntegrationError
from messages.blocks import sweep as sweep_blocks
from messages.blocks.common import esc
from workflow.policy import NotAllowed

log = logging.getLogger(__name__)


def start_sweep(deps, ack, client: WebClient, command: dict, respond=None) -> None:
    """Claim the slot (a database row, no reads) and answer at once; the plan is read off Slack's threads."""
    user, channel = command["user_id"], command["channel_id"]
    try:
        batch = deps.service.sweeps.claim(user_id=user, channel_id=channel)
    except NotAllowed as refused:
        ack(response_type="ephemeral", text=refused.message)  # our own words: ids and states only
        return
    ack(response_type="ephemeral", text=":broom: Planning the sweep: reading every client with an unapplied credit…")
    deps.queue("plan", ("plan", batch.id), plan_and_post, deps, client, batch=batch, respond=respond)


def plan_and_post(deps, client: WebClient, *, batch, respond=None) -> None:
    """Read both systems, then post the plan in the channel for approval (background pool)."""
    sweeps = deps.service.sweeps
    user, channel = batch.requester_id, batch.channel_id

    def tell(text: str) -> None:
        if respond is not None:  # the command's response_url: reaches the user even where the app is not a member
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            client.chat_postEphemeral(channel=channel, user=user, text=text)

    try:
        batch, plan = sweeps.plan(batch)
    except NotAllowed as refused:
        tell(esc(refused.message))
        return
    except IntegrationError as e:
        tell(f":warning: I couldn't read from {esc(e.service or 'an integration')} just now "
             f"({esc(type(e).__name__)}). Nothing was changed; try again in a minute.")
        return
    text, blocks = sweep_blocks.batch_message(batch, [], deps.tz)
    try:
        posted = post_joining(client, channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as e:
        error = e.response.get("error")
        sweeps.cancel_unposted(batch, error)
        fix = " Invite the app to this channel with `/invite @applycredit`, then run the sweep again." \
            if error in UNREACHABLE else ""
        tell(f"Slack refused the sweep's message ({esc(error)}); the sweep was cancelled and nothing was changed.{fix}")
        return
    sweeps.batches.set_parent(batch.id, posted["ts"])
    deps.service.runner.notifier.publish_plan(sweeps.batches.get(batch.id))  # a plan too large for one message
    if plan.problems:  # clients that could not be read, credits QuickBooks would refuse: where the approver looks
        lines = "\n".join(f"• {esc(p, 400)}" for p in plan.problems[:20])
        more = f"\n…and {len(plan.problems) - 20} more" if len(plan.problems) > 20 else ""
        client.chat_postMessage(channel=channel, thread_ts=posted["ts"],
                                text=f":warning: Not in this sweep:\n{lines}{more}")


def on_sweep_approve(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    _decide("approve", Click.of(body, action, respond), client, context)


def on_sweep_reject(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    _decide("reject", Click.of(body, action, respond), client, context)


def _decide(name: str, click: Click, client: WebClient, context: BoltContext) -> None:
    if click.target is None:
        click.refuse(client, "That button is not valid; nothing was changed.")
        return
    sweeps = deps_of(context).service.sweeps
    decision = sweeps.approve if name == "approve" else sweeps.reject
    try:
        decision(batch_id=click.target, user_id=click.user, channel_id=click.channel, message_ts=click.message_ts)
    except NotAllowed as refused:
        click.refuse(client, refused.message)


def register(app: App, deps) -> None:
    app.action("sweep_approve")(on_sweep_approve)
    app.action("sweep_reject")(on_sweep_reject)
    sweep_controls.register(app, deps)  # Edit plan…, Undo sweep…
