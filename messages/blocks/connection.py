"""What the bot says about the QuickBooks connection: the expiry warning, the lapse, the reconnect, the App Home
banner, a waiting job's thread replies, and the `/applycredit connect` link and paste modal."""
from __future__ import annotations

from data.events import EventKind
from data.jobs import Event, Job
from messages.blocks.common import esc, message_text, plain, section
from messages.blocks.times import when
from workflow.connection import ConnectionStatus

CONNECT = "`/applycredit connect`"
CALLBACK_PASTE = "qbo_connect"     # the paste modal's view_submission
CALLBACK_RESULT = "qbo_connect_result"
URL_BLOCK = "redirect_url"

Message = tuple[str, list[dict]]


def _why(status: ConnectionStatus) -> str:
    if status.hard:
        return "Intuit ends every QuickBooks connection five years after it was authorized"
    return "Intuit ends a connection that has not been refreshed for 100 days (the bot refreshes it by itself; " \
           "if this shows, its refreshes are failing: run `python bot.py doctor`)"


def _days(days: float) -> str:
    return "1 day" if days == 1 else f"{days:g} days"


def expiry_warning(status: ConnectionStatus, days: float, tz: str) -> Message:
    """NOTIFY_CHANNEL, once per threshold: when the connection ends and how to renew it."""
    text = (f":hourglass: The QuickBooks connection (company {esc(status.realm_id)}) ends {when(status.expires_at, tz)}, "
            f"within {_days(days)}: {_why(status)}. An admin renews it with {CONNECT} (a private, one-time link; about "
            "a minute). Until then everything works as usual; afterwards, jobs would wait for the reconnect.")
    return message_text(text), [section(text)]


def lapsed_notice(status: ConnectionStatus) -> Message:
    """NOTIFY_CHANNEL, once per lapse: what happened, what it means for jobs, what to do."""
    why = {"invalid_grant": "Intuit refused the stored connection (invalid_grant: the app was disconnected in "
                            "QuickBooks, or the connection expired)",
           "not_connected": "no QuickBooks connection is stored"}.get(status.lapsed_code or "", "Intuit refused the "
                                                                                          "stored connection")
    text = (f":rotating_light: *QuickBooks is disconnected* (company {esc(status.realm_id)}). {why}. Requests that "
            "need QuickBooks wait — none failed, nothing was written twice — and continue by themselves once an "
            f"admin runs {CONNECT}.")
    return message_text(text), [section(text)]


def reconnected_notice(status: ConnectionStatus, actor: str | None, resumed: int) -> Message:
    who = f"by <@{actor}>" if actor else "on the command line (`connect-quickbooks`)"
    jobs = f"{resumed} waiting job{'s' if resumed != 1 else ''} resumed" if resumed else "no job was waiting"
    text = f":white_check_mark: QuickBooks is connected again {who} (company {esc(status.realm_id)}); {jobs}."
    return message_text(text), [section(text)]


def home_banner(status: ConnectionStatus | None, tz: str) -> list[dict]:
    """App Home, approvers: the lapse or the near expiry, at the top; nothing while all is well."""
    if status is None:
        return []
    if status.lapsed_at is not None:
        waiting = f"{status.waiting} job{'s' if status.waiting != 1 else ''} wait" if status.waiting else "Jobs wait"
        text = (f":rotating_light: *QuickBooks is disconnected* since {when(status.lapsed_at, tz)}. {waiting} for it "
                f"and continue by themselves once an admin runs {CONNECT}.")
    elif status.expiring:
        text = (f":hourglass: *The QuickBooks connection ends {when(status.expires_at, tz)}* "
                f"({_days(max(0, round(status.days_left or 0)))} left): {_why(status)}. An admin renews it with "
                f"{CONNECT}.")
    else:
        return []
    return [section(text), {"type": "divider"}]


def job_reply(job: Job, event: Event) -> Message | None:
    """A waiting job's thread replies (the move into the wait and back out of it)."""
    if event.kind == EventKind.AWAITING_RECONNECT:
        text = (":pause_button: Waiting for QuickBooks: the connection was refused "
                f"({esc(event.details.get('code') or 'auth')}). Nothing more was done; this continues by itself once "
                f"an admin runs {CONNECT}.")
    elif event.kind == EventKind.RESUMED_AFTER_RECONNECT:
        text = ":arrow_forward: QuickBooks is connected again: continuing where this stopped."
    else:
        return None
    return message_text(text), [section(text)]


def link_text(url: str, expires_at: float, tz: str) -> str:
    """HTTP mode: the private, one-time link to the bot's Reconnect URL."""
    return (f"<{url}|Reconnect QuickBooks> — a one-time link for you only, valid until {when(expires_at, tz)}. It "
            "opens Intuit's consent page; after you choose *Connect*, the bot stores the new connection and every "
            "waiting job continues. Do not share it.")


def paste_modal(url: str, redirect_uri: str, expires_at: float, tz: str) -> dict:
    """Socket Mode (no public address): open Intuit's page, then paste the address the browser was sent to."""
    steps = (f"1. <{url}|Open Intuit's consent page> (a one-time link for you, valid until {when(expires_at, tz)}) "
             "and choose *Connect*.\n"
             f"2. The browser is then sent to `{esc(redirect_uri, 300)}`; that page may show an error or nothing — "
             "that is fine. Copy the *whole address* from the address bar.\n3. Paste it below and press *Connect*.")
    return {"type": "modal", "callback_id": CALLBACK_PASTE, "title": plain("Connect QuickBooks", 24),
            "submit": plain("Connect", 24), "close": plain("Cancel", 24),
            "blocks": [section(steps),
                       {"type": "input", "block_id": URL_BLOCK, "label": plain("The address the browser shows", 2000),
                        "element": {"type": "plain_text_input", "action_id": "url", "multiline": True,
                                    "placeholder": plain(f"{redirect_uri}?code=…&state=…&realmId=…")}}]}


def result_view(text: str) -> dict:
    """The paste modal after its submission: connecting, connected, or why not."""
    return {"type": "modal", "callback_id": CALLBACK_RESULT, "title": plain("Connect QuickBooks", 24),
            "close": plain("Close", 24), "blocks": [section(text)]}


def connecting_text() -> str:
    return (":hourglass_flowing_sand: Exchanging the authorization with Intuit… The outcome comes in a direct message "
            "from the bot in a few seconds; you can close this.")


def connected_text(realm: str, resumed: int) -> str:
    jobs = f"; {resumed} waiting job{'s' if resumed != 1 else ''} resumed" if resumed else ""
    return f":white_check_mark: QuickBooks company {esc(realm)} is connected{jobs}."


def refused_text(message: str) -> str:
    return f":x: {esc(message, 2000)}"

