"""`/applycredit history` as an ephemeral Slack message, and the comment of the month's export file.

Each line: when (Slack shows it in the reader's zone), the job, who (a mention: Slack shows the name), what.
Slack allows 50 blocks of 3,000 characters: the newest lines that fit are shown, and the rest counted.
"""
from __future__ import annotations

from decimal import Decimal

from data.states import JobState
from messages.blocks.common import context, esc, message_text, section
from messages.blocks.times import when
from messages.history import Line
from workflow.money import fmt

MAX_SECTIONS = 45
SECTION_BUDGET = 2800


def _who(actor: str) -> str:
    return "applycredit" if actor in ("bot", "", None) else f"<@{esc(actor, 40)}>"


def _line(x: Line, tz: str) -> str:
    return f"• {when(x.at, tz)} · *{esc(x.subject, 40)}* · {_who(x.actor)} {esc(x.what, 600)}"


def history_message(lines: list[Line], query: str, tz: str) -> tuple[str, list[dict]]:
    """The newest lines that fit, oldest first, under a title saying what was asked."""
    about = f" for *{esc(query, 200)}*" if query else " (the latest requests)"
    if not lines:
        text = f"No history{about}: nothing matches. Try `#<job number>`, an invoice number or part of a client's name."
        return message_text(text), [section(text)]
    sections: list[list[str]] = [[]]
    used, shown = 0, 0
    for x in reversed(lines):
        entry = _line(x, tz)
        if used + len(entry) > SECTION_BUDGET:
            if len(sections) == MAX_SECTIONS:
                break
            sections.append([])
            used = 0
        sections[-1].insert(0, entry)
        used += len(entry) + 1
        shown += 1
    title = f":mag: *History{about}* · {shown} of {len(lines)} entries, only you can see this"
    blocks = [section(title)] + [section("\n".join(s)) for s in reversed(sections) if s]
    if shown < len(lines):
        blocks.append(context(f"{len(lines) - shown} earlier entries are not shown: `python bot.py history` on the "
                              "bot's server prints them all, and `/applycredit export YYYY-MM` sends a month as CSV."))
    return message_text(f"History{about}: {shown} entries"), blocks


def export_comment(month: str, stories, tz: str) -> str:
    """The file's comment: what is in it, in numbers a finance lead checks against the books."""
    applied = [s.job for s in stories if s.job.qbo_payment_id and s.job.kind == "apply"
               and s.job.state in (JobState.VERIFIED, JobState.UNDONE, JobState.NEEDS_ATTENTION)]
    by_currency: dict[str, Decimal] = {}
    for job in applied:
        by_currency[job.currency] = by_currency.get(job.currency, Decimal(0)) + job.amount
    totals = ", ".join(fmt(v, c) for c, v in sorted(by_currency.items())) or "nothing"
    return (f"applycredit, {month}: {len(stories)} applications, resyncs and undos (dates in {tz}); "
            f"{len(applied)} recorded in QuickBooks for {totals} (undone ones included, marked in the outcome).")
