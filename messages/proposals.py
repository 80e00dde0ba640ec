"""A proposal's messages through the outbox: posted by the bot itself (no command handler posts it), then updated.

Its stream is -batch.id (like a sweep's), so its rows go out in order: the message first (Target.BATCH_PARENT,
whose ts the deliverer stores on the batch), then updates (BATCH_UPDATE: only the newest is sent) and replies in its
thread (BATCH_THREAD): the guided checklist, the summary; a notice in NOTIFY_CHANNEL when that is another channel.
"""
from __future__ import annotations

import hashlib
import json

from data.batches import Batch
from data.jobs import Job
from data.outbox import Outbox, Target
from data.states import BatchState
from messages.blocks import guided_sweep as guided_sweep_blocks
from messages.blocks import proposal as blocks_of


class ProposalMessages:
    def __init__(self, outbox: Outbox, *, notify_channel: str, tz: str = "UTC", portal_url: str = "") -> None:
        self.outbox, self.notify_channel, self.tz, self.portal_url = outbox, notify_channel, tz, portal_url

    def publish(self, batch: Batch, items: list[Job]) -> None:
        stream = -batch.id
        text, blocks = blocks_of.proposal_message(batch, items, self.tz)
        args = {"channel": batch.channel_id, "text": text, "blocks": blocks, "unfurl_links": False}
        if self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:parent", method="chat.postMessage",
                               target=Target.BATCH_PARENT, payload={"args": args}):
            return  # its first state is in the message it posts
        digest = hashlib.sha1(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]
        self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:status:{digest}", method="chat.update",
                            target=Target.BATCH_UPDATE, payload={"args": {"channel": batch.channel_id, "text": text,
                                                                          "blocks": blocks}})
        if batch.state == BatchState.GUIDED_CHECKLIST:
            text, blocks = guided_sweep_blocks.checklist(batch, items, self.portal_url)
            self._thread(batch, "checklist", text, blocks)
        if batch.state == BatchState.FINISHED:
            text, blocks = blocks_of.summary(batch, items)
            self._thread(batch, "summary", text, blocks)
            if self.notify_channel and self.notify_channel != batch.channel_id:
                self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel, "text": text, "blocks": blocks}})

    def _thread(self, batch: Batch, what: str, text: str, blocks: list[dict]) -> None:
        self.outbox.enqueue(job_id=-batch.id, dedupe_key=f"batch:{batch.id}:{what}", method="chat.postMessage",
                            target=Target.BATCH_THREAD,
                            payload={"args": {"channel": batch.channel_id, "text": text, "blocks": blocks}})
