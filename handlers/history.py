"""/applycredit history [client | invoice | #job] and /applycredit export YYYY-MM (approvers only: the policy).

The history is an ephemeral answer (only the asker sees it); the export is a CSV uploaded privately to the asker,
into the app's direct messages (files:write). Both read the audit trail off Slack's threads.
"""
from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from data.events import EventKind
from messages import export
from messages.blocks import history as blocks
from messages.history import lines
from workflow.history import BadQuestion, find, month_jobs, month_range, stories, sweep_events
from workflow.policy import Action, NotAllowed

log = logging.getLogger(__name__)


def _allowed(deps, ack, user: str, action: Action) -> bool:
    try:
        deps.service.policy.check(action, user, None)
    except NotAllowed as refused:
        ack(response_type="ephemeral", text=refused.message)
        return False
    return True


def start_history(deps, ack, command: dict, respond, query: str) -> None:
    """Answer at once; read and word the trail in the background, then answer the asker only."""
    if not _allowed(deps, ack, command["user_id"], Action.HISTORY):
        return
    ack(response_type="ephemeral", text=":mag: Reading the history…")
    deps.later(show_history, deps, respond, query=query)


def show_history(deps, respond, *, query: str) -> None:
    store = deps.store
    try:
        jobs = find(store, query)
    except BadQuestion as e:
        respond(text=e.message, response_type="ephemeral", replace_original=False)
        return
    found = lines(stories(store, jobs), [] if query else sweep_events(store)[-20:])
    text, shown = blocks.history_message(found, query, deps.tz)
    respond(text=text, blocks=shown, response_type="ephemeral", replace_original=False)


def start_export(deps, ack, client, command: dict, respond, month: str) -> None:
    """Check the month at once; build the CSV and upload it to the asker in the background."""
    user = command["user_id"]
    if not _allowed(deps, ack, user, Action.EXPORT):
        return
    try:
        month_range(month, deps.tz)
    except BadQuestion as e:
        ack(response_type="ephemeral", text=e.message)
        return
    ack(response_type="ephemeral", text=f":inbox_tray: Preparing the {month} export; it comes to you in a direct "
                                        "message from applycredit (the app's Messages tab).")
    deps.later(send_export, deps, client, respond, user=user, month=month.strip())


def send_export(deps, client, respond, *, user: str, month: str) -> None:
    store, tz = deps.store, deps.tz
    found = stories(store, month_jobs(store, month, tz))
    names = deps.people.names() if deps.people is not None else {}
    name = (lambda u: deps.people.name(u, names)) if deps.people is not None else (lambda u: u or "")
    content = export.month_csv(found, name, tz, deps.service.sweeps.batches if deps.service.sweeps else None)
    comment = blocks.export_comment(month, found, tz)
    try:
        client.files_upload_v2(channels=[user], content=content, filename=f"applycredit-{month}.csv",
                               title=f"applycredit {month}", initial_comment=comment, request_file_info=False)
    except SlackApiError as e:
        error = e.response.get("error")
        log.warning("export upload refused: %s", error)
        fix = (" The app needs the files:write scope: reinstall it from the updated manifest.yml."
               if error == "missing_scope" else "")
        respond(text=f":warning: Slack refused the export ({error}); nothing was sent.{fix}",
                response_type="ephemeral", replace_original=False)
        return
    store.record(None, actor=user, kind=EventKind.EXPORTED, details={"month": month, "rows": len(found)})
