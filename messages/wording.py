"""How a job's messages are worded: API mode's words (blocks/job.py); guided mode's subclass is in blocks/guided.py.

The notifier and the deliverer look a job's wording up by its stored mode (`Wordings`), so a job is always
worded the way it was done, whatever mode the bot runs in now.
"""
from __future__ import annotations

from collections.abc import Mapping

from data.jobs import Event, Job
from data.states import Mode
from messages.blocks import alerts
from messages.blocks import job as job_blocks

Message = tuple[str, list[dict]]


class Wording:
    """API mode's words for a job's request message, thread replies, completion notice and alert."""

    def __init__(self, tz: str = "UTC") -> None:
        self.tz = tz

    def parent(self, job: Job, events: list[Event], undo: Job | None = None) -> Message:
        return job_blocks.parent_message(job, self.tz, undo)

    def reply(self, job: Job, event: Event) -> Message | None:
        return job_blocks.reply_for(job, event)

    def notice(self, job: Job, details: dict, permalink: str | None) -> Message:
        return job_blocks.notice(job, permalink)

    def alert(self, job: Job, message: str, permalink: str | None, details: dict | None = None) -> Message:
        return alerts.alert(job, message, permalink, details)

    def alert_resolved(self, job: Job, resolution: dict, permalink: str | None) -> Message:
        return alerts.alert_resolved(job, resolution, permalink, self.tz)


class Wordings:
    """The wording of each mode; `of(job)` is the one the job was done in."""

    def __init__(self, by_mode: Mapping[Mode, Wording]) -> None:
        self.by_mode = dict(by_mode)

    def of(self, job: Job) -> Wording:
        return self.by_mode.get(job.mode) or self.by_mode[Mode.API]
