"""The /applycredit modal: loading, choosing a client, and the credit/invoice/amount picker."""
from __future__ import annotations

from messages.blocks.common import (
    button,
    context,
    esc,
    fmt,
    header,
    kind_label,
    mrkdwn,
    option,
    plain,
    plain_fmt,
    section,
)
from workflow.lookup import (
    APPLIED_WAITING_SYNC,
    CLOSED_PERIOD,
    NOT_IN_CONNECTBOOSTER,
    ClientView,
    default_amount,
)
from workflow.periods import closed_words

CALLBACK_REQUEST = "applycredit_request"
CALLBACK_INFO = "applycredit_info"
STATIC_LIMIT = 100   # static_select options
LISTED_INVOICES = 25  # invoices listed in the text above the menus
RESYNC_SECTIONS = 10  # "Resync only" rows: with the inputs, a view stays far below Slack's 100 blocks
DIAGNOSIS = {
    APPLIED_WAITING_SYNC: "applied in QuickBooks, waiting for a ConnectBooster sync",
    NOT_IN_CONNECTBOOSTER: "new in QuickBooks, not in ConnectBooster yet",
}


def _view(callback_id: str, title: str, blocks: list[dict], draft: str = "", submit: str | None = None) -> dict:
    view = {"type": "modal", "callback_id": callback_id, "title": plain(title, 24), "close": plain("Close", 24),
            "private_metadata": draft, "blocks": blocks[:100]}
    if submit:
        view["submit"] = plain(submit, 24)
    return view


def loading_view(query: str) -> dict:
    return _view(CALLBACK_INFO, "Apply credit", [section(f":hourglass_flowing_sand: Looking up *{esc(query, 200)}* in "
                                                         "ConnectBooster and QuickBooks…")])


def message_view(text: str, title: str = "Apply credit") -> dict:
    return _view(CALLBACK_INFO, title, [section(text)])


def no_match_view(query: str) -> dict:
    return message_view(f"No client matches *{esc(query, 200)}*. I compared it with every ConnectBooster "
                        "organization, ignoring case, apostrophes, punctuation and spacing, and allowing one typo. "
                        "Check the spelling, or try part of the name.")


def choose_client_view(query: str, orgs: list, draft: str) -> dict:
    """Several organizations match: let the user pick one (up to 100)."""
    options = [option(o.name, str(o.id)) for o in orgs[:STATIC_LIMIT]]
    more = f" Showing the first {STATIC_LIMIT}; type more of the name to narrow it." if len(orgs) > STATIC_LIMIT else ""
    blocks = [
        section(f"{len(orgs)} clients match *{esc(query, 200)}*.{more}"),
        {"type": "actions", "block_id": "choose_client", "elements": [
            {"type": "static_select", "action_id": "choose_client", "placeholder": plain("Choose a client"),
             "options": options}]},
    ]
    return _view(CALLBACK_INFO, "Choose a client", blocks, draft)


def credit_line(c, closed_through: str | None = None) -> str:
    ident = f"*{esc(c.cb_id)}*" if c.cb_id else "(no ConnectBooster id yet)"
    line = f"• {ident} · {kind_label(c.kind)} #{esc(c.number, 100)} · {esc(c.date, 40)} · *{fmt(c.remaining, c.currency)}* remaining"
    if c.diagnosis == CLOSED_PERIOD:  # QuickBooks would refuse it: shown, not offered
        line += f" — _{esc(closed_words(closed_through), 100)}: QuickBooks refuses to change it_"
    elif c.diagnosis in DIAGNOSIS:
        shown = f" (ConnectBooster still shows {fmt(c.cb_remaining, c.currency)})" if c.cb_remaining is not None else ""
        line += f" — _{DIAGNOSIS[c.diagnosis]}_{shown}"
    return line


def invoice_line(i) -> str:
    due = f" · due {esc(i.due_date, 40)}" if i.due_date else ""
    pending = " · :warning: ConnectBooster payment pending sync" if i.pending_payment else ""
    return f"• *{esc(i.number, 100)}* · {esc(i.date, 40)}{due} · {fmt(i.balance, i.currency)} of {fmt(i.total, i.currency)}{pending}"


def invoice_option(i) -> dict:
    return option(f"{i.number} · {i.date} · {plain_fmt(i.balance, i.currency)} of {plain_fmt(i.total, i.currency)}",
                  i.qbo_id)


