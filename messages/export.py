"""The history and the month-end export as files and tables: a readable table, CSV and JSON for machines.

Names are the ones Slack sent (data/people.py); times and dates are the team's (TEAM_TIMEZONE). A cell that a
spreadsheet would run as a formula (=, +, -, @ first) is prefixed with an apostrophe (OWASP's advice for CSV).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from data.jobs import Job
from data.states import JobKind, JobState
from messages.blocks.times import to_datetime, zone
from messages.history import Line
from workflow.history import Story, approvers, booked_on

Names = Callable[[str | None], str]
HEADER = ("When", "Job", "Who", "What happened")
EXPORT_COLUMNS = ("date", "kind", "job", "sweep", "client", "credit kind", "credit number", "invoice", "amount",
                  "currency", "requester", "approvers", "QuickBooks payment id", "ConnectBooster sync id", "outcome")
KIND = {JobKind.APPLY: "application", JobKind.RESYNC_ONLY: "resync", JobKind.UNDO: "undo"}
OUTCOME = {
    JobState.VERIFIED: "applied; QuickBooks and ConnectBooster agree", JobState.UNDONE: "applied, then undone",
    JobState.REJECTED: "rejected: nothing recorded", JobState.CANCELLED: "withdrawn: nothing recorded",
    JobState.EXPIRED: "expired: nothing recorded", JobState.STALE: "stopped: the figures changed, nothing recorded",
    JobState.FAILED: "failed: nothing recorded", JobState.SKIPPED: "skipped: nothing recorded",
    JobState.NEEDS_ATTENTION: "needs attention", JobState.AWAITING_APPROVAL: "awaiting approval",
}


def local(at: str, tz: str) -> str:
    """'2026-12-07 10:31' in the team's zone."""
    moment = to_datetime(at)
    return f"{moment.astimezone(zone(tz)):%Y-%m-%d %H:%M}" if moment else at


def table(lines: list[Line], name: Names, tz: str) -> str:
    """The history as aligned columns for a terminal."""
    rows = [(f"{HEADER[0]} ({tz})", *HEADER[1:])] + [(local(x.at, tz), x.subject, name(x.actor), x.what)
                                                      for x in lines]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join([*(r[i].ljust(widths[i]) for i in range(3)), r[3]]).rstrip() for r in rows)


def safe(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_csv(header: tuple[str, ...], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([tuple(safe(c) for c in row) for row in rows])
    return out.getvalue()


def history_csv(lines: list[Line], name: Names, tz: str) -> str:
    return to_csv((f"when ({tz})", "job", "who", "what happened"),
                  [(local(x.at, tz), x.subject, name(x.actor), x.what) for x in lines])


def history_json(lines: list[Line], name: Names, tz: str) -> str:
    return json.dumps([{"at": x.at, "when": local(x.at, tz), "subject": x.subject, "who": name(x.actor),
                        "who_id": x.actor, "what": x.what, "kind": x.kind, "details": x.details} for x in lines],
                      indent=1, default=str)


def outcome(job: Job) -> str:
    if job.kind == JobKind.UNDO and job.state == JobState.VERIFIED:
        return "reversed; QuickBooks and ConnectBooster agree"
    if job.kind == JobKind.RESYNC_ONLY and job.state == JobState.VERIFIED:
        return "resynced; ConnectBooster matches QuickBooks"
    return OUTCOME.get(job.state, f"in progress ({JobState(job.state).label})")


def export_row(story: Story, name: Names, tz: str, batches=None) -> tuple:
    job = story.job
    credit = {"credit_memo": "credit memo", "unapplied_payment": "unapplied payment"}.get(job.credit_kind,
                                                                                        job.credit_kind)
    return (booked_on(job, tz).isoformat(), KIND.get(job.kind, job.kind), job.id, job.batch_id or "",
            job.client_name, credit, job.credit_number or "", job.invoice_number, f"{job.amount:.2f}", job.currency,
            name(job.requester_id), "; ".join(name(a) for a in approvers(story, batches)),
            job.qbo_payment_id or "", job.sync_id or "", outcome(job))


def month_csv(stories: list[Story], name: Names, tz: str, batches=None) -> str:
    """Every application, resync and undo of the month, one row each, oldest day first."""
    rows = sorted((export_row(s, name, tz, batches) for s in stories), key=lambda r: (r[0], r[2]))
    return to_csv(EXPORT_COLUMNS, rows)
