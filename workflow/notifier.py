"""The domain's only way to speak: it hands over a job (or a sweep) and what happened; the Slack edge decides the
words and when they go out (messages/notifier.py)."""
from __future__ import annotations

from typing import Any, Protocol

from data.batches import Batch
from data.jobs import Event, Job


class Notifier(Protocol):
    def publish(self, job: Job, events: list[Event], related: Job | None = None) -> None:
        """Make sure every user-visible event of the job is (or will be) shown; idempotent per event. `related`:
        an undo's application, or an application's latest undo (they share one message, whose header shows both)."""

    def publish_batch(self, batch: Batch, items: list[Job], reasons: dict[int, str], undo: Any = None) -> None:
        """Show a sweep's state on its message (and, once finished, its summary and notice); idempotent. `undo`:
        its undo's jobs and, once undone, why items were not (workflow/sweep_controls.UndoView)."""

    def publish_plan(self, batch: Batch) -> None:
        """A sweep's whole plan where its approver looks (in its thread when its message shows only part of it)."""

    def batch_reply(self, batch: Batch, event: int, kind: str, who: str, **details: Any) -> None:
        """A reply in a sweep's thread for one audit event (a guided checklist's answer or reminder)."""

    def retire_copy(self, job: Job, ts: str) -> None:
        """An earlier copy of the job's message (sent again after a crash) loses its buttons."""