def picker_view(client: ClientView, draft: str) -> dict:
    """Credits, open invoices, and the inputs; the oldest invoice is preselected as QuickBooks does."""
    blocks: list[dict] = [header(f"Apply a credit — {client.name}")]
    credit_lines = [credit_line(c, client.books_closed_through) for c in client.credits] or ["_No organizational credits._"]
    blocks.append(section("*Organizational credits*\n" + "\n".join(credit_lines[:20])))
    waiting = [c for c in client.credits if c.diagnosis == APPLIED_WAITING_SYNC and c.cb_id]
    for c in waiting[:RESYNC_SECTIONS]:
        blocks.append(section(
            f"Credit *{esc(c.cb_id)}* is already used in QuickBooks; ConnectBooster just hasn't synced. Nothing needs "
            "to be written to QuickBooks: a resync and a sync will clear it.",
            accessory=button("Resync only", "resync_only", f"{draft}|{c.key}")))
    invoice_lines = [invoice_line(i) for i in client.invoices[:LISTED_INVOICES]]
    if len(client.invoices) > LISTED_INVOICES:
        invoice_lines.append(f"…and {len(client.invoices) - LISTED_INVOICES} more: search them in the invoice menu.")
    blocks.append(section(f"*Open invoices* ({len(client.invoices)}, oldest first)\n"
                          + ("\n".join(invoice_lines) or "_No open invoices._")))
    usable = client.usable_credits
    if not usable or not client.invoices:
        closed = any(c.diagnosis == CLOSED_PERIOD for c in client.credits)
        reason = ("no open invoice to apply a credit to" if usable else
                  f"the credits left are {closed_words(client.books_closed_through)}" if closed else
                  "no credit left to apply")
        blocks.append(context(f"Nothing to request: {reason}."))
        return _view(CALLBACK_INFO, "Apply credit", blocks, draft)
    first, oldest = usable[0], client.invoices[0]
    blocks.append({"type": "divider"})
    credit_options = [option(f"{c.cb_id or c.number} · {kind_label(c.kind, escape=False)} #{c.number} · "
                             f"{plain_fmt(c.remaining, c.currency)}",
                             c.key) for c in usable[:STATIC_LIMIT]]
    blocks.append({"type": "input", "block_id": "credit", "label": plain("Credit"), "element": {
        "type": "static_select", "action_id": "credit", "options": credit_options, "initial_option": credit_options[0]}})
    if len(client.invoices) <= STATIC_LIMIT:
        opts = [invoice_option(i) for i in client.invoices]
        element = {"type": "static_select", "action_id": "invoice", "options": opts, "initial_option": opts[0]}
    else:
        element = {"type": "external_select", "action_id": "invoice", "min_query_length": 0,
                   "initial_option": invoice_option(oldest), "placeholder": plain("Type an invoice number")}
    blocks.append({"type": "input", "block_id": "invoice", "label": plain("Invoice"), "element": element,
                   "hint": plain("The oldest open invoice is preselected, as QuickBooks' Receive Payment does.")})
    blocks.append({"type": "input", "block_id": "amount", "label": plain(f"Amount ({first.currency})"), "element": {
        "type": "plain_text_input", "action_id": "amount", "initial_value": str(default_amount(first, oldest))},
        "hint": plain("At most the credit's remaining amount and the invoice's balance, 2 decimals.")})
    blocks.append({"type": "input", "block_id": "note", "optional": True, "label": plain("Note for the approver"),
                   "element": {"type": "plain_text_input", "action_id": "note", "multiline": True, "max_length": 500}})
    return _view(CALLBACK_REQUEST, "Apply credit", blocks, draft, submit="Request approval")


def invoice_options(client: ClientView, typed: str) -> list[dict]:
    """Options for the external invoice menu: matching numbers first, at most 100."""
    typed = (typed or "").strip().lower()
    hits = [i for i in client.invoices if typed in i.number.lower() or typed in i.date]
    return [invoice_option(i) for i in hits[:STATIC_LIMIT]]


def submitted_view(job_id: int, channel_id: str) -> dict:
    return message_view(f":white_check_mark: Request #{job_id} sent to <#{channel_id}> for approval. Its thread will "
                        "show every step.", title="Request sent")


def help_text(command: str = "/applycredit") -> str:
    return (f"*{command} <client>* shows the client's ConnectBooster organizational credits and open invoices, lets "
            "you pick the invoice (the oldest is preselected) and the amount, and asks a colleague to approve. Once "
            "approved I record the application in QuickBooks, resync the invoice in ConnectBooster, run the sync and "
            "report each step in the request's thread.\n"
            f"Examples: `{command} Atomar's Best Tackle`, `{command} atomar` (part of the name works).\n"
            f"`{command}` alone or `{command} inbox` lists every client with open credits, why each is still "
            "showing, and a button to apply or resync it.\n"
            f"`{command} sweep` proposes applying every unapplied credit the way QuickBooks' Receive Payment would "
            "(oldest invoices first) and asks one approval for the whole plan.\n"
            "A finished application has an *Undo* button for approvers, for a limited time.\n"
            + HISTORY_HELP.format(command=command) + f"`{command} connect` (admins) connects QuickBooks again: a private, "
            f"one-time link.\n`{command} help` shows this message.")


HISTORY_HELP = ("Approvers: `{command} history` (or `history #12`, `history 10040`, `history Atomar`) shows what "
                "happened, by whom and when, only to you; `{command} export 2026-11` sends you that month's "
                "applications, resyncs and undos as a CSV in a direct message.\n")


__all__ = ["mrkdwn"]
