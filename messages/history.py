"""The audit trail in people's words: what happened, by whom, when (`bot.py history`, `/applycredit history`).

`describe` words one event in plain text (no Slack markup, no user ids: the reader's side adds the name), or
None for the bot's bookkeeping (keys stored, messages posted). Money, invoice and credit numbers are the ones
people see in QuickBooks; internal record ids never show.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from data.events import EventKind as K
from data.jobs import Event, Job
from data.states import JobKind
from workflow.history import Story
from workflow.money import fmt


def _credit(job: Job) -> str:
    kind = {"credit_memo": "credit memo", "unapplied_payment": "unapplied payment"}.get(job.credit_kind, "credit")
    return f"{kind} #{job.credit_number or '?'}"


def _request(job: Job) -> str:
    if job.kind == JobKind.RESYNC_ONLY:
        return f"asked to resync {_credit(job)} for {job.client_name} (already applied in QuickBooks)"
    return (f"asked to apply {fmt(job.amount, job.currency)} of {_credit(job)} to invoice {job.invoice_number} "
            f"for {job.client_name}")


def _money(job: Job, value) -> str:
    return fmt(value, job.currency) if value not in (None, "", "None") else "?"


SIMPLE = {
    K.APPROVED: "approved", K.REJECTED: "rejected it; nothing was recorded", K.EXPIRED: "expired without a decision",
    K.CANCELLED: "withdrew it; nothing was recorded", K.RETRY: "pressed Retry / Sync again",
    K.REAPPROVAL_REQUESTED: "asked for a fresh approval (the first one had lapsed)",
    K.RESYNC_SKIPPED: "skipped the invoice resync (the sync brings it)",
    K.WAITING_FOR_SWEEP_SYNC: "recorded; waiting for the sweep's one sync",
    K.GUIDED_RESYNCED: "confirmed the invoice was resynced in ConnectBooster",
    K.GUIDED_SYNC_STARTED: "confirmed the ConnectBooster sync was started",
    K.GUIDED_SYNC_FINISHED: "confirmed the ConnectBooster sync finished",
    K.GUIDED_SYNC_FAILED: "reported the ConnectBooster sync failed",
    K.GUIDED_CREDIT_STILL_SHOWS: "reported the credit still shows in ConnectBooster",
    K.GUIDED_MISMATCH: "reported a mismatch in ConnectBooster", K.SKIPPED: "skipped (an earlier item did not complete)",
}


def describe(event: Event, job: Job | None) -> str | None:
    """One event in plain words, or None for bookkeeping nobody needs to read."""
    d, kind = event.details, event.kind
    if job is None:
        return _sweep(event)
    if kind in (K.REQUESTED, K.RESYNC_ONLY_REQUESTED):
        return _request(job)
    if kind == K.SWEEP_ITEM:
        return f"sweep #{d.get('batch')} item: {fmt(job.amount, job.currency)} of {_credit(job)} to invoice " \
               f"{job.invoice_number} for {job.client_name}"
    if kind == K.UNDO_REQUESTED:
        return f"asked to undo application #{job.undo_of} ({fmt(job.amount, job.currency)} on invoice " \
               f"{job.invoice_number})"
    if kind in SIMPLE:
        return SIMPLE[kind]
    if kind == K.STALE:
        return "stopped before writing: " + "; ".join(d.get("problems") or ["the figures changed"])
    if kind == K.APPLIED:
        return (f"recorded in QuickBooks: Payment {d.get('payment_id')}, invoice {job.invoice_number} "
                f"{_money(job, d.get('balance_before'))} → {_money(job, d.get('balance_after') or d.get('expected'))}")
    if kind == K.UNDONE_IN_QUICKBOOKS:
        return (f"reversed in QuickBooks (Payment {d.get('payment_id')}), invoice {job.invoice_number} "
                f"{_money(job, d.get('balance_before'))} → {_money(job, d.get('balance_after'))}")
    if kind == K.UNDO_REFUSED:
        return "undo refused, nothing changed: " + "; ".join(d.get("problems") or [])
    if kind == K.RESYNCED:
        return f"resynced invoice {job.invoice_number} in ConnectBooster: {_money(job, d.get('after'))} of " \
               f"{_money(job, d.get('total') or job.invoice_total)}"
    if kind == K.SYNC_REQUESTED:
        return f"ConnectBooster sync {d.get('sync_id')} requested (from {d.get('sync_from') or '?'})"
    if kind == K.SYNC_PROGRESS and d.get("status") in ("finished", "failed"):
        return f"ConnectBooster sync {d.get('sync_id')} {d.get('status')}"
    if kind == K.VERIFIED:
        return "verified: ConnectBooster matches QuickBooks" + (" (undo complete)" if job.kind == JobKind.UNDO else "")
    if kind == K.UNDONE:
        return "undone: the application is reversed in QuickBooks and ConnectBooster"
    if kind == K.NEEDS_ATTENTION:
        return f"needs attention: {d.get('message', '')}"
    if kind in (K.SYNC_STUCK, K.SYNC_UNSTUCK):
        return d.get("summary")
    if str(kind).startswith("refused_"):
        return f"was refused ({str(kind).removeprefix('refused_').replace('_', ' ')}): {d.get('reason', '')}"
    return None


def _sweep(event: Event) -> str | None:
    d, kind, n = event.details, event.kind, event.details.get("batch")
    words = {K.SWEEP_REQUESTED: f"proposed sweep #{n}: {d.get('items')} applications, {d.get('total')} in all",
             K.SWEEP_APPROVED: f"approved sweep #{n}", K.SWEEP_REJECTED: f"rejected sweep #{n}",
             K.SWEEP_CANCELLED: f"withdrew sweep #{n}", K.SWEEP_GUIDED_CONFIRMED: f"confirmed sweep #{n}'s checklist",
             K.SWEEP_CLIENTS_LEFT_OUT: f"left {', '.join(d.get('clients') or [])} out of sweep #{n}",
             K.SWEEP_UNDO_REQUESTED: f"asked to undo sweep #{n} ({d.get('items')} applications)",
             K.SWEEP_UNDONE: d.get("summary")}
    return words.get(kind)


@dataclass(frozen=True)
class Line:
    """One readable entry: when (stored UTC stamp), which job or sweep, who (a user id or 'bot'), what."""

    at: str
    subject: str
    actor: str
    what: str
    kind: str
    details: dict = field(default_factory=dict, compare=False)  # the raw event, for --json


def lines(stories: list[Story], sweep_events: list[Event] = ()) -> list[Line]:
    """Every readable entry of these jobs (and sweeps), oldest first."""
    found = [Line(e.at, f"#{s.job.id}", e.actor or "bot", what, str(e.kind), e.details)
             for s in stories for e in s.events if (what := describe(e, s.job))]
    found += [Line(e.at, f"sweep #{e.details.get('batch')}", e.actor or "bot", what, str(e.kind), e.details)
              for e in sweep_events if (what := describe(e, None))]
    return sorted(found, key=lambda line: line.at)
