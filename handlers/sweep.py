"""/applycredit sweep: plan, post one approval message, and the sweep's Approve / Reject buttons."""
from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from handlers.blocks import sweep as sweep_blocks
from handlers.blocks.common import esc
from integrations.errors import IntegrationError
from workflow.sweep_run import SweepRefused

log = logging.getLogger(__name__)


def start_sweep(deps, ack, client, command: dict) -> None:
    """Acknowledge at once, read both systems, then post the plan in the channel for approval."""
    user, channel = command["user_id"], command["channel_id"]
    ack(response_type="ephemeral", text=":broom: Planning the sweep: reading every client with an unapplied credit…")
    sweeps = deps.service.sweeps

    def tell(text: str) -> None:
        client.chat_postEphemeral(channel=channel, user=user, text=text)

    try:
        batch, plan = sweeps.propose(user_id=user, channel_id=channel)
    except SweepRefused as e:
        tell(esc(str(e)))
        return
    except IntegrationError as e:
        tell(f":warning: I couldn't read from {esc(e.service or 'an integration')} just now "
             f"({esc(type(e).__name__)}). Nothing was changed; try again in a minute.")
        return
    text, blocks = sweep_blocks.batch_message(batch, [])
    try:
        posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as e:
        sweeps.batches.transition(batch.id, from_states=["awaiting_approval"], to_state="cancelled")
        tell(f"Slack refused the sweep's message ({esc(e.response.get('error'))}); nothing was changed.")
        return
    sweeps.batches.set_parent(batch.id, posted["ts"])
    if plan.problems:  # clients that could not be read are not in the plan: say so where the approver looks
        lines = "\n".join(f"• {esc(p, 300)}" for p in plan.problems[:20])
        client.chat_postMessage(channel=channel, thread_ts=posted["ts"],
                                text=f":warning: Not in this sweep (could not be read):\n{lines}")


def _batch_id(action: dict) -> int | None:
    value = action.get("value", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def register(app: App, deps) -> None:
    def decide(name: str, ack, body, action, client) -> None:
        ack()
        container = body.get("container", {})
        batch_id = _batch_id(action)
        decision = getattr(deps.service.sweeps, name)
        refusal = ("That button is not valid; nothing was changed." if batch_id is None else
                   decision(batch_id=batch_id, user_id=body["user"]["id"], channel_id=container.get("channel_id"),
                            message_ts=container.get("message_ts")))
        if refusal:
            client.chat_postEphemeral(channel=container.get("channel_id"), user=body["user"]["id"], text=refusal)

    @app.action("sweep_approve")
    def on_approve(ack, body, action, client):
        decide("approve", ack, body, action, client)

    @app.action("sweep_reject")
    def on_reject(ack, body, action, client):
        decide("reject", ack, body, action, client)
