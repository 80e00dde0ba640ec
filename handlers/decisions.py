"""Buttons on the approval message and in its thread: Approve, Reject, Retry / Sync again, Undo."""
from __future__ import annotations

from slack_bolt import App


def _job_id(action: dict) -> int | None:
    value = action.get("value", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def register(app: App, deps) -> None:
    def refuse(client, body, text: str) -> None:
        client.chat_postEphemeral(channel=body["container"]["channel_id"], user=body["user"]["id"], text=text)

    def decide(decision, ack, body, action, client) -> None:
        ack()
        job_id = _job_id(action)
        container = body.get("container", {})
        if job_id is None:
            refuse(client, body, "That button is not valid; nothing was changed.")
            return
        outcome = decision(job_id=job_id, user_id=body["user"]["id"], channel_id=container.get("channel_id"),
                           message_ts=container.get("message_ts"))
        if not outcome.ok:
            refuse(client, body, outcome.message)

    @app.action("approve")
    def on_approve(ack, body, action, client):
        decide(deps.service.approve, ack, body, action, client)

    @app.action("reject")
    def on_reject(ack, body, action, client):
        decide(deps.service.reject, ack, body, action, client)

    @app.action("job_retry")
    def on_retry(ack, body, action, client):
        ack()
        job_id = _job_id(action)
        job = deps.store.get(job_id) if job_id is not None else None
        if job is None or job.channel_id != body.get("container", {}).get("channel_id"):
            refuse(client, body, "That button is not valid; nothing was changed.")
            return
        outcome = deps.service.retry(job_id=job_id, user_id=body["user"]["id"])
        if not outcome.ok:
            refuse(client, body, outcome.message)

    @app.action("job_undo")
    def on_undo(ack, body, action, client):
        ack()
        job_id = _job_id(action)
        if job_id is None:
            refuse(client, body, "That button is not valid; nothing was changed.")
            return
        outcome = deps.service.undo(job_id=job_id, user_id=body["user"]["id"],
                                    channel_id=body.get("container", {}).get("channel_id"))
        if not outcome.ok:
            refuse(client, body, outcome.message)
