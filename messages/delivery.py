"""What a queued row becomes on the wire: the arguments only Slack's earlier answers tell (a thread's ts, an
alert's ts), and the words of notices and alerts, made at delivery with the thread's permalink in the job's mode.

Pure of the loop's rules (order, pacing, retries: messages/deliverer.py); each step is asked of a row in turn.
"""
from __future__ import annotations

from dataclasses import dataclass

from data.outbox import Outbox, OutboxItem, Target

BATCH_TARGETS = (Target.BATCH_PARENT, Target.BATCH_UPDATE, Target.BATCH_THREAD)


@dataclass
class Resolved:
    """A row ready to send (`args`), or settled without a call (`settle`: the state to mark, and why)."""

    args: dict
    job: object = None
    batch: object = None
    settle: tuple[str, str | None] | None = None


class Resolver:
    def __init__(self, outbox: Outbox, store, batches, wordings) -> None:
        self.outbox, self.store, self.batches, self.wordings = outbox, store, batches, wordings

    def resolve(self, item: OutboxItem) -> Resolved:
        """The call's arguments as far as the database tells them (no call to Slack here)."""
        args = dict(item.payload.get("args", {}))
        if item.target in BATCH_TARGETS:
            return self._batch(item, args)
        job = self.store.get(item.job_id) if item.job_id is not None and item.job_id > 0 else None
        if item.target is Target.PARENT_UPDATE:
            if job is None or not job.parent_ts:
                return Resolved(args, job, settle=("failed", "no parent message to update"))
            args["ts"] = job.parent_ts
        elif item.target is Target.THREAD and job is not None and job.parent_ts:
            args["thread_ts"] = job.parent_ts
        elif item.target is Target.ALERT_RESOLVED and job is not None:
            where = self.outbox.sent_ts(item.payload.get("alert", ""))
            if where is None:  # the alert never reached Slack (or was pruned): nothing to mark
                return Resolved(args, job, settle=("superseded", None))
            args["channel"], args["ts"] = where
        return Resolved(args, job)

    def _batch(self, item: OutboxItem, args: dict) -> Resolved:
        """A proposal's message, an update of it, or a reply in its thread (its ts is the batch's)."""
        batch = self.batches.get(-item.job_id) if self.batches is not None and item.job_id else None
        if item.target is not Target.BATCH_PARENT:
            if batch is None or not batch.parent_ts:
                return Resolved(args, batch=batch, settle=("failed", "no parent message"))
            args["ts" if item.target is Target.BATCH_UPDATE else "thread_ts"] = batch.parent_ts
        return Resolved(args, batch=batch)

    def word(self, item: OutboxItem, resolved: Resolved, permalink) -> None:
        """Notices and alerts are worded now, with the thread's permalink (`permalink(job)`), in the job's mode."""
        job, args = resolved.job, resolved.args
        if job is None or item.target not in (Target.NOTICE, Target.ALERT, Target.ALERT_RESOLVED):
            return
        words, link = self.wordings.of(job), permalink(job)
        if item.target is Target.NOTICE:
            args["text"], args["blocks"] = words.notice(job, item.payload.get("details") or {}, link)
        elif item.target is Target.ALERT:
            args["text"], args["blocks"] = words.alert(job, item.payload.get("message", ""), link,
                                                       item.payload.get("details"))
        else:
            args["text"], args["blocks"] = words.alert_resolved(job, item.payload, link)
