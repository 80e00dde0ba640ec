"""Warnings: what was already done, what a person can do now, what happens if nobody acts; the alert in
NOTIFY_CHANNEL, and the same alert once its job settled (resolved, by whom, when)."""
from __future__ import annotations

from data.jobs import Job
from data.states import JobKind, JobState
from messages.blocks.common import context, esc, fmt, message_text, section
from messages.blocks.times import when

NAME = 300


def _m(job: Job, amount) -> str:
    return fmt(amount, job.currency)


def already_done(job: Job) -> str:
    """What the books hold now, for a warning: recorded (and where), unknown, or nothing."""
    if job.kind == JobKind.UNDO:
        return ("QuickBooks: the application is reversed." if job.applied_at else
                "Nothing was changed in QuickBooks by the undo yet.")
    if job.qbo_payment_id:
        synced = " ConnectBooster: the invoice was resynced." if job.cb_resync_id else ""
        return (f"QuickBooks: Payment {esc(job.qbo_payment_id, 50)} applies {_m(job, job.amount)} to invoice "
                f"{esc(job.invoice_number, 100)}, recorded once.{synced}")
    if job.resume_state == JobState.APPLYING:
        return ("QuickBooks has not said whether it recorded the payment; the bot looks for its own payment "
                "before it ever writes again.")
    return "Nothing was recorded in QuickBooks."


def warning_lines(job: Job, d: dict) -> str:
    """Every warning: what was already done, what you can do now, what happens if nobody does anything."""
    if d.get("can"):
        can = esc(d["can"], 900)
    elif d.get("retryable") and d.get("action") == "sync_again":
        can = "*Sync again* (an approver or the requester) runs the ConnectBooster sync again; it writes nothing to QuickBooks."
    elif d.get("retryable"):
        can = ("*Retry* (an approver other than the requester) re-checks QuickBooks first and never records the "
               "payment twice.")
    else:
        can = ("Fix the cause above in QuickBooks or ConnectBooster; if the application is still wanted, request it "
               "again with `/applycredit <client>`.")
    idle = esc(d["idle"], 600) if d.get("idle") else (
        "It waits here and is listed under *Needs attention* in the App Home and the daily digest; nothing more is "
        "changed." + (" QuickBooks is already right; ConnectBooster shows the old figures until a sync runs."
                      if job.qbo_payment_id and job.kind != JobKind.UNDO else ""))
    return f"*Already done:* {already_done(job)}\n*You can:* {can}\n*If nobody acts:* {idle}"


def alert(job: Job, message: str, permalink: str | None, details: dict | None = None) -> tuple[str, list[dict]]:
    link = f" · <{permalink}|View thread>" if permalink else ""
    text = f":rotating_light: Job #{job.id} for *{esc(job.client_name, NAME)}* needs attention: {esc(message)}{link}"
    return message_text(text), [section(text), context(warning_lines(job, details or {"message": message}))]


def alert_resolved(job: Job, r: dict, permalink: str | None, tz: str = "UTC") -> tuple[str, list[dict]]:
    """The alert, updated once its job settled: what the alert said (struck through), how it ended, by whom, when."""
    link = f" · <{permalink}|View thread>" if permalink else ""
    by = f" after <@{esc(r.get('by'), 40)}> pressed Retry / Sync again" if r.get("by") else " by itself"
    if r.get("state") == JobState.VERIFIED:
        how = f":white_check_mark: *Resolved* {when(r.get('at'), tz)}{by}: job #{job.id} is verified"
    else:
        how = (f":heavy_minus_sign: *Closed* {when(r.get('at'), tz)}{by}: job #{job.id} ended "
               f"{JobState(r.get('state') or job.state).label}")
    text = (f"{how} ({esc(job.client_name, NAME)}). It had needed attention: "
            f"~{esc(r.get('message') or '', 1500)}~{link}")
    return message_text(text), [section(text)]
