"""The Slack edge: thin Bolt listeners grouped by surface, as module-level functions. Nothing else lives here:
what the bot says and how it reaches Slack is messages/.

`register(app, deps, modules)` puts `deps` into every request's context (one middleware) and registers each
listener module; a listener gets them back with `deps_of(context)`, so it can be imported and tested on its own.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from data.drafts import Drafts
from data.jobs import JobStore
from edge.fair import PERSON, Busy, FairQueue
from messages.screens import Screens
from workflow.ports import Directory
from workflow.service import CreditService

log = logging.getLogger(__name__)
# Slack's answers when the bot cannot post where it was asked to (it is not in, or cannot see, the channel).
UNREACHABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel"})
WAIT = ("You already have several requests of this kind still running; wait for them to finish, then try again. "
        "Nothing was done.")


@dataclass
class Deps:
    service: CreditService
    store: JobStore
    drafts: Drafts
    directory: Directory  # where clients are looked up (workflow/ports.py), picked once by the bot
    screens: Screens = field(default_factory=Screens)  # the directory's modals (messages/screens.py)
    command: str = "/applycredit"
    marks: Any = None  # data.once.Marks: Slack events already handled (App Home)
    tz: str = "UTC"    # TEAM_TIMEZONE: the fallback text of the times people read
    guided: Any = None  # workflow.guided.GuidedService: the checklist's answers (its listeners: handlers/guided.py)
    people: Any = None  # data.people.People: the names Slack sends, for the history and the export
    proposals: Any = None  # workflow.proposals.ProposalService: new credits' proposals (handlers/proposals.py)
    reconnect: Any = None  # workflow.reconnect.ReconnectService: /applycredit connect (handlers/connect.py)
    connection: Any = None  # () -> workflow.connection.ConnectionStatus: App Home's banner for approvers
    # Slow work after ack() (lookups, planning) runs on this fair queue (edge/fair.py), not on Bolt's listener
    # executor: Bolt runs every listener, ack included, on that executor, so reads waiting on QuickBooks would queue
    # the next acks. Per person and kind, in turn, bounded: one person's flood cannot hold up a colleague's form.
    background: FairQueue = field(default_factory=lambda: FairQueue(workers=8, per_person=2, pending=4,
                                                                     name="lookup"))

    def later(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run fn on the fair queue as the requesting person's work of no particular kind (see `queue`)."""
        if not self.queue("other", None, fn, *args, **kwargs):
            log.warning("background work refused: the person's share of the queue is full")

    def queue(self, kind: str, key: Hashable | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run fn on the fair queue as the requesting person's work of `kind`; a pending task with the same `key`
        is replaced. False, and nothing queued, when the person's share is full (`WAIT`).
        An exception is logged (Bolt's error handler no longer sees it)."""
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:  # never the payload (client names); below DEBUG the formatter drops the message too
                log.exception("background %s work failed", kind)

        try:
            self.background.submit(PERSON.get(), kind, run, key=key)
        except Busy:
            return False
        return True

    def room(self, kind: str) -> bool:
        """True while the requesting person may queue another (different) task of `kind`."""
        return self.background.room(PERSON.get(), kind)


def deps_of(context: BoltContext) -> Deps:
    """The bot's dependencies, put into every request's context by register()."""
    return context["deps"]


@dataclass(frozen=True)
class Click:
    """A button press, parsed once: who, where (channel, message, thread) and the id the button carries."""

    user: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    target: int | None   # the job or sweep id in the button's value; None when the value is not an id
    respond: Callable[..., Any] | None = field(default=None, compare=False)  # Bolt's respond (the response_url)

    @classmethod
    def of(cls, body: dict, action: dict, respond: Callable[..., Any] | None = None) -> Click:
        container = body.get("container") or {}
        message = body.get("message") or {}
        value = str(action.get("value") or "")
        return cls(user=body["user"]["id"], channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
                   message_ts=container.get("message_ts"), thread_ts=container.get("thread_ts") or message.get("thread_ts"),
                   target=int(value) if value.isdigit() and len(value) < 12 else None, respond=respond)

    @property
    def home(self) -> str | None:
        """The message the button belongs to: its thread's parent, or the message itself when not in a thread."""
        return self.thread_ts or self.message_ts

    def refuse(self, client, text: str) -> None:
        """Tell only the clicker, where the click was (in the thread when the button sits in one).

        A channel the bot is not in refuses the ephemeral (not_in_channel, channel_not_found): the click's
        response_url, which needs no membership, carries the answer instead."""
        args = {"thread_ts": self.thread_ts} if self.thread_ts else {}
        try:
            client.chat_postEphemeral(channel=self.channel, user=self.user, text=text, **args)
        except SlackApiError as e:
            if self.respond is None or e.response.get("error") not in UNREACHABLE:
                raise
            self.respond(text=text, response_type="ephemeral", replace_original=False)


def update_view(client, view_id: str, view: dict, hash: str | None = None) -> str | None:  # noqa: A002 (Slack's)
    """views.update; with `hash`, the view as the person last had it (from the action's or submission's body, or
    the answer that last changed it). Slack refuses the update when the view changed since (hash_conflict): the
    person moved on meanwhile, and a slower answer must not overwrite what they see now: nothing to do.
    Returns the view's new hash (None when Slack refused it that way)."""
    try:
        answer = client.views_update(view_id=view_id, view=view, **({"hash": hash} if hash else {}))
    except SlackApiError as e:
        if e.response.get("error") != "hash_conflict":
            raise
        log.info("view %s changed meanwhile: the person moved on, the slower answer is dropped", view_id)
        return None
    return (answer.get("view") or {}).get("hash")


def view_hash(body: dict) -> str | None:
    """The hash of the view an action or a submission came from."""
    return (body.get("view") or {}).get("hash")


def remember_name(people, body: dict) -> None:
    """The name Slack sends with a command (user_name) or a click (user.username), for the history's words."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    try:
        people.remember(body.get("user_id") or user.get("id"), body.get("user_name") or user.get("username")
                        or user.get("name"))
    except Exception as e:  # a name is a nicety: never refuse a request over it
        log.warning("could not store a name: %s", type(e).__name__)


def person_of(body: dict) -> str:
    """The Slack user behind a request (command, click, form, event); "slack" when none is named."""
    user = body.get("user_id") or body.get("user") or (body.get("event") or {}).get("user")
    user = user.get("id") if isinstance(user, dict) else user
    return str(user) if user else "slack"


def post_joining(client, **args: Any) -> dict:
    """chat.postMessage; in a public channel the app is not in, join it (channels:join) and post again."""
    try:
        return client.chat_postMessage(**args)
    except SlackApiError as e:
        if e.response.get("error") != "not_in_channel":
            raise
    client.conversations_join(channel=args["channel"])
    return client.chat_postMessage(**args)


def register(app: App, deps: Deps, modules: tuple = ()) -> None:
    """Every listener module (`modules`: extra ones the bot's mode needs, e.g. handlers.guided)."""
    from handlers import commands, connect, decisions, home, inbox, picker, proposals, sweep

    @app.middleware
    def give_deps(context: BoltContext, body: dict, next) -> None:  # noqa: A002 (Bolt's name for the chain)
        context["deps"] = deps
        # Whose request this is: the fair queue's lane for the work it starts. Bolt submits the listener from
        # this thread once every middleware has returned, and bot.py's listener executor carries this context
        # into the listener's thread; the next request through this thread sets its own person first.
        PERSON.set(person_of(body))
        if deps.people is not None:
            remember_name(deps.people, body)
        next()

    for module in (commands, picker, decisions, sweep, inbox, proposals, connect, *modules):
        module.register(app, deps)
    if deps.marks is not None:
        home.register(app, deps)

    @app.error
    def on_error(error, body, logger):  # one place for listener errors (never the request body: it may hold names)
        log.error("listener error: %s", type(error).__name__, exc_info=(type(error), error, error.__traceback__))
