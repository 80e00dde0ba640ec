"""The sweep's controls in Slack: "Edit plan…" (leave clients out before approval) and "Undo sweep…" (after it ran);
the undo's progress line, its summary and notice, and in guided mode the undo's one ConnectBooster checklist.

A plan can hold hundreds of clients, more than any static menu (100 options): the modal's one field is a
multi_external_select that asks the bot's options endpoint for the plan's clients matching what is typed (at most
100 at a time, Slack's limit). The sweep message gets one button and one short line, nothing per client.
"""
from __future__ import annotations

from decimal import Decimal

from data.batches import Batch
from data.jobs import Job
from data.states import PAST_QUICKBOOKS, BatchState, JobState, Mode
from messages.blocks import pages
from messages.blocks.common import (
    OPTION_LIMIT,
    button,
    confirm_dialog,
    context,
    esc,
    fmt,
    message_text,
    option,
    plain,
    plain_fmt,
    section,
)
from messages.blocks.guided import PSA_NOTE, portal
from messages.blocks.guided_sweep import invoice_lines, invoice_sections, more_invoices

LEAVE_OUT = "sweep_leave_out"   # the modal's callback_id, and its field's block and action id
MAX_OPTIONS = 100               # Slack's limit per options answer
SUMMARY_BUDGET = 6000           # characters of "not undone" lines in the summary (the rest in pages)
UNDO_MARK = ":leftwards_arrow_with_hook:"


def edit_button(batch: Batch) -> dict:
    return button("Edit plan…", "sweep_edit", str(batch.id))


def left_out_note(batch: Batch) -> str:
    """A short note for the approval message: how many clients were left out, by whom."""
    if not batch.left_out:
        return ""
    who = ", ".join(f"<@{esc(w, 40)}>" for w in dict.fromkeys(c["by"] for c in batch.left_out))
    n = len(batch.left_out)
    return f" · {n} client{'s' if n != 1 else ''} left out by {who}"


def undo_actions(batch: Batch, items: list[Job]) -> list[dict]:
    """A finished sweep with applications: the one "Undo sweep…" button (the policy decides who may)."""
    verified = sum(1 for j in items if j.state == JobState.VERIFIED)
    if batch.state != BatchState.FINISHED or not verified:
        return []
    return [{"type": "actions", "block_id": f"sweep-undo:{batch.id}", "elements": [
        button("Undo sweep…", "sweep_undo", str(batch.id), style="danger", confirm=confirm_dialog(
            f"Undo sweep #{batch.id}?", f"Reverse its {verified} completed applications in QuickBooks, each re-checked "
            "first (an invoice paid or changed since is left alone), then bring ConnectBooster up to date?",
            "Undo sweep", style="danger"))]}]


def state_label(batch: Batch, undo) -> str | None:
    """The header's words for the states this module adds (None: the sweep's own label)."""
    if batch.state == BatchState.CANCELLED and batch.left_out and not batch.plan:
        return f"{UNDO_MARK} Cancelled: every client was left out"
    if batch.state == BatchState.UNDOING:
        return f"{UNDO_MARK} Being undone"
    if batch.state == BatchState.UNDO_CHECKLIST:
        return ":compass: Undone in QuickBooks; ConnectBooster checklist in the thread"
    if batch.state == BatchState.UNDONE:
        return f"{UNDO_MARK} Undone" + (" in part" if undo is not None and undo.not_undone else "")
    return None


def _counts(items: list[Job], undo) -> dict:
    undone = [j for j in items if j.state == JobState.UNDONE]
    return {"undone": len(undone), "amount": sum((j.amount for j in undone), Decimal(0)),
            "reversed": sum(1 for u in undo.jobs if u.state in PAST_QUICKBOOKS),
            "refused": sum(1 for u in undo.jobs if u.state == JobState.STALE),
            "attention": sum(1 for u in undo.jobs if u.state == JobState.NEEDS_ATTENTION)}


