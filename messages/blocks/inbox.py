"""The credit inbox modal: clients with open credits, each credit's diagnosis and a button for the right flow.

A page holds at most PAGE_CLIENTS clients and ROWS_PER_CLIENT credits each, so a page stays far below Block
Kit's 100 blocks per view; every section goes through `section`, which keeps it under 3,000 characters.
"""
from __future__ import annotations

from messages.blocks.common import button, context, esc, fmt, kind_label, plain, section
from messages.blocks.times import when
from workflow.inbox import (
    CAN_APPLY,
    IN_CLOSED_PERIOD,
    NO_OPEN_INVOICE,
    PENDING_PAYMENT,
    RESYNC_ONLY,
    Inbox,
    InboxClient,
    InboxCredit,
)

CALLBACK_INBOX = "applycredit_inbox"
PAGE_CLIENTS = 5
ROWS_PER_CLIENT = 8
DIAGNOSIS = {
    CAN_APPLY: "unapplied in QuickBooks",
    RESYNC_ONLY: "applied in QuickBooks, waiting for a sync",
    PENDING_PAYMENT: "pending ConnectBooster payment on the oldest invoice",
    NO_OPEN_INVOICE: "no open invoice to apply it to",
    IN_CLOSED_PERIOD: "in a closed period",
}


def _view(blocks: list[dict], draft: str = "") -> dict:
    return {"type": "modal", "callback_id": CALLBACK_INBOX, "title": plain("Credit inbox", 24),
            "close": plain("Close", 24), "private_metadata": draft, "blocks": blocks[:100]}


def loading_view() -> dict:
    return _view([section(":hourglass_flowing_sand: Reading every client's open credits from ConnectBooster and "
                          "QuickBooks…")])


def message_view(text: str) -> dict:
    return _view([section(text)])


def pages(inbox: Inbox) -> int:
    return max(1, -(-len(inbox.clients) // PAGE_CLIENTS))


def _what_next(c: InboxCredit, closed_through: str | None = None) -> str:
    if c.diagnosis == IN_CLOSED_PERIOD:
        return (f"books closed through {esc(closed_through or '?', 40)}: QuickBooks refuses to change it; reopen the "
                "period in QuickBooks (or ask your accountant) to apply it")
    if c.diagnosis == CAN_APPLY:
        return f"apply it (oldest open invoice {esc(c.oldest_invoice, 100)})"
    if c.diagnosis == RESYNC_ONLY:
        return "nothing to write in QuickBooks: a resync and a sync clear it"
    if c.diagnosis == PENDING_PAYMENT:
        return (f"invoice {esc(c.oldest_invoice, 100)} has a portal payment waiting to sync; apply to a later invoice "
                "or wait for the sync")
    return "it stays until the client has an invoice"


def credit_row(c: InboxCredit, draft: str, org_id: int, started: dict, closed_through: str | None = None) -> dict:
    """One credit: what ConnectBooster shows, the diagnosis, and the button that starts the right flow."""
    ident = f"*{esc(c.cb_id)}*" if c.cb_id else "(no ConnectBooster id)"
    text = (f"{ident} · {kind_label(c.kind)} #{esc(c.number, 40)} · {esc(c.date, 40)} · "
            f"*{fmt(c.cb_remaining, c.currency)}* in ConnectBooster\n"
            f"_{DIAGNOSIS.get(c.diagnosis, esc(c.diagnosis))}_: {_what_next(c, closed_through)}")
    job = started.get(c.key)
    if job:
        return section(text + f"\n:arrows_counterclockwise: Resync #{job} started.")
    if c.diagnosis == RESYNC_ONLY:
        return section(text, accessory=button("Resync only", "inbox_resync", f"{draft}|{org_id}|{c.key}"))
    if c.diagnosis in (CAN_APPLY, PENDING_PAYMENT):
        return section(text, accessory=button("Apply…", "inbox_apply", f"{draft}|{org_id}"))
    return section(text)


def client_blocks(client: InboxClient, draft: str, started: dict, closed_through: str | None = None) -> list[dict]:
    if client.error:
        return [section(f"*{esc(client.name, 200)}* — :warning: {esc(client.error, 2000)}; open it with "
                        f"`/applycredit {esc(client.name, 200)}` later.")]
    total = sum(c.cb_remaining for c in client.credits)
    currency = client.credits[0].currency if client.credits else "USD"
    count = len(client.credits)
    note = f"\n:information_source: {esc(client.note, 600)}" if client.note else ""
    blocks = [section(f"*{esc(client.name, 200)}* · {count} open credit{'s' if count != 1 else ''} · "
                      f"{fmt(total, currency)}{note}")]
    blocks += [credit_row(c, draft, client.org_id, started, closed_through) for c in client.credits[:ROWS_PER_CLIENT]]
    if count > ROWS_PER_CLIENT:
        blocks.append(context(f"…and {count - ROWS_PER_CLIENT} more: *Apply…* on a row above shows all of them."))
    return blocks


def inbox_view(inbox: Inbox, page: int, draft: str, *, started: dict | None = None, notice: str = "",
               tz: str = "UTC") -> dict:
    """One page of the inbox; Previous/Next when there is more than one page (`tz`: the team's zone)."""
    started = started or {}
    last = pages(inbox) - 1
    page = min(max(page, 0), last)
    blocks: list[dict] = []
    if notice:
        blocks.append(section(notice))
    if not inbox.clients:
        blocks.append(section(":tada: No client has an open credit in ConnectBooster."))
        blocks.append(context(f"Read {when(inbox.read_at, tz)}"))
        return _view(blocks, draft)
    shown = inbox.clients[page * PAGE_CLIENTS:(page + 1) * PAGE_CLIENTS]
    blocks.append(context(f"{len(inbox.clients)} client{'s' if len(inbox.clients) != 1 else ''} with open credits · "
                          f"{inbox.credit_count} credit{'s' if inbox.credit_count != 1 else ''} · page {page + 1} of "
                          f"{last + 1} · read {when(inbox.read_at, tz)}"))
    for i, client in enumerate(shown):
        if i:
            blocks.append({"type": "divider"})
        blocks += client_blocks(client, draft, started, inbox.books_closed_through)
    return _view(blocks + pager(draft, page, last, "inbox_page_prev", "inbox_page_next"), draft)


def pager(draft: str, page: int, last: int, prev_action: str, next_action: str) -> list[dict]:
    """Previous / Next under an inbox page (none on a single page); the buttons carry draft|page."""
    nav = []
    if page > 0:
        nav.append(button("Previous", prev_action, f"{draft}|{page - 1}"))
    if page < last:
        nav.append(button("Next", next_action, f"{draft}|{page + 1}", style="primary"))
    return [{"type": "actions", "block_id": "inbox_nav", "elements": nav}] if nav else []
