"""Messages about a job: the approval request (the thread's parent), one reply per step, notices."""
from __future__ import annotations

from data.events import EventKind
from data.jobs import Event, Job
from data.states import DECIDING, JobKind, JobState
from messages.blocks.alerts import warning_lines
from messages.blocks.common import (
    button,
    confirm_dialog,
    context,
    esc,
    fields_section,
    fmt,
    kind_label,
    message_text,
    section,
)
from messages.blocks.connection import job_reply as connection_reply
from messages.blocks.times import when

NAME = 300  # characters of a client name in a sentence: QuickBooks allows 500, a sentence needs room for the rest

STATE_LABEL = {
    JobState.AWAITING_APPROVAL: ":hourglass_flowing_sand: Awaiting approval",
    JobState.AWAITING_SECOND_APPROVAL: ":hourglass_flowing_sand: 1 of 2 approvals",
    JobState.APPROVED: ":white_check_mark: Approved — checking QuickBooks",
    JobState.APPLYING: ":ledger: Recording in QuickBooks",
    JobState.APPLIED: ":ledger: Recorded in QuickBooks",
    JobState.RESYNCING: ":arrows_counterclockwise: Resyncing the invoice in ConnectBooster",
    JobState.RESYNCED: ":arrows_counterclockwise: Invoice resynced",
    JobState.SYNCING: ":repeat: ConnectBooster sync running",
    JobState.SYNC_FINISHED: ":mag: Verifying in ConnectBooster",
    JobState.VERIFIED: ":white_check_mark: Done — applied and synced",
    JobState.NEEDS_ATTENTION: ":warning: Needs attention",
    JobState.REJECTED: ":x: Rejected",
    JobState.CANCELLED: ":leftwards_arrow_with_hook: Withdrawn by the requester",
    JobState.EXPIRED: ":hourglass: Expired without a decision",
    JobState.STALE: ":warning: Stopped — the figures changed",
    JobState.FAILED: ":x: Failed",
    JobState.UNDONE: ":leftwards_arrow_with_hook: Undone — the application was reversed",
    JobState.UNDOING: ":leftwards_arrow_with_hook: Reversing in QuickBooks",
    JobState.AWAITING_BATCH_SYNC: ":ledger: Recorded; waiting for the sweep's sync",
    JobState.SKIPPED: ":heavy_minus_sign: Skipped",
    JobState.AWAITING_RECONNECT: ":pause_button: Waiting for QuickBooks to be reconnected",
}
STAGE_NAME = {"autotask": "Autotask (PSA)", "connectwise": "ConnectWise (PSA)", "kaseya_bms": "Kaseya BMS (PSA)",
              "quickbooks_online": "QuickBooks Online"}


def _m(job: Job, amount) -> str:
    return fmt(amount, job.currency)


def summary(job: Job, undo: Job | None = None) -> str:
    """What the request is, worded by where it stands now (asked, applying, applied, reversed, not recorded)."""
    credit = f"{kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}"
    if job.cb_credit_id:
        credit += f" (ConnectBooster credit {esc(job.cb_credit_id)})"
    if job.kind == JobKind.RESYNC_ONLY:
        return (f"*Resync only* for {credit} of *{esc(job.client_name, NAME)}*: QuickBooks already shows it applied, so "
                "nothing is written there; ConnectBooster gets a resync and a sync.")
    what = (f"*{_m(job, job.amount)}* of {credit} to invoice *{esc(job.invoice_number, 100)}* for "
            f"*{esc(job.client_name, NAME)}*")
    who = f"<@{job.requester_id}>"
    if job.state == JobState.AWAITING_APPROVAL:
        return f"{who} asks to apply {what}."
    if job.state == JobState.UNDONE or (undo is not None and undo.applied_at):
        return f"Applied {what}, then reversed in QuickBooks by the undo (requested by {who})."
    if job.qbo_payment_id:
        return f"Applied {what} in QuickBooks (Payment {esc(job.qbo_payment_id, 50)}), requested by {who}."
    if job.state in (JobState.APPROVED, JobState.APPLYING):
        return f"Applying {what}, requested by {who}."
    if job.state == JobState.NEEDS_ATTENTION and job.resume_state == JobState.APPLYING:
        return (f"{who} asked to apply {what}; QuickBooks has not confirmed it yet (the bot looks for its own payment "
                "before it ever writes again).")
    return f"{who} asked to apply {what}; nothing was recorded in QuickBooks."