def progress(batch: Batch, items: list[Job], undo) -> dict:
    """The undo's line on the sweep message, updated in place."""
    c = _counts(items, undo)
    more = [f"{n} {what}" for n, what in ((c["refused"], "refused"), (c["attention"], "need attention"),
                                          (len(batch.undo_skipped), "could not be undone")) if n]
    return context(f"{UNDO_MARK} Undo by <@{esc(batch.undo_by, 40)}>: " + " · ".join(
        [f"{c['undone']} undone", f"{c['reversed']} reversed in QuickBooks", *more]))


def leave_out_modal(batch: Batch, channel: str, message_ts: str) -> dict:
    """Choose clients to leave out of the plan (typed to search: a plan can hold hundreds)."""
    clients = len({i["qbo_customer_id"] for i in batch.plan})
    intro = (f"Sweep #{batch.id} plans *{len(batch.plan)}* applications for *{clients}* client"
             f"{'s' if clients != 1 else ''}, *{fmt(batch.total)}*. The clients you choose are taken out of the plan "
             "and its total; an approver other than the proposer still approves the rest. Leaving every client out "
             "cancels the sweep.")
    return {"type": "modal", "callback_id": LEAVE_OUT, "private_metadata": f"{batch.id}|{channel}|{message_ts}",
            "title": plain(f"Edit sweep #{batch.id}", 24), "submit": plain("Leave out", 24),
            "close": plain("Cancel", 24), "blocks": [section(intro), {
                "type": "input", "block_id": LEAVE_OUT, "label": plain("Clients to leave out"),
                "element": {"type": "multi_external_select", "action_id": LEAVE_OUT, "min_query_length": 0,
                            "placeholder": plain("Type part of a client's name")}}]}


def client_options(batch: Batch, query: str) -> list[dict]:
    """The plan's clients whose name contains `query`, at most 100 (plain text: shown as typed)."""
    clients: dict[str, list[dict]] = {}
    for item in batch.plan:
        clients.setdefault(item["qbo_customer_id"], []).append(item)
    wanted = query.strip().casefold()
    found = []
    for cid, items in clients.items():
        name = str(items[0]["client"])
        if wanted in name.casefold():
            total = plain_fmt(sum((Decimal(i["amount"]) for i in items), Decimal(0)), items[0]["currency"])
            tail = f" · {len(items)} inv. · {total}"
            found.append(option(name[:OPTION_LIMIT - len(tail) - 1] + tail, cid))
        if len(found) == MAX_OPTIONS:
            break
    return found


def _not_undone(items: list[Job], undo) -> list[str]:
    return [f"• {esc(job.client_name, 200)}, invoice {esc(job.invoice_number, 100)} ({fmt(job.amount, job.currency)}): "
            f"{esc(undo.not_undone[job.id], 400)}" for job in items if job.id in undo.not_undone]


def summary(batch: Batch, items: list[Job], undo) -> tuple[str, list[dict]]:
    """The undo's one reply in the sweep's thread: what was reversed, and every item not undone with why (those
    beyond SUMMARY_BUDGET in the replies after it: `summary_pages`)."""
    c = _counts(items, undo)
    confirmed = (f"; ConnectBooster checklist confirmed by <@{esc(batch.undo_confirmed_by, 40)}> (guided mode)"
                 if batch.undo_confirmed_by else "")
    text = (f"{UNDO_MARK} Sweep #{batch.id} undone by <@{esc(batch.undo_by, 40)}>: {c['undone']} of "
            f"{c['undone'] + len(undo.not_undone)} applications reversed in QuickBooks and ConnectBooster "
            f"({fmt(c['amount'])}){confirmed}.")
    blocks = [section(text)]
    lines = _not_undone(items, undo)
    if lines:
        shown, listed = pages.sections(lines, SUMMARY_BUDGET, head="*Not undone:*")
        blocks += shown
        if listed < len(lines):
            blocks.append(context(f"…and {len(lines) - listed} more, listed in the replies below."))
        retry = " An undo that needs attention can be retried from the sweep's message." \
            if c["attention"] and batch.mode != Mode.GUIDED else ""
        blocks.append(context("Each is left as it is in QuickBooks: reverse it there by hand if it must go." + retry))
    return message_text(text + (f" {len(lines)} not undone." if lines else "")), blocks


