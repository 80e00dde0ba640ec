"""Guided mode's inbox and picker additions, read from QuickBooks alone (`GuidedScreens`).

The inbox lists every customer with an unapplied credit, oldest credit first, with its age and the oldest open
invoice it would go to; "Apply…" opens the picker (handlers/inbox.py's `inbox_apply`, unchanged). The picker
gets, for credits QuickBooks shows used up lately, "Credit already applied in QuickBooks? Guide me through the
ConnectBooster steps" (handlers/picker.py's `resync_only` button, served by the guided service).
"""
from __future__ import annotations

from datetime import date

from messages.blocks.common import button, context, esc, fmt, kind_label, plain, section
from messages.blocks.inbox import CALLBACK_INBOX, pager
from messages.blocks.picker import picker_view
from messages.blocks.times import when
from messages.screens import Screens
from workflow.inbox import CAN_APPLY, IN_CLOSED_PERIOD, Inbox, InboxClient
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView
from workflow.periods import closed_words
from workflow.qbo_only import age_days

PAGE_CLIENTS = 5
ROWS_PER_CLIENT = 8
GUIDE_SECTIONS = 5


def _view(blocks: list[dict], draft: str = "") -> dict:
    return {"type": "modal", "callback_id": CALLBACK_INBOX, "title": plain("Credit inbox", 24),
            "close": plain("Close", 24), "private_metadata": draft, "blocks": blocks[:100]}


def loading_view() -> dict:
    return _view([section(":hourglass_flowing_sand: Reading every customer's unapplied credits from QuickBooks…")])


def _age(credit_date: str, today: date) -> str:
    days = age_days(credit_date, today)
    return "" if days is None else f" · {days} day{'s' if days != 1 else ''} old"


def client_blocks(client: InboxClient, draft: str, today: date, closed_through: str | None = None) -> list[dict]:
    if client.error:
        return [section(f"*{esc(client.name, 200)}* — :warning: {esc(client.error, 2000)}")]
    total = sum(c.remaining for c in client.credits)
    currency = client.credits[0].currency if client.credits else "USD"
    rows = []
    for c in client.credits[:ROWS_PER_CLIENT]:
        goes_to = (f"would go to invoice *{esc(c.oldest_invoice, 100)}* (the oldest open)" if c.diagnosis == CAN_APPLY
                   else f"_{esc(closed_words(closed_through), 100)}_: QuickBooks refuses to change it"
                   if c.diagnosis == IN_CLOSED_PERIOD else "no open invoice to apply it to")
        rows.append(f"• {kind_label(c.kind)} #{esc(c.number, 40)} · {esc(c.date, 40)}{_age(c.date, today)} · "
                    f"*{fmt(c.remaining, c.currency)}* unapplied · {goes_to}")
    if len(client.credits) > ROWS_PER_CLIENT:
        rows.append(f"…and {len(client.credits) - ROWS_PER_CLIENT} more")
    note = f"\n:information_source: {esc(client.note, 600)}" if client.note else ""
    text = (f"*{esc(client.name, 200)}* · {fmt(total, currency)} unapplied in QuickBooks{note}\n" + "\n".join(rows))
    if any(c.diagnosis == CAN_APPLY for c in client.credits):
        return [section(text, accessory=button("Apply…", "inbox_apply", f"{draft}|{client.org_id}"))]
    return [section(text)]


def inbox_view(inbox: Inbox, page: int, draft: str, *, today: date, tz: str = "UTC", notice: str = "") -> dict:
    last = max(1, -(-len(inbox.clients) // PAGE_CLIENTS)) - 1
    page = min(max(page, 0), last)
    if not inbox.clients:
        return _view([section(":tada: No customer has an unapplied credit in QuickBooks."),
                      context(f"Read {when(inbox.read_at, tz)}")], draft)
    blocks = [section(notice)] if notice else []
    blocks += [context(f"{len(inbox.clients)} customer{'s' if len(inbox.clients) != 1 else ''} with unapplied credits, "
                      f"oldest credit first · page {page + 1} of {last + 1} · read {when(inbox.read_at, tz)} · "
                      "from QuickBooks (guided ConnectBooster mode)")]
    for i, client in enumerate(inbox.clients[page * PAGE_CLIENTS:(page + 1) * PAGE_CLIENTS]):
        if i:
            blocks.append({"type": "divider"})
        blocks += client_blocks(client, draft, today, inbox.books_closed_through)
    return _view(blocks + pager(draft, page, last, "inbox_page_prev", "inbox_page_next"), draft)


def with_guide(view: dict, client: ClientView, draft: str) -> dict:
    """The picker view plus one "guide me" section per recently used-up credit (after the credits list)."""
    used = [c for c in client.credits if c.diagnosis == APPLIED_WAITING_SYNC][:GUIDE_SECTIONS]
    if not used:
        return view
    guides = [section(f"{kind_label(c.kind)} #{esc(c.number, 100)} ({fmt(c.cb_remaining or 0, c.currency)}, "
                      f"{esc(c.date, 40)}) is used up in QuickBooks. Credit already applied in QuickBooks? Guide me "
                      "through the ConnectBooster steps.",
                      accessory=button("Guide me", "resync_only", f"{draft}|{c.key}")) for c in used]
    blocks = list(view["blocks"])
    at = next((i + 1 for i, b in enumerate(blocks) if "Organizational credits" in str(b.get("text", ""))), 1)
    blocks[at:at] = guides
    return {**view, "blocks": blocks[:100]}


class GuidedScreens(Screens):
    """Guided mode: the inbox and the picker read from QuickBooks, the picker with the ConnectBooster guide."""

    def inbox_loading(self) -> dict:
        return loading_view()

    def inbox(self, inbox: Inbox, page: int, draft: str, *, started: dict | None = None, notice: str = "",
              tz: str = "UTC", today: date | None = None) -> dict:
        return inbox_view(inbox, page, draft, today=today or date.today(), tz=tz, notice=notice)

    def picker(self, client: ClientView, draft: str) -> dict:
        return with_guide(picker_view(client, draft), client, draft)

    def help_text(self, command: str) -> str:
        from messages.blocks.picker import HISTORY_HELP

        return (f"*{command} <client>* shows the client's open credits and invoices from QuickBooks, lets you pick "
                "the invoice (the oldest is preselected) and the amount, and asks a colleague to approve. Once "
                "approved I record the application in QuickBooks, then guide you through ConnectBooster in the "
                "request's thread: resync the invoice, run Sync Now, check the credit is gone, each with a button to "
                "confirm (guided mode: the bot does not call ConnectBooster).\n"
                f"Examples: `{command} Atomar's Best Tackle`, `{command} atomar` (part of the name works).\n"
                f"`{command}` alone or `{command} inbox` lists every QuickBooks customer with an unapplied credit.\n"
                f"`{command} sweep` proposes applying every unapplied credit the way QuickBooks' Receive Payment "
                "would, with one ConnectBooster checklist for the whole sweep.\n"
                "A finished application has an *Undo* button for approvers, for a limited time.\n"
                + HISTORY_HELP.format(command=command) + f"`{command} help` shows this message.")

    def no_match(self, query: str) -> dict:
        from messages.blocks.common import esc
        from messages.blocks.picker import message_view

        return message_view(f"No client matches *{esc(query, 200)}*. I compared it with every QuickBooks customer, "
                            "ignoring case, apostrophes, punctuation and spacing, and allowing one typo. Check the "
                            "spelling, or try part of the name.")