def status_label(job: Job, undo: Job | None = None) -> str:
    """The header's state: the job's own, or, while it is being undone, where the undo stands in the books."""
    if undo is None or job.state != JobState.VERIFIED:
        return STATE_LABEL.get(job.state, esc(job.state))
    reversed_ = undo.applied_at is not None  # set when QuickBooks took the reversal
    if undo.state == JobState.STALE:
        return ":white_check_mark: Done — applied and synced (an undo was refused: QuickBooks changed since)"
    if undo.state == JobState.NEEDS_ATTENTION:
        return (":warning: Reversed in QuickBooks; the undo needs attention (see the thread)" if reversed_ else
                ":warning: Undo needs attention — not reversed in QuickBooks yet")
    if reversed_:
        return ":leftwards_arrow_with_hook: Reversed in QuickBooks — bringing ConnectBooster up to date"
    return ":leftwards_arrow_with_hook: Being undone — re-reading QuickBooks"


def parent_message(job: Job, tz: str = "UTC", undo: Job | None = None) -> tuple[str, list[dict]]:
    """The approval request; buttons only while it awaits a decision. `tz`: the team's zone for fallbacks; `undo`:
    the latest undo of this application (it shares this message), so the header says where the books stand."""
    after = (job.invoice_balance_before or 0) - job.amount
    title = f"Credit application #{job.id}" if job.kind == JobKind.APPLY else f"Resync #{job.id}"
    label = status_label(job, undo)
    blocks = [section(f"*{title}* · {label}\n{summary(job, undo)}")]
    if job.kind == JobKind.APPLY:
        pairs = [("Client", esc(job.client_name, NAME)),
                 ("Credit", f"{kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}"
                            + (f" · id {esc(job.cb_credit_id)}" if job.cb_credit_id else "")),
                 ("Invoice", f"{esc(job.invoice_number, 100)} · {_m(job, job.invoice_total)} total"),
                 ("Amount", _m(job, job.amount)),
                 ("Invoice balance", f"{_m(job, job.invoice_balance_before)} → {_m(job, after)}"),
                 ("Requested by", f"<@{job.requester_id}>")]
        if job.note:
            pairs.append(("Note", esc(job.note, 500)))
        blocks.append(fields_section(pairs))
    if job.state in DECIDING:
        second = (f"1 of 2 approvals: <@{job.first_approver_id}> approved; a second approver (not them, not the "
                  "requester) decides · ") if job.first_approver_id else ""
        blocks.append(context(f"{second}Expires {when(job.expires_at, tz)} · an approver other than the requester "
                              "decides."))
        blocks.append({"type": "actions", "block_id": f"decide:{job.id}", "elements": [
            button("Approve", "approve", str(job.id), style="primary", confirm=confirm_dialog(
                "Approve this application?",
                f"Record {_m(job, job.amount)} of credit against invoice {esc(job.invoice_number, 100)} for "
                f"{esc(job.client_name, NAME)} in QuickBooks?", "Approve", style="primary")),
            button("Reject", "reject", str(job.id), style="danger"),
        ]})
    else:
        if job.state == JobState.REJECTED:
            line = f"Rejected by <@{job.approver_id}>"
        elif job.approver_id:
            line = f"Approved by <@{job.approver_id}>"
        else:
            line = STATE_LABEL.get(job.state, "")
        blocks.append(context(" · ".join(x for x in [line, "Steps in the thread"] if x)))
    text = (f"{title}: {esc(job.client_name, NAME)} {_m(job, job.amount)} to invoice {esc(job.invoice_number, 100)} — "
            f"{label.split(' ', 1)[-1]}")
    return message_text(text), blocks


def _count(n: object, plural: str) -> str:
    """'1 invoice', '3 invoices', '1 company'."""
    if n != 1:
        return f"{n} {plural}"
    return f"1 {plural[:-3] + 'y' if plural.endswith('ies') else plural.removesuffix('s')}"


def _sync_progress(d: dict) -> str:
    status, stage = d.get("status"), d.get("stage")
    if status == "active":
        return f":repeat: Sync {esc(d.get('sync_id'))}: active — {STAGE_NAME.get(stage, esc(stage or 'running'))}"
    if status == "finished":
        counts = d.get("counts") or {}
        shown = esc(", ".join(_count(v, str(k)) for k, v in counts.items() if v), 500) or "no records"
        return f":checkered_flag: Sync {esc(d.get('sync_id'))}: finished ({shown})"
    if status == "failed":
        return f":x: Sync {esc(d.get('sync_id'))}: failed — {esc(d.get('error') or 'no reason given', 2000)}"
    return f":repeat: Sync {esc(d.get('sync_id'))}: {esc(status, 200)}"


