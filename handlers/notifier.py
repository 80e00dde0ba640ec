"""SlackNotifier: turns a job's events into queued Slack messages (the outbox delivers them).

Each event maps to at most one thread reply, one parent update and one notice, each under its own dedupe
key, so publishing the same history twice (after a restart) queues nothing new.
"""
from __future__ import annotations

from data.jobs import Event, Job
from data.outbox import Outbox
from handlers.blocks import job as job_blocks

PARENT_EVENTS = ("requested", "resync_only_requested")


class SlackNotifier:
    def __init__(self, outbox: Outbox, *, notify_channel: str = "", on_enqueue=lambda: None) -> None:
        self.outbox = outbox
        self.notify_channel = notify_channel
        self.on_enqueue = on_enqueue

    def publish(self, job: Job, events: list[Event]) -> None:
        for event in events:
            if event.kind in PARENT_EVENTS:
                text, blocks = job_blocks.parent_message(job)
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent", method="chat.postMessage",
                                    payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks,
                                                      "unfurl_links": False}, "parent_of": job.id})
                continue
            reply = job_blocks.reply_for(job, event)
            if reply is not None:
                text, blocks = reply
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:reply", method="chat.postMessage",
                                    payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks},
                                             "thread_of": job.id})
            if self.notify_channel and (event.kind == "verified" or
                                        (event.kind == "needs_attention" and event.details.get("alert"))):
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel}, "notice_of": job.id,
                                             "notice": event.kind, "message": event.details.get("message", "")})
        if events and events[-1].kind not in PARENT_EVENTS:
            # The parent always shows the latest state; older queued updates are skipped by the deliverer.
            text, blocks = job_blocks.parent_message(job)
            self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent:{events[-1].id}", method="chat.update",
                                payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks},
                                         "update_of": job.id})
        self.on_enqueue()