def summary_pages(batch: Batch, items: list[Job], undo) -> list[tuple[str, list[dict]]]:
    """The items not undone that the summary had no room for, in pages (none when it lists them all)."""
    lines = _not_undone(items, undo)
    _, listed = pages.sections(lines, SUMMARY_BUDGET, head="*Not undone:*")
    return pages.pages(lines[listed:], lambda n, of: f"*Sweep #{batch.id}'s undo: not undone*, more (page {n} of "
                                                     f"{of})",
                       lambda n, of: f"Sweep #{batch.id}'s undo: not undone, page {n} of {of}")


def notice(batch: Batch, items: list[Job], undo) -> tuple[str, list[dict]]:
    c = _counts(items, undo)
    text = (f"{UNDO_MARK} Sweep #{batch.id} undone by <@{esc(batch.undo_by, 40)}>: {c['undone']} applications "
            f"reversed ({fmt(c['amount'])}), {len(undo.not_undone)} not undone.")
    return message_text(text), [section(text)]


def checklist(batch: Batch, undo, url: str = "") -> tuple[str, list[dict]]:
    """Guided mode: the undo's ONE ConnectBooster checklist (every invoice resynced, one sync, the credits back)."""
    text, blocks, _ = _checklist(batch, undo, url)
    return text, blocks


def checklist_pages(batch: Batch, undo, url: str = "") -> list[tuple[str, list[dict]]]:
    """The undo checklist's invoices beyond its message, in replies after it (none when it lists them all)."""
    _, _, (lines, listed) = _checklist(batch, undo, url)
    return more_invoices(lines, listed, f"Sweep #{batch.id}'s undo checklist")


def _checklist(batch: Batch, undo, url: str) -> tuple[str, list[dict], tuple[list[str], int]]:
    parked = [u for u in undo.jobs if u.state == JobState.AWAITING_BATCH_SYNC]
    invoices = len({u.invoice_qbo_id for u in parked})
    lead = (f":compass: *Sweep #{batch.id}'s undo is recorded in QuickBooks; now ConnectBooster's half, once for the "
            f"whole undo.* <@{esc(batch.undo_by, 40)}>: do the three steps below in {portal(url)}, then click "
            "*All done*.")
    resync = (f"*Step 1 of 3 — Resync {invoices} invoice{'s' if invoices != 1 else ''}*: *Entities* → *Invoices*, "
              "search for the invoice number, ⋯ → *Resync*. *Expect* each to show its balance back:")
    sync = (f"*Step 2 of 3 — Run the sync once*: *Integrations* → *QuickBooks Online* → *Sync Now*, sync from "
            f"*{esc(batch.sync_from or 'yesterday', 40)}*, and wait until it completes.\n{PSA_NOTE}")
    check = ("*Step 3 of 3 — Check* each client above: its organizational credit shows again with the amount put "
             "back, and each invoice shows the balance listed.")
    before = [section(lead), section(resync)]
    after = [section(sync), section(check),
             {"type": "actions", "block_id": f"guided-undo:{batch.id}", "elements": [
                 button("All done", "sweep_undo_done", str(batch.id), style="primary", confirm=confirm_dialog(
                     "ConnectBooster is up to date?", f"Every invoice resynced, the sync complete and the credits "
                     f"back for all {len(parked)} undone applications of sweep #{batch.id}? This closes the undo.",
                     "All done", style="primary")),
                 button("Something's off", "sweep_undo_problem", str(batch.id))]}]
    lines = invoice_lines(parked)
    listed_blocks, listed = invoice_sections(lines, pages.MESSAGE_BUDGET - pages.text_length(before + after))
    return (message_text(f"Sweep #{batch.id}'s undo: ConnectBooster checklist — resync {invoices} invoices, run the "
                         "sync once, check, then click All done."), before + listed_blocks + after, (lines, listed))
