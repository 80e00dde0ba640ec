"""app_home_opened → views.publish of that user's App Home. Slack retries events: each event_id runs once.

Approvers see the team's work (waiting for them, needing attention, recent completions); everyone else sees
only their own requests.
"""
from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from data.jobs import JobStore
from data.states import DECIDING, JobState
from handlers import deps_of
from messages.blocks.home import HomeData, home_view
from workflow.sweep_guided import overdue

log = logging.getLogger(__name__)
RECENT = 200  # jobs scanned for "my requests" (newest first)
_workspace: dict[str, str] = {}


def gather_home(store: JobStore, user: str, approvers: frozenset[str], checklists: list | None = None,
                connection=None, tz: str = "UTC") -> HomeData:
    """`checklists`: guided sweeps whose ConnectBooster checklist has waited a day (approvers and the proposer);
    `connection`: the QuickBooks connection's status, shown to approvers when it has lapsed or ends soon."""
    recent = store.all(limit=RECENT)
    approver = user in approvers
    attention = store.in_states([JobState.NEEDS_ATTENTION])
    verified = sorted(store.in_states([JobState.VERIFIED]), key=lambda j: j.completed_at or "", reverse=True)
    if not approver:  # other people's work is for approvers only
        attention = [j for j in attention if j.requester_id == user]
        verified = [j for j in verified if j.requester_id == user]
    waiting = [j for j in store.in_states(DECIDING) if user not in (j.requester_id, j.first_approver_id)] \
        if approver else []
    checklists = [b for b in checklists or [] if approver or b.requester_id == user]
    return HomeData(user=user, approver=approver, waiting=waiting, mine=[j for j in recent if j.requester_id == user],
                    attention=attention, recent=verified[:5], checklists=checklists,
                    connection=connection if approver else None, tz=tz)


def base_url(client: WebClient) -> str:
    """The workspace URL for permalinks, asked once (auth.test needs no scope)."""
    if "url" not in _workspace:
        try:
            _workspace["url"] = client.auth_test().get("url") or "https://slack.com/"
        except Exception:
            return "https://slack.com/"
    return _workspace["url"]


def on_home_opened(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    if event.get("tab", "home") != "home":
        return
    # Checked before any work: a retried delivery (x-slack-retry-num) of the same event_id is dropped.
    if not deps.marks.first_time(body.get("event_id")):
        log.info("app_home_opened %s already handled (Slack retry)", body.get("event_id"))
        return
    deps.queue("home", "home", publish_home, deps, client, event["user"])  # reads and Slack calls: off Bolt's threads


def publish_home(deps, client: WebClient, user: str) -> None:
    """Gather the user's App Home and publish it (background pool)."""
    data = gather_home(deps.store, user, deps.service.approvers,
                       overdue(deps.service.sweeps.batches, deps.service.now()),
                       connection=deps.connection() if deps.connection else None, tz=deps.tz)
    client.views_publish(user_id=user, view=home_view(data, base_url(client)))


def register(app: App, deps) -> None:
    app.event("app_home_opened")(on_home_opened)
