"""The daily digest message: a pure function of the gathered data and the clock."""
from __future__ import annotations

from datetime import datetime

from messages.blocks.common import (
    context,
    esc,
    fmt,
    header,
    kind_label,
    message_text,
    section,
)
from messages.blocks.times import human_date, to_datetime, when, zone
from workflow.digest import DigestData, parse_time

LISTED = 10


def age(then: datetime | None, now: datetime) -> str:
    """'just now', '25 min', '2 h 5 min', '3 days'."""
    if then is None:
        return "an unknown time"
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{minutes // (24 * 60)} days"


def _money_totals(data: DigestData) -> str:
    return " + ".join(fmt(v, cur) for cur, v in sorted(data.totals.items())) or "$0.00"


def _credits_line(data: DigestData, now: datetime) -> str:
    n = len(data.credits)
    if not n:
        line = f"*Open credits:* none in {data.source}."
    else:
        o = data.oldest
        dated = to_datetime(o.date) if o else None  # from ConnectBooster: may be anything
        days = (now.date() - dated.date()).days if dated else 0
        line = (f"*Open credits:* {n} · {_money_totals(data)} · oldest: credit {esc(o.ref)} ({kind_label(o.kind)} "
                f"#{esc(o.number, 40)}, {fmt(o.remaining, o.currency)}) of *{esc(o.client, 200)}*, dated {esc(o.date, 40)} "
                f"({days} day{'s' if days != 1 else ''} old)")
    if data.unreadable:
        line += f"\n:warning: Couldn't read: {esc(', '.join(data.unreadable[:10]), 500)}."
    return line


def _attention_line(data: DigestData) -> str:
    if not data.attention and not data.checklists:
        return "*Needs attention:* nothing."
    rows = [f"• #{j.id} *{esc(j.client_name, 200)}* — {esc(j.error or 'see its thread', 200)}"
            for j in data.attention[:LISTED]]
    more = f"\n…and {len(data.attention) - LISTED} more." if len(data.attention) > LISTED else ""
    # Guided mode: a sweep's one ConnectBooster checklist left unconfirmed for a day.
    rows += [checklist_row(b) for b in data.checklists[:LISTED]]
    return f"*Needs attention:* {_attention_count(data)}\n" + "\n".join(rows) + more


def checklist_row(batch) -> str:
    """A guided sweep whose ConnectBooster checklist has waited a day (digest and App Home)."""
    return (f"• Sweep #{batch.id} — its ConnectBooster checklist ({len(batch.plan)} applications) has waited a day "
            f"for *All done*; <@{batch.requester_id}> proposed it")


def _attention_count(data: DigestData) -> str:
    jobs = f"{len(data.attention)} job{'s' if len(data.attention) != 1 else ''}"
    if not data.checklists:
        return jobs
    return f"{jobs}, {len(data.checklists)} sweep checklist{'s' if len(data.checklists) != 1 else ''}"


def _sync_line(data: DigestData, now: datetime) -> str:
    run = data.last_sync
    if run is None and data.source != "ConnectBooster":
        return "*ConnectBooster syncs:* run in the portal by a person (guided mode): the bot sees none."
    if run is None:
        return "*Last ConnectBooster sync:* none recorded."
    when = parse_time(run.finished_at or run.started_at or run.requested_at)
    status = {"finished": "finished", "failed": "failed", "active": "running", "pending": "waiting to start"}.get(
        run.status, esc(run.status, 100))
    error = f": {esc(run.error, 300)}" if run.error else ""
    icon = ":x:" if run.status == "failed" else ":repeat:"
    return f"*Last ConnectBooster sync:* {icon} #{esc(run.id)} ({esc(run.trigger, 100)}) {status} {age(when, now)} ago{error}"


def _completed_line(data: DigestData, tz: str) -> str:
    since = when(data.since, tz)
    applied = [j for j in data.completed if j.kind == "apply"]
    resynced = [j for j in data.completed if j.kind != "apply"]
    if not data.completed:
        return f"*Done since {since}:* nothing."
    totals: dict[str, object] = {}
    for j in applied:
        totals[j.currency] = totals.get(j.currency, 0) + j.amount
    money = " + ".join(fmt(v, c) for c, v in sorted(totals.items()))
    head = f"*Done since {since}:* {len(applied)} application{'s' if len(applied) != 1 else ''}"
    head += f" ({money})" if applied else ""
    head += f", {len(resynced)} resync{'s' if len(resynced) != 1 else ''} only" if resynced else ""
    rows = []
    for j in data.completed[:LISTED]:
        what = (f"{fmt(j.amount, j.currency)} to invoice {esc(j.invoice_number, 40)}" if j.kind == "apply"
                else f"resync of credit {esc(j.cb_credit_id)}")
        rows.append(f"• #{j.id} *{esc(j.client_name, 200)}* — {what}")
    more = f"\n…and {len(data.completed) - LISTED} more." if len(data.completed) > LISTED else ""
    return head + "\n" + "\n".join(rows) + more


def digest_message(data: DigestData, now: datetime, tz: str = "UTC") -> tuple[str, list[dict]]:
    """(fallback text, blocks) for NOTIFY_CHANNEL."""
    blocks = [header(f"Credit digest — {human_date(now, tz)}"),
              section(_credits_line(data, now.astimezone(zone(tz)))),
              section(_attention_line(data)),
              section(_sync_line(data, now)),
              section(_completed_line(data, tz)),
              context(f"`/applycredit inbox` lists every open credit and why it is still showing · "
                      f"{when(now, tz)}")]
    sync = data.last_sync
    text = (f"Credit digest: {len(data.credits)} open credit{'s' if len(data.credits) != 1 else ''} "
            f"({_money_totals(data)}), {_attention_count(data)} needing attention, last sync "
            f"{esc(sync.status, 100) if sync else 'unknown'}, {len(data.completed)} done since the last digest.")
    return message_text(text), blocks
