"""What happened, read back from the audit trail: the jobs a person asks about, and a month's jobs for the export.

Who may ask is the policy's (`history` and `export`: approvers); how it is worded is messages/history.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from data.batches import BatchStore
from data.events import EventKind
from data.jobs import Event, Job, JobStore, stamp
from data.states import JobKind
from workflow.declined import Declined

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
RECENT = 20  # jobs shown when the question names none


class BadQuestion(Declined):
    """A history or export request whose words do not hold up (said to the asker; nothing was read)."""


@dataclass(frozen=True)
class Story:
    """One job and its audit trail."""

    job: Job
    events: list[Event]


def find(store: JobStore, query: str) -> list[Job]:
    """`#12` (or `12`): that job, its undo, the application it undid; an invoice number or part of a client's name:
    their jobs; nothing: the latest ones. Oldest first."""
    text = query.strip()
    number = text.removeprefix("#")
    if not text:
        jobs = store.all(limit=RECENT)
    elif number.isdigit() and (text.startswith("#") or store.get(int(number)) is not None):
        job = store.get(int(number))
        if job is None:
            raise BadQuestion(f"There is no job #{number}.")
        related = {job.id: job}
        if job.undo_of:
            original = store.get(job.undo_of)
            related.update({original.id: original} if original else {})
        related.update({j.id: j for j in store.all(limit=100000) if j.undo_of in related})
        jobs = list(related.values())
    else:
        jobs = store.matching(text)
    return sorted(jobs, key=lambda j: j.id)


def stories(store: JobStore, jobs: list[Job]) -> list[Story]:
    return [Story(job, store.events(job.id)) for job in jobs]


def month_range(month: str, tz: str = "UTC") -> tuple[date, date]:
    """The first day of `YYYY-MM` and of the next month (raises BadQuestion)."""
    found = MONTH.match(month.strip())
    if not found:
        raise BadQuestion(f"Give the month as YYYY-MM, e.g. `export {date.today():%Y-%m}`; nothing was exported.")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def booked_on(job: Job, tz: str) -> date:
    """The day that counts for month-end, in the team's zone: the QuickBooks write's, else the request's."""
    moment = datetime.fromisoformat((job.applied_at or job.created_at).replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(tz or "UTC")).date()


def month_jobs(store: JobStore, month: str, tz: str) -> list[Job]:
    """Every application, resync and undo whose day (booked_on) falls in `month`, in the team's zone."""
    first, after = month_range(month, tz)
    start = datetime.combine(first - timedelta(days=1), time(), UTC)  # a day of slack each side: the zones
    end = datetime.combine(after + timedelta(days=1), time(), UTC)
    return [j for j in store.touched_between(stamp(start), stamp(end)) if first <= booked_on(j, tz) < after]


def approvers(story: Story, batches: BatchStore | None = None) -> list[str]:
    """Everyone who approved: the approval clicks (a lapsed approval asked again has two), the sweep's approver."""
    found = [e.actor for e in story.events if e.kind == EventKind.APPROVED and e.actor not in (None, "bot")]
    if story.job.batch_id and story.job.kind != JobKind.UNDO and batches is not None:  # the sweep's approval
        batch = batches.get(story.job.batch_id)
        found += [batch.approver_id] if batch and batch.approver_id else []
    found += [story.job.approver_id] if story.job.approver_id else []
    return list(dict.fromkeys(found))


def sweep_events(store: JobStore) -> list[Event]:
    """The sweeps' own events (job_id NULL): proposed, approved, rejected, left out, undone."""
    return [e for e in store.events() if e.job_id is None]
