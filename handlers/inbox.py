"""The credit inbox's interactions: open it, page it, and start the right flow from a row."""
from __future__ import annotations

import logging
import re
from types import SimpleNamespace

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import deps_of, update_view, view_hash
from handlers.commands import show_picker, unavailable
from integrations.errors import IntegrationError
from messages.blocks import inbox as views
from messages.blocks import picker as picker_views
from workflow.inbox import Inbox
from workflow.validation import InvalidRequest

log = logging.getLogger(__name__)


def open_inbox(deps, client, respond, *, trigger_id: str, user: str, channel: str) -> None:
    """Open the loading modal at once (the trigger expires in 3 s), then read and show the inbox."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=deps.screens.inbox_loading())
    except SlackApiError as e:  # e.g. expired_trigger_id when Slack delivered the command late
        log.warning("views.open failed: %s", e.response.get("error"))
        respond(f"Slack didn't let me open the inbox ({e.response.get('error')}); please run `{deps.command}` again.")
        return
    draft = deps.drafts.save(user_id=user, channel_id=channel, data={"inbox": None})
    # Off Bolt's threads; a person's newer inbox replaces one still waiting (the same reads, one answer).
    deps.queue("inbox", "inbox", show_inbox, deps, client, view_id=opened["view"]["id"], draft=draft,
               hash=opened["view"].get("hash"))


def show_inbox(deps, client, *, view_id: str, draft: str, hash: str | None = None) -> None:  # noqa: A002
    try:
        inbox = deps.directory.inbox()
    except IntegrationError as e:
        update_view(client, view_id, views.message_view(unavailable(deps.directory.source, e)), hash)
        return
    deps.drafts.update(draft, {"inbox": inbox.to_json(), "page": 0, "started": {}})
    update_view(client, view_id, _page(deps, inbox, 0, draft), hash)


def _page(deps, inbox: Inbox, page: int, draft_id: str, **extra) -> dict:
    return deps.screens.inbox(inbox, page, draft_id, tz=deps.tz, today=deps.service.now().date(), **extra)


def _own(deps, draft_id: str, user: str) -> dict | None:
    """The inbox snapshot behind a button, only for the user who opened it."""
    draft = deps.drafts.load(draft_id or "")
    return draft if draft and draft["user_id"] == user and draft.get("inbox") else None


def _expired(deps, client, view_id: str) -> None:
    update_view(client, view_id, views.message_view(f"This inbox is not valid any more; run `{deps.command}` again."))


def on_page(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    draft_id, _, page = action.get("value", "").partition("|")
    draft = _own(deps, draft_id, body["user"]["id"])
    if draft is None:
        return deps.queue("inbox", ("page", body["view"]["id"]), _expired, deps, client, body["view"]["id"])
    page_no = int(page) if page.isdigit() else 0
    deps.drafts.update(draft_id, {**_data(draft), "page": page_no})
    deps.queue("inbox", ("page", body["view"]["id"]), update_view, client, body["view"]["id"], _page(
        deps, Inbox.from_json(draft["inbox"]), page_no, draft_id, started=draft.get("started")))  # the newest page


def on_apply(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    draft_id, _, org_id = action.get("value", "").partition("|")
    draft = _own(deps, draft_id, user)
    row = Inbox.from_json(draft["inbox"]).client(int(org_id)) if draft and org_id.isdigit() else None
    if row is None:
        return _expired(deps, client, body["view"]["id"])
    loading = picker_views.loading_view(row.name)
    # From the inbox modal the picker goes on top (Back returns to the inbox); from anywhere else it opens.
    if body.get("view", {}).get("type") == "modal":
        opened = client.views_push(trigger_id=body["trigger_id"], view=loading)
    else:
        opened = client.views_open(trigger_id=body["trigger_id"], view=loading)
    picker_draft = deps.drafts.save(user_id=user, channel_id=draft["channel_id"],
                                         data={"query": row.name, "from_inbox": draft_id})
    org = SimpleNamespace(id=row.org_id, name=row.name, qbo_customer_id=row.qbo_customer_id)
    deps.queue("lookup", ("picker", opened["view"]["id"]), show_picker, deps, client, view_id=opened["view"]["id"],
               draft=picker_draft, org=org, hash=opened["view"].get("hash"))


def on_resync(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    deps.queue("resync", ("resync", action.get("value")), start_resync, deps, body, action, client)


def register(app: App, deps) -> None:
    app.action(re.compile(r"^inbox_page_(prev|next)$"))(on_page)
    app.action("inbox_apply")(on_apply)
    app.action("inbox_resync")(on_resync)


def start_resync(deps, body: dict, action: dict, client) -> None:
    """Re-read the client, start the resync-only job, and show the outcome in the inbox."""
    user, view_id, shown = body["user"]["id"], body["view"]["id"], view_hash(body)
    draft_id, org_id, key = (action.get("value", "").split("|", 2) + ["", ""])[:3]
    draft = _own(deps, draft_id, user)
    inbox = Inbox.from_json(draft["inbox"]) if draft else None
    row = inbox.client(int(org_id)) if inbox and org_id.isdigit() else None
    if row is None:
        return _expired(deps, client, view_id)
    started = dict(draft.get("started") or {})
    org = SimpleNamespace(id=row.org_id, name=row.name, qbo_customer_id=row.qbo_customer_id)
    try:  # re-read now: the service checks the credit is still used up in QuickBooks
        job = deps.service.request_resync_only(client=deps.directory.load(org), user_id=user,
                                               channel_id=draft["channel_id"], credit=key)
    except InvalidRequest as r:
        notice = f":no_entry: {views.esc(r.message)}"
    except IntegrationError as e:
        notice = unavailable(e.service or "an integration", e)
    except LookupError as e:
        notice = f":warning: {views.esc(str(e))}"
    else:
        started[key] = job.id
        notice = (f":arrows_counterclockwise: Resync #{job.id} for *{views.esc(row.name, 200)}* started in "
                  f"<#{job.channel_id}>; its thread shows each step.")
    deps.drafts.update(draft_id, {**_data(draft), "started": started})
    # After a QuickBooks read: a person who paged (or moved on) meanwhile keeps what they see (the job's thread
    # says the outcome); the hash makes Slack refuse the stale page quietly.
    update_view(client, view_id, _page(deps, inbox, int(draft.get("page") or 0), draft_id, started=started,
                                       notice=notice), shown)


def _data(draft: dict) -> dict:
    return {k: v for k, v in draft.items() if k not in ("user_id", "channel_id")}