def reply_for(job: Job, event: Event) -> tuple[str, list[dict]] | None:
    """The thread reply for one event, or None when the event is not shown in the thread."""
    d = event.details
    kind = event.kind
    if kind == EventKind.APPROVED:
        text = f":white_check_mark: Approved by <@{event.actor}>. Re-reading the figures in QuickBooks…"
    elif kind == EventKind.AWAITING_SECOND_APPROVAL:
        text = (f":white_check_mark: 1 of 2 approvals: <@{event.actor}> approved. Above this amount a second approver "
                "(not them, not the requester) has to approve too; nothing is recorded before that.")
    elif kind == EventKind.REJECTED:
        text = f":x: Rejected by <@{event.actor}>. Nothing was recorded."
    elif kind == EventKind.CANCELLED:
        text = f":leftwards_arrow_with_hook: Withdrawn by <@{event.actor}>. Nothing was recorded."
    elif kind == EventKind.EXPIRED:
        text = ":hourglass: This request expired without a decision; nothing was recorded."
    elif kind == EventKind.STALE:
        problems = "; ".join(esc(p, 500) for p in d.get("problems", []))
        text = (f":warning: Stopped before writing anything: {problems}. Now the invoice balance is "
                f"{_m(job, d.get('invoice_balance'))} and the credit has {_m(job, d.get('credit_remaining'))} left. "
                "Start a new request with `/applycredit` if it still applies.")
    elif kind == EventKind.APPLIED:
        text = (f":ledger: Recorded in QuickBooks: Payment *{esc(d.get('payment_id'), 50)}* applies *{_m(job, job.amount)}* "
                f"of {kind_label(job.credit_kind)} #{esc(job.credit_number, 100)} to invoice *{esc(job.invoice_number, 100)}*. "
                f"Invoice balance {_m(job, d.get('balance_before'))} → {_m(job, d.get('balance_after'))} "
                "(re-read from QuickBooks).")
    elif kind == EventKind.RESYNCED:
        text = (f":arrows_counterclockwise: ConnectBooster invoice {esc(job.invoice_number, 100)} resynced: "
                f"*{_m(job, d.get('after'))} of {_m(job, d.get('total') or job.invoice_total)}*.")
    elif kind == EventKind.RESYNC_SKIPPED:
        text = f":arrows_counterclockwise: {esc(d.get('reason'), 2000)}."
    elif kind == EventKind.SYNC_REQUESTED:
        joined = " (joined the sync that was already running)" if d.get("attached") else ""
        text = (f":repeat: Sync {esc(d.get('sync_id'))} requested from {esc(d.get('sync_from'), 100)}{joined}: "
                f"{esc(d.get('status'), 200)}.")
    elif kind == EventKind.SYNC_PROGRESS:
        text = _sync_progress(d)
    elif kind in UNDO_EVENTS or (kind == EventKind.VERIFIED and job.kind == JobKind.UNDO):
        return _undo_reply(job, event)
    elif kind == EventKind.VERIFIED:
        shown = _m(job, d.get("cb_balance")) if d.get("cb_balance") else "the same balance"
        credit = f"credit {esc(job.cb_credit_id)}" if job.cb_credit_id else "the credit"
        text = (f":white_check_mark: Verified: {credit} no longer shows in ConnectBooster and invoice "
                f"{esc(job.invoice_number, 100)} shows {shown} there, matching QuickBooks.")
        if job.kind == JobKind.APPLY:  # approvers may reverse it (the click checks who, and the undo window)
            return message_text(text), [section(text), {"type": "actions", "block_id": f"undo:{job.id}", "elements": [
                button("Undo", "job_undo", str(job.id), confirm=confirm_dialog(
                    "Undo this application?", f"Reverse {_m(job, job.amount)} of credit on invoice "
                    f"{esc(job.invoice_number, 100)} in QuickBooks, then resync ConnectBooster?", "Undo",
                    style="danger"))]}]
    elif kind == EventKind.NEEDS_ATTENTION:
        text = f":warning: {esc(d.get('message'), 1500)}"
        blocks = [section(text), context(warning_lines(job, d))]
        if d.get("retryable"):
            blocks.append(_retry_button(job, event, d.get("action")))
        return message_text(text), blocks
    elif kind == EventKind.SYNC_UNSTUCK:
        if d.get("status") == "finished":
            text = f":checkered_flag: Sync {esc(d.get('sync_id'))}, the stuck one, finished after all: verifying now."
            return message_text(text), [section(text)]
        text = (f":arrows_counterclockwise: Sync {esc(d.get('sync_id'))} has ended ({esc(d.get('status'))}"
                f"{': ' + esc(d.get('error'), 500) if d.get('error') else ''}). ConnectBooster accepts a new sync now: "
                "*Sync again* starts one (it writes nothing to QuickBooks).")
        return message_text(text), [section(text), _retry_button(job, event, "sync_again")]
    elif kind == EventKind.RETRY:
        text = f":leftwards_arrow_with_hook: <@{event.actor}> retried; resuming."
    elif kind in (EventKind.AWAITING_RECONNECT, EventKind.RESUMED_AFTER_RECONNECT):
        return connection_reply(job, event)
    elif kind == EventKind.REAPPROVAL_REQUESTED:
        item = f"Item of sweep #{esc(d.get('sweep'))}: " if d.get("sweep") else ""
        text = (f":hourglass: {item}nothing was written: it was {esc(d.get('reason'), 300)}, so it needs a fresh "
                f"approval. QuickBooks shows the invoice at {_m(job, d.get('invoice_balance'))} and the credit at "
                f"{_m(job, d.get('credit_remaining'))} now; an approver other than the requester decides above.")
    else:
        return None
    return message_text(text), [section(text)]


