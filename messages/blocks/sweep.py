"""Messages about a sweep: the plan awaiting approval (later its progress, updated in place), the summary.

Slack allows 50 blocks per message, 3,000 characters per text and about 11,000 across a message's blocks: a plan
too large for its message shows its largest clients and a line counting the others (every application is then in
its thread: `plan_pages`), and a client's lines beyond 2,800 characters are summarised as "…and N more".
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from data.batches import Batch
from data.jobs import Job
from data.states import BATCH_DECIDING, BatchState, JobState, Mode
from messages.blocks import pages
from messages.blocks import sweep_controls as controls
from messages.blocks.common import (
    button,
    confirm_dialog,
    context,
    esc,
    fmt,
    kind_label,
    message_text,
    section,
)
from messages.blocks.times import when

MAX_BLOCKS = 50          # Slack's limit per message
MAX_CLIENT_SECTIONS = 44  # + title, progress, "more clients", actions (+ spare) stay under Slack's 50 blocks
TEXT_BUDGET = 2800
SUMMARY_BUDGET = 6000    # the summary's failures (the rest in pages)
IN_THREAD = "Every application of the plan is listed in this message's thread."
LARGEST = 12             # a plan too large for its message shows about this many of its largest clients
MAX_RETRY_BUTTONS = 5
STATE = {
    BatchState.AWAITING_APPROVAL: ":hourglass_flowing_sand: Awaiting approval",
    BatchState.AWAITING_SECOND_APPROVAL: ":hourglass_flowing_sand: 1 of 2 approvals",
    BatchState.RUNNING: ":ledger: Recording in QuickBooks",
    BatchState.SYNCING: ":repeat: ConnectBooster sync and checks",
    BatchState.GUIDED_CHECKLIST: ":compass: Recorded in QuickBooks; ConnectBooster checklist in the thread",
    BatchState.FINISHED: ":checkered_flag: Finished",
    BatchState.REJECTED: ":x: Rejected",
    BatchState.CANCELLED: ":leftwards_arrow_with_hook: Withdrawn by the requester",
    BatchState.EXPIRED: ":hourglass: Expired without a decision",
}
FAILED = (JobState.FAILED, JobState.STALE, JobState.SKIPPED, JobState.NEEDS_ATTENTION)
MARK = {JobState.VERIFIED: ":white_check_mark:", JobState.FAILED: ":x:", JobState.STALE: ":x:",
        JobState.SKIPPED: ":heavy_minus_sign:", JobState.NEEDS_ATTENTION: ":warning:",
        JobState.AWAITING_BATCH_SYNC: ":ledger:", JobState.SYNCING: ":repeat:", JobState.SYNC_FINISHED: ":mag:",
        JobState.UNDONE: controls.UNDO_MARK}


def _money(amount, currency: str = "USD") -> str:
    return fmt(Decimal(str(amount)), currency)


def counts(batch: Batch, items: list[Job]) -> dict:
    """done / total, amount applied in QuickBooks, verified, failures."""
    applied = [j for j in items if j.qbo_payment_id]
    return {"total": len(batch.plan), "done": sum(1 for j in items if j.state == JobState.VERIFIED or j.state in FAILED),
            "verified": sum(1 for j in items if j.state == JobState.VERIFIED),
            "failed": sum(1 for j in items if j.state in FAILED),
            "applied": sum((j.amount for j in applied), Decimal(0))}


def _client_section(plan: list[dict], by_seq: dict[int, Job], limit: int = TEXT_BUDGET) -> tuple[dict, int]:
    """One client's section: its head and its applications (at most `limit` characters, then "…and N more");
    (the section, how many applications it lists)."""
    total = sum((Decimal(i["amount"]) for i in plan), Decimal(0))
    head = f"*{esc(plan[0]['client'], 300)}* · {len(plan)} invoice{'s' if len(plan) != 1 else ''} · {_money(total)}"
    lines, used = [], len(head)
    for n, item in enumerate(plan):
        job = by_seq.get(item["seq"])
        mark = MARK.get(job.state, ":hourglass_flowing_sand:") if job else ":white_small_square:"
        line = f"{mark} {_application(item)}"
        if used + len(line) > limit:
            lines.append(f"…and {len(plan) - n} more")
            return section("\n".join([head, *lines])), n
        lines.append(line)
        used += len(line) + 1
    return section("\n".join([head, *lines])), len(plan)


def _application(item: dict) -> str:
    after = Decimal(item["invoice_balance_before"]) - Decimal(item["amount"])
    return (f"{kind_label(item['credit_kind'])} #{esc(item['credit_number'], 100)} → invoice "
            f"{esc(item['invoice_number'], 100)}: *{_money(item['amount'], item['currency'])}* "
            f"({_money(item['invoice_balance_before'], item['currency'])} → {_money(after, item['currency'])})")


def _clients(batch: Batch) -> list[list[dict]]:
    clients: dict[str, list[dict]] = {}
    for item in batch.plan:
        clients.setdefault(item["qbo_customer_id"], []).append(item)
    return list(clients.values())


def _client_sections(batch: Batch, by_seq: dict[int, Job], room: int = MAX_CLIENT_SECTIONS,
                     budget: int = pages.MESSAGE_BUDGET) -> tuple[list[dict], int]:
    """The plan's clients within `room` sections and `budget` characters: all of them in the plan's order when
    they fit, else the largest first and a line counting the others; (blocks, applications listed)."""
    clients = _clients(batch)
    built = [_client_section(plan, by_seq) for plan in clients]
    if len(built) <= room and sum(pages.text_length(b) for b, _ in built) <= budget - 100:
        listed = sum(n for _, n in built)
        return [b for b, _ in built] + ([context(IN_THREAD)] if listed < len(batch.plan) else []), listed
    order = sorted(range(len(clients)), key=lambda i: -sum(Decimal(x["amount"]) for x in clients[i]))
    # Not all fit: the largest clients, a few lines each (a dozen of them rather than three in full).
    limit = max(400, min(TEXT_BUDGET, budget // min(len(clients), LARGEST)))
    first = set(order[:room])
    built = [_client_section(clients[i], by_seq, limit) if i in first else built[i] for i in range(len(clients))]
    shown: list[int] = []
    used = 300  # the "…and N more clients" line
    for i in order:
        size = pages.text_length(built[i][0])
        if len(shown) + 1 > room - 1 or used + size > budget:
            break
        shown.append(i)
        used += size
    rest = [i for i in order if i not in shown]
    amount = sum((Decimal(x["amount"]) for i in rest for x in clients[i]), Decimal(0))
    more = f"…and {len(rest)} more client{'s' if len(rest) != 1 else ''} ({_money(amount)}; all in the totals). " \
        if rest else ""
    return [built[i][0] for i in shown] + [context(more + IN_THREAD)], sum(built[i][1] for i in shown)


def plan_pages(batch: Batch) -> list[tuple[str, list[dict]]]:
    """The whole plan in thread replies when its message lists only part of it (none when it lists it all)."""
    _, _, listed = _message(replace(batch, state=BatchState.AWAITING_APPROVAL), [])
    if listed >= len(batch.plan):
        return []
    lines = [f"• *{esc(i['client'], 300)}* · {_application(i)}" for i in batch.plan]
    edited = " as edited" if batch.left_out else ""
    return pages.pages(lines, lambda n, of: f"*Sweep #{batch.id}'s plan{edited}*, page {n} of {of}: every "
                                            f"application ({len(batch.plan)}, {_money(batch.total)} in all), in the "
                                            "order they run.",
                       lambda n, of: f"Sweep #{batch.id}'s plan{edited}, page {n} of {of}")


def batch_message(batch: Batch, items: list[Job], tz: str = "UTC", undo=None) -> tuple[str, list[dict]]:
    """The approval request, then the progress of the sweep (and of its undo: `undo`, a
    workflow.sweep_controls.UndoView), in one message (`tz`: the team's zone), under pages.MESSAGE_BUDGET."""
    text, blocks, _ = _message(batch, items, tz, undo)
    return text, blocks


def _message(batch: Batch, items: list[Job], tz: str = "UTC", undo=None) -> tuple[str, list[dict], int]:
    clients = len({i["qbo_customer_id"] for i in batch.plan})
    c = counts(batch, items)
    label = controls.state_label(batch, undo) or STATE.get(batch.state, esc(batch.state))
    title = (f"*Sweep #{batch.id}* · {label}\n<@{batch.requester_id}> proposes "
             f"*{c['total']}* applications for *{clients}* client{'s' if clients != 1 else ''}, "
             f"*{_money(batch.total)}* in all: each unapplied credit to the oldest open invoices, as QuickBooks' "
             "Receive Payment would.")
    blocks = [section(title)]
    if batch.state in (BatchState.RUNNING, BatchState.SYNCING, BatchState.GUIDED_CHECKLIST, BatchState.FINISHED):
        blocks.append(context(f"Done {c['done']}/{c['total']} · {_money(c['applied'])} applied in QuickBooks · "
                              f"{c['verified']} verified · {c['failed']} failed · approved by <@{batch.approver_id}>"))
    if undo is not None:
        blocks.append(controls.progress(batch, items, undo))
    retry = [j for j in (undo.jobs if undo is not None else items)
             if j.state == JobState.NEEDS_ATTENTION and j.retryable][:MAX_RETRY_BUTTONS]
    guided = batch.mode == Mode.GUIDED  # its items are never retried alone: the sweep runs again (workflow/policy.py)
    retry = retry if batch.state in (BatchState.FINISHED, BatchState.UNDONE) and not guided else []
    undo_button = controls.undo_actions(batch, items)
    # Room left for client sections: the blocks below, and one for the "…and N more clients" line.
    deciding = batch.state in BATCH_DECIDING
    reserved = len(blocks) + 1 + (2 if deciding else 0) + len(retry) + len(undo_button)
    after: list[dict] = []
    if deciding:
        after.append(context(first_approval(batch) + f"Expires {when(batch.expires_at, tz)} · an approver other than "
                              f"the requester decides{controls.left_out_note(batch)}."
                              + (" · Guided mode: planned from QuickBooks alone (it cannot see payments pending in "
                                 "ConnectBooster); after the writes, one ConnectBooster checklist for the whole "
                                 "sweep in this thread." if guided else "")))
        after.append({"type": "actions", "block_id": f"sweep:{batch.id}", "elements": [
            button("Approve sweep", "sweep_approve", str(batch.id), style="primary", confirm=confirm_dialog(
                "Approve this sweep?", f"Record {c['total']} applications ({_money(batch.total)}) in QuickBooks?",
                "Approve", style="primary")),
            button("Reject", "sweep_reject", str(batch.id), style="danger"),
            # The plan can change only before anyone approved it (a first of two approvals covers this plan).
            *([controls.edit_button(batch)] if batch.state == BatchState.AWAITING_APPROVAL else [])]})
    # One actions block per Retry: every button calls the same listener (action_id "job_retry"), and Slack
    # refuses a block holding two elements with the same action_id.
    after += [{"type": "actions", "block_id": f"sweep-retry:{batch.id}:{j.id}",
               "elements": [button(f"Retry #{j.id}", "job_retry", str(j.id))]} for j in retry] + undo_button
    budget = pages.MESSAGE_BUDGET - pages.text_length(blocks) - pages.text_length(after)
    shown, listed = _client_sections(batch, {j.batch_seq: j for j in items},
                                     min(MAX_CLIENT_SECTIONS, MAX_BLOCKS - reserved), budget)
    text = f"Sweep #{batch.id}: {c['total']} applications, {_money(batch.total)} — {esc(batch.state).replace('_', ' ')}"
    return message_text(text), blocks + shown + after, listed


def first_approval(batch: Batch) -> str:
    """'1 of 2 approvals: @X approved; …' once the first of two approvals is in (DUAL_APPROVAL_ABOVE)."""
    if not batch.first_approver_id:
        return ""
    return f"1 of 2 approvals: <@{esc(batch.first_approver_id, 40)}> approved; a second approver decides · "


def _confirmed(batch: Batch) -> str:
    """Guided mode: who confirmed the ConnectBooster checklist (the verification is theirs)."""
    return f"; ConnectBooster checklist confirmed by <@{esc(batch.confirmed_by, 40)}> (guided mode)" \
        if batch.confirmed_by else ""


def _failure_lines(items: list[Job], reasons: dict[int, str]) -> list[str]:
    return [f"• {esc(j.client_name, 200)}, invoice {esc(j.invoice_number, 100)} ({_money(j.amount, j.currency)}): "
            f"{esc(reasons.get(j.id) or str(j.state).replace('_', ' '), 300)}" for j in items if j.state in FAILED]


def summary(batch: Batch, items: list[Job], reasons: dict[int, str]) -> tuple[str, list[dict]]:
    """The final reply in the sweep's thread: what was applied and every failure with its reason (those beyond
    SUMMARY_BUDGET in the replies after it: `summary_pages`)."""
    c = counts(batch, items)
    text = (f":broom: Sweep #{batch.id} finished: {c['verified']} of {c['total']} applications verified, "
            f"{_money(c['applied'])} applied in QuickBooks, {c['failed']} failed{_confirmed(batch)}.")
    lines = _failure_lines(items, reasons)
    blocks = [section(text)]
    if lines:
        shown, listed = pages.sections(lines, SUMMARY_BUDGET, head="*Not applied or not verified:*")
        blocks += shown
        if listed < len(lines):
            blocks.append(context(f"…and {len(lines) - listed} more, listed in the replies below."))
        blocks.append(context("Run `/applycredit sweep` again to pick these up: credits already used are never "
                              "planned twice."))
    return message_text(text), blocks


def summary_pages(batch: Batch, items: list[Job], reasons: dict[int, str]) -> list[tuple[str, list[dict]]]:
    """The failures the summary had no room for, in pages (none when it lists them all)."""
    lines = _failure_lines(items, reasons)
    _, listed = pages.sections(lines, SUMMARY_BUDGET, head="*Not applied or not verified:*")
    return pages.pages(lines[listed:], lambda n, of: f"*Sweep #{batch.id}: not applied or not verified*, more "
                                                     f"(page {n} of {of})",
                       lambda n, of: f"Sweep #{batch.id}: not applied or not verified, page {n} of {of}")


def notice(batch: Batch, items: list[Job]) -> tuple[str, list[dict]]:
    c = counts(batch, items)
    text = (f":broom: Sweep #{batch.id} finished: {c['verified']}/{c['total']} applications verified, "
            f"{_money(c['applied'])} applied, {c['failed']} failed. Approved by <@{batch.approver_id}>"
            f"{_confirmed(batch)}.")
    return message_text(text), [section(text)]
