"""A new credit's proposal (a batch of kind "proposal"): one message, updated in place as it is decided and applied.

    New credit · Atomar's Best Tackle: credit memo #1101 · $25.00 (2026-11-30)
    Proposed: → invoice 10031 (oldest open, $85.00 → $60.00): $25.00
    [Apply as proposed] [Choose…] [Not now]

Pure builders: a batch and its items in, (text, blocks) out. The planned applications are the batch's plan; each
one's mark follows its job (sweep's marks). Once finished, each verified application has an Undo button (the
undo rule of workflow/policy.py).
"""
from __future__ import annotations

from decimal import Decimal

from data.batches import BOT, Batch
from data.jobs import Job
from data.states import BATCH_DECIDING, BatchState, JobState, Mode
from messages.blocks.common import button, confirm_dialog, context, esc, fmt, kind_label, message_text, section
from messages.blocks.sweep import MARK, counts, first_approval

MAX_LINES = 40     # applications listed (a credit larger than 40 invoices is rare; the rest are counted)
MAX_UNDO = 5       # Undo buttons on the message (one actions block each: they share an action_id)
STATE = {
    BatchState.AWAITING_APPROVAL: ":sparkles: New credit",
    BatchState.AWAITING_SECOND_APPROVAL: ":sparkles: New credit · 1 of 2 approvals",
    BatchState.RUNNING: ":ledger: Applying in QuickBooks",
    BatchState.SYNCING: ":repeat: Applied; ConnectBooster sync and checks",
    BatchState.GUIDED_CHECKLIST: ":compass: Applied in QuickBooks; ConnectBooster checklist in the thread",
    BatchState.FINISHED: ":checkered_flag: Done",
    BatchState.REJECTED: ":zzz: Not now",
    BatchState.CANCELLED: ":information_source: Closed",
    BatchState.EXPIRED: ":hourglass: Expired",
}


def _m(amount, currency: str) -> str:
    return fmt(Decimal(str(amount)), currency)


def credit_line(batch: Batch) -> str:
    d = batch.details
    return (f"*{esc(d.get('client'), 300)}*: {kind_label(d.get('kind', ''))} #{esc(d.get('number'), 100)} · "
            f"*{_m(d.get('amount') or 0, d.get('currency') or 'USD')}* ({esc(d.get('date'), 40)})")


def plan_lines(batch: Batch, items: list[Job]) -> list[str]:
    """One line per planned application, marked with its job's progress once it has one."""
    by_seq = {j.batch_seq: j for j in items}
    lines = []
    for n, item in enumerate(batch.plan[:MAX_LINES]):
        job = by_seq.get(item["seq"])
        mark = MARK.get(job.state, ":hourglass_flowing_sand:") if job else ":white_small_square:"
        if job and job.state == JobState.UNDONE:
            mark = ":leftwards_arrow_with_hook:"
        oldest = " (the oldest open invoice)" if n == 0 else ""
        after = Decimal(item["invoice_balance_before"]) - Decimal(item["amount"])
        lines.append(f"{mark} → invoice *{esc(item['invoice_number'], 100)}*{oldest}: "
                     f"*{_m(item['amount'], item['currency'])}* ({_m(item['invoice_balance_before'], item['currency'])}"
                     f" → {_m(after, item['currency'])})")
    if len(batch.plan) > MAX_LINES:
        lines.append(f"…and {len(batch.plan) - MAX_LINES} more invoices")
    left = Decimal(batch.details.get("amount") or 0) - batch.total
    if batch.plan and left > 0:
        lines.append(f"{_m(left, batch.details.get('currency') or 'USD')} stays as credit: no more open invoices.")
    return lines


