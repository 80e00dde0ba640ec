"""SlackNotifier: turns a job's events into queued Slack messages (the outbox delivers them).

Each event maps to at most one thread reply, one parent update and one notice, each under its own dedupe
key, so publishing the same history twice (after a restart) queues nothing new.
"""
from __future__ import annotations

import hashlib
import json

from data.jobs import Event, Job
from data.outbox import Outbox
from handlers.blocks import guided as guided_blocks
from handlers.blocks import job as job_blocks
from handlers.blocks import sweep as sweep_blocks
from workflow.machine import is_guided

PARENT_EVENTS = ("requested", "resync_only_requested")


class SlackNotifier:
    def __init__(self, outbox: Outbox, *, notify_channel: str = "", on_enqueue=lambda: None,
                 portal_url: str = "") -> None:
        self.outbox = outbox
        self.notify_channel = notify_channel
        self.on_enqueue = on_enqueue
        self.portal_url = portal_url  # guided mode (issue 14): CONNECTBOOSTER_PORTAL_URL for the step links

    def publish(self, job: Job, events: list[Event]) -> None:
        guided = is_guided(job) and not job.batch_id  # issue 14: guided jobs word their own ConnectBooster steps
        for event in events:
            if event.kind in PARENT_EVENTS:
                text, blocks = self._parent(job, events, guided)
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent", method="chat.postMessage",
                                    payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks,
                                                      "unfurl_links": False}, "parent_of": job.id})
                continue
            reply = guided_blocks.reply_for(job, event, self.portal_url) if guided else guided_blocks.FALLBACK
            if reply is guided_blocks.FALLBACK:
                reply = job_blocks.reply_for(job, event)
            if reply is not None:
                text, blocks = reply
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:reply", method="chat.postMessage",
                                    payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks},
                                             "thread_of": job.id})
            if guided and self.notify_channel and event.kind == "verified" and event.details.get("guided"):
                # Built here, not by the deliverer (no "notice_of"): it says a person confirmed ConnectBooster.
                text, blocks = guided_blocks.notice(job, event.details.get("confirmed_by"))
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel, "text": text, "blocks": blocks}})
            elif self.notify_channel and (event.kind == "verified" or
                                        (event.kind == "needs_attention" and event.details.get("alert"))):
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel}, "notice_of": job.id,
                                             "notice": event.kind, "message": event.details.get("message", "")})
        if events and events[-1].kind not in PARENT_EVENTS and job.kind != "undo":
            # (An undo shares the original's message: only the original's own changes update it.)
            # The parent always shows the latest state; older queued updates are skipped by the deliverer.
            text, blocks = self._parent(job, events, guided)
            self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent:{events[-1].id}", method="chat.update",
                                payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks},
                                         "update_of": job.id})
        self.on_enqueue()

    @staticmethod
    def _parent(job: Job, events: list[Event], guided: bool) -> tuple[str, list[dict]]:
        return guided_blocks.parent_message(job, events) if guided else job_blocks.parent_message(job)

    def publish_batch(self, batch, items: list[Job], reasons: dict[int, str]) -> None:
        """The sweep's message updated in place; once finished, a summary in its thread and a notice.

        Its messages use the outbox stream -batch.id (job ids are positive), so they go out in order.
        """
        if not batch.parent_ts:
            return  # the approval message is posted by the command handler, which stores its ts
        stream = -batch.id
        text, blocks = sweep_blocks.batch_message(batch, items)
        digest = hashlib.sha1(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]
        self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:status:{digest}", method="chat.update",
                            payload={"args": {"channel": batch.channel_id, "ts": batch.parent_ts, "text": text,
                                              "blocks": blocks}})
        if batch.state == "finished":
            text, blocks = sweep_blocks.summary(batch, items, reasons)
            self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:summary", method="chat.postMessage",
                                payload={"args": {"channel": batch.channel_id, "thread_ts": batch.parent_ts,
                                                  "text": text, "blocks": blocks}})
            if self.notify_channel:
                text, blocks = sweep_blocks.notice(batch, items)
                self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel, "text": text, "blocks": blocks}})
        self.on_enqueue()
