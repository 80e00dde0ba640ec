"""The runner's only way to speak: it hands over a job and its events; the Slack edge decides the words."""
from __future__ import annotations

from typing import Protocol

from data.jobs import Event, Job


class Notifier(Protocol):
    def publish(self, job: Job, events: list[Event]) -> None:
        """Make sure every user-visible event of the job is (or will be) shown; idempotent per event."""
