"""A new credit's proposal: Apply as proposed, Choose… (the picker, prefilled with its credit) and Not now.

Who may accept or dismiss is decided by workflow/policy.py (through the sweep service, a proposal being a batch);
Choose… is for anyone who may use the bot (the access gate), like /applycredit: it opens the form, and the request
it makes is approved as any request is. A refusal goes to the clicker only, where they clicked.
"""
from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from data.states import BATCH_DECIDING
from handlers import Click, deps_of, update_view
from handlers.commands import unavailable
from integrations.errors import IntegrationError
from messages.blocks import picker as views
from workflow.policy import NotAllowed

INVALID = "That button is not valid; nothing was changed."


def on_accept(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    click = Click.of(body, action, respond)
    # The first round of reads and writes starts at once: off Bolt's listener threads.
    _decide(click, client, context, lambda sweeps: sweeps.approve, later=True)


def on_not_now(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    ack()
    _decide(Click.of(body, action, respond), client, context, lambda sweeps: sweeps.reject)


def _decide(click: Click, client: WebClient, context: BoltContext, which, later: bool = False) -> None:
    deps = deps_of(context)
    if click.target is None:
        click.refuse(client, INVALID)
        return

    def run() -> None:
        try:
            which(deps.service.sweeps)(batch_id=click.target, user_id=click.user, channel_id=click.channel,
                                       message_ts=click.message_ts)
        except NotAllowed as refused:
            click.refuse(client, refused.message)

    if later:
        deps.later(run)
    else:
        run()


def on_choose(ack, body: dict, action: dict, client: WebClient, respond, context: BoltContext) -> None:
    """Open the picker for the proposal's client with its credit preselected (read live, as /applycredit does)."""
    ack()
    deps = deps_of(context)
    click = Click.of(body, action, respond)
    batch = deps.service.sweeps.batches.get(click.target) if click.target is not None else None
    if batch is None or not batch.proposal or batch.channel_id != click.channel:
        click.refuse(client, INVALID)
        return
    if batch.state not in BATCH_DECIDING:
        click.refuse(client, f"Proposal #{batch.id} is {batch.state.label}; nothing was changed.")
        return
    opened = client.views_open(trigger_id=body["trigger_id"], view=views.loading_view(batch.details.get("client", "")))
    draft = deps.drafts.save(user_id=click.user, channel_id=batch.channel_id,
                             data={"query": batch.details.get("client", ""), "proposal": batch.id})
    deps.later(show_prefilled, deps, client, view_id=opened["view"]["id"], draft=draft, batch=batch,
               hash=opened["view"].get("hash"))


def show_prefilled(deps, client, *, view_id: str, draft: str, batch, hash: str | None = None) -> None:  # noqa: A002
    """The picker with the proposal's credit first (the form preselects the first credit and the oldest invoice)."""
    try:
        _, view = deps.proposals.client_view(batch)
    except IntegrationError as e:
        update_view(client, view_id, views.message_view(unavailable(e.service or "an integration", e)), hash)
        return
    except LookupError as e:
        update_view(client, view_id, views.message_view(views.esc(str(e))), hash)
        return
    data = deps.drafts.load(draft) or {}
    deps.drafts.update(draft, {**{k: v for k, v in data.items() if k not in ("user_id", "channel_id")},
                               "client": view.to_json()})
    update_view(client, view_id, deps.screens.picker(view, draft), hash)


def register(app: App, deps) -> None:
    app.action("proposal_accept")(on_accept)
    app.action("proposal_not_now")(on_not_now)
    app.action("proposal_choose")(on_choose)
