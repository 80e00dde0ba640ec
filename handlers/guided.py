"""Guided mode's own listeners: the checklist's step buttons, the "Shows something else" question, and a guided
sweep's "All done" / "Something's off". The command, the picker and the inbox are the same listeners in both
modes (they read through the directory and show the directory's screens); the bot registers this module only in
guided mode.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import Click, deps_of
from integrations.errors import IntegrationError
from messages.blocks import guided as guided_blocks
from workflow.guided import ANSWERS
from workflow.policy import NotAllowed

log = logging.getLogger(__name__)


def on_answer(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """A step's button: Resynced, Sync started/finished/failed, All clear, Credit still shows."""
    ack()
    click = Click.of(body, action, respond)
    try:
        deps_of(context).guided.answer(job_id=click.target, action=action["action_id"], user=click.user,
                                       channel=click.channel, thread_ts=click.thread_ts)
    except NotAllowed as refused:
        click.refuse(client, refused.message)


def on_mismatch(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """"Shows something else": ask what ConnectBooster shows (the modal needs the trigger within 3 s)."""
    ack()
    click = Click.of(body, action, respond)
    guided = deps_of(context).guided
    try:
        job = guided.check(job_id=click.target, user=click.user, channel=click.channel, thread_ts=click.thread_ts)
    except NotAllowed as refused:
        click.refuse(client, refused.message)
        return
    try:
        client.views_open(trigger_id=body["trigger_id"], view=guided_blocks.mismatch_modal(job, click.thread_ts))
    except SlackApiError as e:
        click.refuse(client, f"Slack didn't open the question ({e.response.get('error')}); click the button again.")


def on_mismatch_submit(ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    """What ConnectBooster shows: checked (database only) before the ack, recorded and explained after it (the
    explanation reads QuickBooks, which must never hold up Slack's 3 s)."""
    deps = deps_of(context)
    user = body["user"]["id"]
    job_id, _, thread = (view.get("private_metadata") or "").partition("|")
    shown = ((view["state"]["values"].get("shown") or {}).get("shown") or {}).get("value") or ""
    job = deps.store.get(int(job_id)) if job_id.isdigit() else None
    where = {"channel": job.channel_id if job else None, "thread_ts": thread}
    try:
        deps.guided.check(job_id=job.id if job else None, user=user, **where)
    except NotAllowed as refused:
        ack(response_action="errors", errors={"shown": refused.message[:150]})
        return
    ack()

    def record() -> None:
        try:
            deps.guided.mismatch(job_id=job.id, user=user, shown=shown, **where)
        except (NotAllowed, IntegrationError) as e:
            text = e.message if isinstance(e, NotAllowed) else "QuickBooks couldn't be read just now; answer again."
            client.chat_postEphemeral(channel=job.channel_id, user=user, text=text, thread_ts=thread or None)

    deps.queue("decision", None, record)


def on_sweep_answer(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """A guided sweep's checklist (or its undo's): "All done" (confirmed once for the whole batch) or "Something's
    off"."""
    ack()
    click = Click.of(body, action, respond)
    sweep = deps_of(context).guided.sweep
    answer = sweep.confirm if action["action_id"].endswith("_done") else sweep.problem
    try:
        answer(batch_id=click.target, user=click.user, channel=click.channel, thread_ts=click.thread_ts,
               undo=action["action_id"].startswith("sweep_undo_"))
    except NotAllowed as refused:
        click.refuse(client, refused.message)


def register(app: App, deps) -> None:
    answers = "|".join(ANSWERS)
    app.action(re.compile(rf"^({answers})$"))(on_answer)
    app.action("guided_mismatch")(on_mismatch)
    app.action(re.compile(r"^sweep_(guided|undo)_(done|problem)$"))(on_sweep_answer)
    app.view("guided_mismatch")(on_mismatch_submit)
