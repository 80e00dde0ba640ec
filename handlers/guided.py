"""Guided mode's Slack edge (issue 14): the step buttons, the "Shows something else" question, and the
command's guided variants (picker with the ConnectBooster-only guide, inbox from QuickBooks, the sweep planned
from QuickBooks with one checklist for the whole batch).

Registered before handlers/commands.py and handlers/picker.py: Bolt runs the first listener whose matchers
pass, and the matchers here pass only in guided mode, so API mode never reaches this module's listeners.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import Click, deps_of
from handlers.blocks import guided as guided_blocks
from handlers.blocks import guided_inbox as inbox_views
from handlers.blocks import picker as views
from handlers.commands import HELP_WORDS, INBOX_WORDS, unavailable
from handlers.sweep import start_sweep
from integrations.errors import IntegrationError
from workflow.guided import ANSWERS
from workflow.inbox import Inbox
from workflow.lookup import clean_query
from workflow.policy import Refused

log = logging.getLogger(__name__)


def on_answer(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """A step's button: Resynced, Sync started/finished/failed, All clear, Credit still shows."""
    ack()
    click = Click.of(body, action, respond)
    try:
        deps_of(context).guided.answer(job_id=click.target, action=action["action_id"], user=click.user,
                                       channel=click.channel, thread_ts=click.thread_ts)
    except Refused as refused:
        click.refuse(client, refused.message)


