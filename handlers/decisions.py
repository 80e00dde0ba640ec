"""Buttons on the approval message and in its thread: Approve, Reject, Retry / Sync again, Undo.

Who may press which is decided by workflow/policy.py; a refusal goes to the clicker only, where they clicked.
"""
from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers import Click, deps_of
from workflow.policy import NotAllowed

INVALID = "That button is not valid; nothing was changed."


def on_approve(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    click = Click.of(body, action, respond)
    _decide(click, client, lambda s: s.approve(job_id=click.target, user_id=click.user, channel_id=click.channel,
                                               message_ts=click.message_ts), context)


def on_reject(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    click = Click.of(body, action, respond)
    _decide(click, client, lambda s: s.reject(job_id=click.target, user_id=click.user, channel_id=click.channel,
                                              message_ts=click.message_ts), context)


def on_retry(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    click = Click.of(body, action, respond)
    _decide(click, client, lambda s: s.retry(job_id=click.target, user_id=click.user, channel_id=click.channel,
                                             message_ts=click.home), context, later=True)


def on_undo(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    click = Click.of(body, action, respond)
    _decide(click, client, lambda s: s.undo(job_id=click.target, user_id=click.user, channel_id=click.channel,
                                            message_ts=click.home), context)


def _decide(click: Click, client: WebClient, decision, context: BoltContext, later: bool = False) -> None:
    """Run the decision; a refusal is told to the clicker. `later`: it may read QuickBooks (background pool)."""
    deps = deps_of(context)
    if click.target is None:
        click.refuse(client, INVALID)
        return

    def run() -> None:
        try:
            decision(deps.service)
        except NotAllowed as refused:
            click.refuse(client, refused.message)

    if later:  # off Bolt's threads, in the clicker's lane; the same click on the same job again replaces it
        deps.queue("decision", (click.target, click.home), run)
    else:
        run()


def register(app: App, deps) -> None:
    app.action("approve")(on_approve)
    app.action("reject")(on_reject)
    app.action("job_retry")(on_retry)
    app.action("job_undo")(on_undo)
