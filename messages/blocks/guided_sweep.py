"""A guided sweep's messages: the ONE ConnectBooster checklist for the whole batch, in the help
article's words and order (every invoice to resync with its new balance, one Sync Now, the check), and the
answers to its buttons. Pure builders: a batch and its items in, (text, blocks) out.
"""
from __future__ import annotations

from decimal import Decimal

from data.batches import Batch
from data.jobs import Job
from data.states import BatchState, JobState
from messages.blocks import pages
from messages.blocks.common import button, confirm_dialog, context, esc, fmt, kind_label, message_text, section
from messages.blocks.guided import NAME, PSA_NOTE, portal, reminder, still_shows_advice

MAX_INVOICE_SECTIONS = 40  # + the steps, the note and the buttons stay under Slack's 50 blocks


def _balance_line(job: Job) -> str:
    after = job.invoice_balance_after if job.invoice_balance_after is not None else \
        (job.invoice_balance_before or Decimal(0)) - job.amount
    of = f" of {fmt(job.invoice_total, job.currency)}" if job.invoice_total is not None else ""
    return (f"invoice *{esc(job.invoice_number, 100)}* → *{fmt(after, job.currency)}{of}* "
            f"({kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}, {fmt(job.amount, job.currency)})")


def invoice_lines(parked: list[Job]) -> list[str]:
    return [f"• *{esc(j.client_name, NAME)}*: {_balance_line(j)}" for j in parked]


def invoice_sections(lines: list[str], budget: int, room: int = MAX_INVOICE_SECTIONS) -> tuple[list[dict], int]:
    """Every invoice to resync (client first) that fits in `budget` characters and `room` sections, then a line
    counting the others (listed in the replies after the message: `more_invoices`); (blocks, invoices listed)."""
    shown, listed = pages.sections(lines, budget - 200, room=room - 1)
    if listed < len(lines):
        shown.append(section(f"…and {len(lines) - listed} more invoices: listed in the replies below, each with its "
                             "new balance."))
    return shown, listed


def more_invoices(lines: list[str], listed: int, what: str) -> list[tuple[str, list[dict]]]:
    """The invoices a checklist had no room for, in pages (`what`: whose checklist)."""
    return pages.pages(lines[listed:], lambda n, of: f"*{what}: more invoices to resync* (page {n} of {of}), each "
                                                     "with the balance it should show:",
                       lambda n, of: f"{what}: more invoices to resync, page {n} of {of}")


def checklist(batch: Batch, items: list[Job], url: str = "") -> tuple[str, list[dict]]:
    """The one checklist: resync every invoice, run one sync, check; confirmed once with "All done"."""
    text, blocks, _ = _checklist(batch, items, url)
    return text, blocks


def checklist_pages(batch: Batch, items: list[Job], url: str = "") -> list[tuple[str, list[dict]]]:
    """The checklist's invoices beyond its message, in replies after it (none when it lists them all)."""
    _, _, (lines, listed) = _checklist(batch, items, url)
    return more_invoices(lines, listed, f"{batch.kind.capitalize()} #{batch.id}'s checklist")


def _checklist(batch: Batch, items: list[Job], url: str) -> tuple[str, list[dict], tuple[list[str], int]]:
    parked = [j for j in items if j.state == JobState.AWAITING_BATCH_SYNC]
    invoices = len({j.invoice_qbo_id for j in parked})
    who = f"<@{batch.owner}>" if batch.owner else "An approver"
    lead = (f":compass: *{batch.kind.capitalize()} #{batch.id} is recorded in QuickBooks; now ConnectBooster's half, "
            f"once for the whole {batch.kind}.* {who}: do the three steps below in {portal(url)}, then click "
            "*All done*.")
    resync = (f"*Step 1 of 3 — Resync {invoices} invoice{'s' if invoices != 1 else ''}*: for each, click *Entities* "
              "in the left-hand menu, change the dropdown to *Invoices*, search for the invoice number, click the "
              "three-dot menu (⋯) and select *Resync*. *Expect* each to show its new balance:")
    sync = (f"*Step 2 of 3 — Run the sync once*: *Integrations* → *QuickBooks Online* → *Sync Now*, sync from "
            f"*{esc(batch.sync_from or 'yesterday', 40)}* (the day before the applications, or the oldest credit's "
            f"date if older). Monitor the sync status until it completes (pending → active → complete).\n{PSA_NOTE}")
    check = ("*Step 3 of 3 — Check* each client above: its organizational credit no longer shows (a credit larger "
             "than its invoices shows only what is left), and each invoice shows the balance listed.")
    before = [section(lead), section(resync)]
    after = [section(sync), section(check),
             context("QuickBooks cannot see payments waiting in ConnectBooster: if one of these invoices shows a "
                     "pending payment there, tell an approver before you click *All done*."),
             {"type": "actions", "block_id": f"guided-sweep:{batch.id}", "elements": [
                 button("All done", "sweep_guided_done", str(batch.id), style="primary", confirm=confirm_dialog(
                     "ConnectBooster is up to date?", f"Every invoice resynced, the sync complete and the credits "
                     f"gone for all {len(parked)} applications of sweep #{batch.id}? This closes them.", "All done",
                     style="primary")),
                 button("Something's off", "sweep_guided_problem", str(batch.id))]}]
    lines = invoice_lines(parked)
    listed_blocks, listed = invoice_sections(lines, pages.MESSAGE_BUDGET - pages.text_length(before + after))
    return message_text(f"Sweep #{batch.id}: ConnectBooster checklist — resync {invoices} invoices, run the sync "
                        "once, check, then click All done."), before + listed_blocks + after, (lines, listed)


def reply_for(batch: Batch, kind: str, who: str, **details) -> tuple[str, list[dict]]:
    """The thread reply to "Something's off" (the article's advice) or the checklist's reminder."""
    if kind == "reminder":
        text = reminder(who, f"Sweep #{batch.id}'s ConnectBooster checklist", details.get("waited_minutes"))
        return message_text(text), [section(text)]
    credit = "does not show again" if batch.state == BatchState.UNDO_CHECKLIST else "still shows"  # the undo's
    text = (f":mag: <@{esc(who, 40)}> says something is off. If an invoice still shows its old balance, resync it "
            f"again: the resync must run after QuickBooks has the change. If an organizational credit {credit}: "
            f"{still_shows_advice(batch.sync_from, 'its invoices')} If ConnectBooster shows a payment pending on one "
            "of the invoices, ask an approver to look at it in QuickBooks. When everything matches, click *All done* "
            "above.")
    return message_text(text), [section(text)]