def proposal_message(batch: Batch, items: list[Job], tz: str = "UTC") -> tuple[str, list[dict]]:
    """The proposal, its decision and its progress, in one message."""
    d = batch.details
    blocks = [section(f"*{STATE.get(batch.state, esc(batch.state))}* · proposal #{batch.id}\n{credit_line(batch)}")]
    if d.get("reason"):
        blocks.append(section(f"I couldn't plan it: {esc(d['reason'], 500)}. *Choose…* opens the form."))
    elif not batch.plan:
        blocks.append(section("No open invoice to apply it to yet: it stays open, and the inbox lists it."))
    else:
        verb = "Applied automatically" if d.get("auto") else "Proposed"
        blocks.append(section(f"*{verb}*, as QuickBooks' Receive Payment would (oldest open invoices first):\n"
                              + "\n".join(plan_lines(batch, items))))
    blocks += _state_blocks(batch, items)
    text = f"New credit for {esc(d.get('client'), 200)}: proposal #{batch.id} — {batch.state.label}"
    return message_text(text), blocks


def _state_blocks(batch: Batch, items: list[Job]) -> list[dict]:
    d = batch.details
    if batch.state in BATCH_DECIDING:
        two = f"Above {_m(d['dual_above'], d.get('currency') or 'USD')} two different approvers decide. " \
            if d.get("dual_above") else ""
        guided = " Guided mode: planned from QuickBooks alone." if batch.mode == Mode.GUIDED else ""
        return [context(f"{first_approval(batch)}{two}An approver decides; nothing is written before.{guided}"),
                _buttons(batch)]
    if batch.state == BatchState.REJECTED:
        return [context(f"Not now, said <@{esc(batch.approver_id, 40)}>: the credit stays open (the inbox lists it).")]
    if batch.state == BatchState.CANCELLED:
        return [context(batch.outcome or "Closed.")]  # the bot's own words, escaped where they quote (proposals.py)
    c = counts(batch, items)
    who = (f"at or under AUTO_APPLY_MAX ({_m(d.get('auto_max') or 0, d.get('currency') or 'USD')}), no click"
           if batch.approver_id == BOT else f"accepted by <@{esc(batch.approver_id, 40)}>")
    out = [context(f"{who} · done {c['done']}/{c['total']} · {_m(c['applied'], d.get('currency') or 'USD')} applied "
                   f"in QuickBooks · {c['verified']} verified · {c['failed']} not applied")]
    undo = [j for j in items if j.state == JobState.VERIFIED][:MAX_UNDO] if batch.state == BatchState.FINISHED else []
    out += [{"type": "actions", "block_id": f"proposal-undo:{batch.id}:{j.id}", "elements": [
        button(f"Undo {j.invoice_number}"[:30], "job_undo", str(j.id), confirm=confirm_dialog(
            "Undo this application?", f"Reverse {fmt(j.amount, j.currency)} of credit on invoice "
            f"{esc(j.invoice_number, 100)} in QuickBooks, then bring ConnectBooster up to date?", "Undo",
            style="danger"))]} for j in undo]
    return out


def _buttons(batch: Batch) -> dict:
    d = batch.details
    elements = []
    if batch.plan:
        elements.append(button("Apply as proposed", "proposal_accept", str(batch.id), style="primary",
                               confirm=confirm_dialog("Apply as proposed?", f"Record {_m(batch.total, d.get('currency') or 'USD')} "
                                                      f"of {kind_label(d.get('kind', ''))} #{esc(d.get('number'), 100)} "
                                                      f"on {len(batch.plan)} invoice(s) in QuickBooks?", "Apply",
                                                      style="primary")))
    elements.append(button("Choose…", "proposal_choose", str(batch.id)))
    elements.append(button("Not now", "proposal_not_now", str(batch.id)))
    return {"type": "actions", "block_id": f"proposal:{batch.id}", "elements": elements}


def summary(batch: Batch, items: list[Job]) -> tuple[str, list[dict]]:
    """The reply in its thread once it is finished (and the notice, when the notify channel is another one)."""
    d = batch.details
    c = counts(batch, items)
    text = (f":white_check_mark: New credit for *{esc(d.get('client'), 300)}* ({kind_label(d.get('kind', ''))} "
            f"#{esc(d.get('number'), 100)}): {c['verified']} of {c['total']} applications verified, "
            f"{_m(c['applied'], d.get('currency') or 'USD')} applied (proposal #{batch.id}).")
    return message_text(text), [section(text)]