def _retry_button(job: Job, event: Event, action: str | None) -> dict:
    label = "Sync again" if action == "sync_again" else "Retry"
    return {"type": "actions", "block_id": f"retry:{job.id}:{event.id}",
            "elements": [button(label, "job_retry", str(job.id), style="primary")]}


UNDO_EVENTS = (EventKind.UNDO_REQUESTED, EventKind.UNDO_REFUSED, EventKind.UNDONE_IN_QUICKBOOKS, EventKind.UNDONE)


def _undo_reply(job: Job, event: Event) -> tuple[str, list[dict]] | None:
    """Thread replies of an undo job (posted in the original application's thread)."""
    d, kind = event.details, event.kind
    credit = f"{kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}"
    if kind == EventKind.UNDO_REQUESTED:
        text = (f":leftwards_arrow_with_hook: <@{event.actor}> is undoing this application (#{esc(job.undo_of)}). "
                "Re-reading QuickBooks first…")
    elif kind == EventKind.UNDO_REFUSED:
        problems = "; ".join(esc(p, 500) for p in d.get("problems", []))
        text = (f":no_entry: Undo refused, nothing was changed in QuickBooks: {problems}. Reverse it in QuickBooks "
                "by hand if it is still wanted.")
    elif kind == EventKind.UNDONE_IN_QUICKBOOKS:
        how = (f"Payment *{esc(d.get('payment_id'), 50)}* deleted" if d.get("how") == "deleted" else
               f"Payment *{esc(d.get('payment_id'), 50)}*'s line for invoice {esc(job.invoice_number, 100)} removed (its other "
               f"lines and the cash receipt kept; {_m(job, job.amount)} unapplied again)")
        text = (f":ledger: Undone in QuickBooks: {how}. Invoice {esc(job.invoice_number, 100)} balance "
                f"{_m(job, d.get('balance_before'))} → {_m(job, d.get('balance_after'))} (re-read from QuickBooks).")
    elif kind == EventKind.VERIFIED:
        shown = _m(job, d.get("cb_balance")) if d.get("cb_balance") else "its balance"
        where = f"credit {esc(job.cb_credit_id)}" if job.cb_credit_id else credit
        text = (f":white_check_mark: Undo verified: {where} shows again in ConnectBooster ({_m(job, d.get('credit_remaining'))} "
                f"open) and invoice {esc(job.invoice_number, 100)} shows {shown} there, matching QuickBooks.")
    else:
        return None
    return message_text(text), [section(text)]


def notice(job: Job, permalink: str | None) -> tuple[str, list[dict]]:
    """The completion notice for NOTIFY_CHANNEL."""
    link = f" · <{permalink}|View thread>" if permalink else ""
    if job.kind == JobKind.UNDO:
        text = (f":leftwards_arrow_with_hook: Credit application #{esc(job.undo_of)} for *{esc(job.client_name, NAME)}* undone: "
                f"*{_m(job, job.amount)}* back on {kind_label(job.credit_kind)} #{esc(job.credit_number, 100)}, invoice "
                f"*{esc(job.invoice_number, 100)}* open again, by <@{job.approver_id}>{link}")
        return message_text(text), [section(text)]
    if job.kind == JobKind.RESYNC_ONLY:
        text = (f":white_check_mark: ConnectBooster resynced for *{esc(job.client_name, NAME)}*: credit {esc(job.cb_credit_id)} "
                f"is gone. Requested by <@{job.requester_id}>{link}")
    else:
        text = (f":white_check_mark: Credit applied for *{esc(job.client_name, NAME)}*: *{_m(job, job.amount)}* to invoice "
                f"*{esc(job.invoice_number, 100)}*, requested by <@{job.requester_id}>, approved by <@{job.approver_id}>{link}")
    return message_text(text), [section(text)]