def on_mismatch(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """"Shows something else": ask what ConnectBooster shows (the modal needs the trigger within 3 s)."""
    ack()
    click = Click.of(body, action, respond)
    guided = deps_of(context).guided
    try:
        job = guided.check(job_id=click.target, user=click.user, channel=click.channel, thread_ts=click.thread_ts)
    except Refused as refused:
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
    except Refused as refused:
        ack(response_action="errors", errors={"shown": refused.message[:150]})
        return
    ack()

    def record() -> None:
        try:
            deps.guided.mismatch(job_id=job.id, user=user, shown=shown, **where)
        except (Refused, IntegrationError) as e:
            text = e.message if isinstance(e, Refused) else "QuickBooks couldn't be read just now; answer again."
            client.chat_postEphemeral(channel=job.channel_id, user=user, text=text, thread_ts=thread or None)

    deps.later(record)


def on_sweep_answer(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """A guided sweep's checklist: "All done" (confirmed once for the whole batch) or "Something's off"."""
    ack()
    click = Click.of(body, action, respond)
    sweep = deps_of(context).guided.sweep
    answer = sweep.confirm if action["action_id"] == "sweep_guided_done" else sweep.problem
    try:
        answer(batch_id=click.target, user=click.user, channel=click.channel, thread_ts=click.thread_ts)
    except Refused as refused:
        click.refuse(client, refused.message)


# -- the command in guided mode -------------------------------------------------------------------------
def _guided_mode(context: BoltContext) -> bool:
    return deps_of(context).guided is not None


def _command_matcher(command: dict, context: BoltContext) -> bool:
    text = clean_query(command.get("text") or "").lower()
    return _guided_mode(context) and text not in HELP_WORDS


def on_command(ack, command: dict, client: WebClient, respond, context: BoltContext) -> None:
    """/applycredit in guided mode: the inbox, the picker and the sweep from QuickBooks alone."""
    deps = deps_of(context)
    text = clean_query(command.get("text") or "")
    if text.lower() == "sweep":  # planned from QuickBooks; one ConnectBooster checklist for the whole batch
        start_sweep(deps, ack, client, command, respond)
        return
    ack()
    loading = inbox_views.loading_view() if text.lower() in INBOX_WORDS else views.loading_view(text)
    try:
        opened = client.views_open(trigger_id=command["trigger_id"], view=loading)
    except SlackApiError as e:
        respond(f"Slack didn't let me open the form ({e.response.get('error')}); please run "
                f"`{deps.command} {text}` again.")
        return
    user, channel, view_id = command["user_id"], command["channel_id"], opened["view"]["id"]
    if text.lower() in INBOX_WORDS:
        draft = deps.store.save_draft(user_id=user, channel_id=channel, data={"inbox": None})
        deps.later(show_inbox, deps, client, view_id=view_id, draft=draft)
        return
    draft = deps.store.save_draft(user_id=user, channel_id=channel, data={"query": text})
    deps.later(show_lookup, deps, client, view_id=view_id, draft=draft, query=text)


def show_lookup(deps, client, *, view_id: str, draft: str, query: str) -> None:
    """QuickBooks customers matching the text: the picker (with the guide), a choice of customers, or 'no match'."""
    from handlers.commands import show_lookup as lookup

    lookup(deps, client, view_id=view_id, draft=draft, query=query, source="QuickBooks", picker=show_picker)


def show_picker(deps, client, *, view_id: str, draft: str, org) -> None:
    """The API mode's picker plus, for credits QuickBooks shows used up, the ConnectBooster-only guide."""
    from handlers.commands import _draft_data

    try:
        found = deps.service.load(org)
    except IntegrationError as e:
        client.views_update(view_id=view_id, view=views.message_view(unavailable("QuickBooks", e)))
        return
    data = deps.store.load_draft(draft) or {}
    deps.store.update_draft(draft, {**_draft_data(data), "client": found.to_json()})
    client.views_update(view_id=view_id, view=inbox_views.with_guide(views.picker_view(found, draft), found, draft))


def on_choose_client(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    """A customer chosen among several (guided: the picker with the guide)."""
    from types import SimpleNamespace

    ack()
    deps = deps_of(context)
    view, user = body["view"], body["user"]["id"]
    draft = deps.store.load_draft(view.get("private_metadata") or "")
    org = (draft or {}).get("orgs", {}).get(action["selected_option"]["value"]) if draft and \
        draft["user_id"] == user else None
    if org is None:
        client.views_update(view_id=view["id"], view=views.message_view(f"That choice is not valid any more; run "
                                                                         f"`{deps.command}` again."))
        return
    client.views_update(view_id=view["id"], view=views.loading_view(org["name"]))
    deps.later(show_picker, deps, client, view_id=view["id"], draft=view["private_metadata"],
               org=SimpleNamespace(**org))


def show_inbox(deps, client, *, view_id: str, draft: str) -> None:
    try:
        inbox = deps.service.build_inbox()
    except IntegrationError as e:
        client.views_update(view_id=view_id, view=views.message_view(unavailable("QuickBooks", e)))
        return
    deps.store.update_draft(draft, {"inbox": inbox.to_json(), "page": 0, "started": {}})
    client.views_update(view_id=view_id, view=inbox_views.inbox_view(inbox, 0, draft, today=deps.service.now().date()))


def on_inbox_page(ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    draft_id, _, page = (action.get("value") or "").partition("|")
    draft = deps.store.load_draft(draft_id)
    if not draft or draft["user_id"] != body["user"]["id"] or not draft.get("inbox"):
        client.views_update(view_id=body["view"]["id"], view=views.message_view(
            f"This inbox is not valid any more; run `{deps.command}` again."))
        return
    client.views_update(view_id=body["view"]["id"], view=inbox_views.inbox_view(
        Inbox.from_json(draft["inbox"]), int(page) if page.isdigit() else 0, draft_id,
        today=deps.service.now().date()))


def register(app: App, deps) -> None:
    answers = "|".join(ANSWERS)
    app.action(re.compile(rf"^({answers})$"))(on_answer)
    app.action("guided_mismatch")(on_mismatch)
    app.action(re.compile(r"^sweep_guided_(done|problem)$"))(on_sweep_answer)
    app.view("guided_mismatch")(on_mismatch_submit)
    app.action("guided_inbox_page")(on_inbox_page)
    app.command(deps.command, matchers=[_command_matcher])(on_command)
    app.action("choose_client", matchers=[_guided_mode])(on_choose_client)
