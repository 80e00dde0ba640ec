"""app_home_opened → views.publish of that user's App Home. Slack retries events: each event_id runs once."""
from __future__ import annotations

import logging

from slack_bolt import App

from data.jobs import JobStore
from data.once import Marks
from handlers.blocks.home import HomeData, home_view

log = logging.getLogger(__name__)
RECENT = 200  # jobs scanned for "my requests" (newest first)


def gather_home(store: JobStore, user: str, approvers: frozenset[str]) -> HomeData:
    recent = store.all(limit=RECENT)
    waiting = [j for j in store.in_states(["awaiting_approval"]) if j.requester_id != user]
    verified = sorted(store.in_states(["verified"]), key=lambda j: j.completed_at or "", reverse=True)
    return HomeData(user=user, approver=user in approvers, waiting=waiting if user in approvers else [],
                    mine=[j for j in recent if j.requester_id == user],
                    attention=store.in_states(["needs_attention"]), recent=verified[:5])


def register(app: App, deps) -> None:
    marks: Marks = deps.marks
    workspace: dict[str, str] = {}

    def base_url(client) -> str:
        """The workspace URL for permalinks, asked once (auth.test needs no scope)."""
        if "url" not in workspace:
            try:
                workspace["url"] = client.auth_test().get("url") or "https://slack.com/"
            except Exception:
                return "https://slack.com/"
        return workspace["url"]

    @app.event("app_home_opened")
    def on_home_opened(event, body, client):
        if event.get("tab", "home") != "home":
            return
        # Checked before any work: a retried delivery (x-slack-retry-num) of the same event_id is dropped.
        if not marks.first_time(body.get("event_id")):
            log.info("app_home_opened %s already handled (Slack retry)", body.get("event_id"))
            return
        user = event["user"]
        data = gather_home(deps.store, user, deps.service.approvers)
        client.views_publish(user_id=user, view=home_view(data, base_url(client)))
