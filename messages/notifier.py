"""SlackNotifier: turns a job's events into queued Slack messages (the outbox delivers them).

Each event maps to at most one thread reply, one parent update and one notice, each under its own dedupe
key, so publishing the same history twice (after a restart) queues nothing new. Every row says which message
of the job it is (data.outbox.Target); the deliverer fills in what only Slack knows (the parent's ts).
"""
from __future__ import annotations

import hashlib
import json

from data.events import EventKind
from data.jobs import Event, Job
from data.outbox import Outbox, Target
from data.states import BATCH_DECIDING, BatchState, JobKind, Mode
from messages.blocks import guided_sweep as guided_sweep_blocks
from messages.blocks import sweep as sweep_blocks
from messages.blocks import sweep_controls as controls_blocks
from messages.blocks.common import context
from messages.proposals import ProposalMessages
from messages.wording import Wording, Wordings

PARENT_EVENTS = (EventKind.REQUESTED, EventKind.RESYNC_ONLY_REQUESTED)


class SlackNotifier:
    """The `workflow.notifier.Notifier` the bot runs with: every message goes through the outbox."""

    def __init__(self, outbox: Outbox, *, wordings: Wordings | None = None, notify_channel: str = "",
                 on_enqueue=lambda: None, tz: str = "UTC", portal_url: str = "") -> None:
        self.outbox = outbox
        self.wordings = wordings or Wordings({Mode.API: Wording(tz)})  # by the job's mode (messages/wording.py)
        self.notify_channel = notify_channel
        self.on_enqueue = on_enqueue
        self.tz = tz
        self.portal_url = portal_url  # CONNECTBOOSTER_PORTAL_URL, for a guided sweep's checklist
        self.proposals = ProposalMessages(outbox, notify_channel=notify_channel, tz=tz, portal_url=portal_url)

    def publish(self, job: Job, events: list[Event], related: Job | None = None) -> None:
        words = self.wordings.of(job)
        # The request message shows the application; while it is being undone, where the undo stands too.
        header, undo = (related, job) if job.kind == JobKind.UNDO and related is not None else (job, related)
        for event in events:
            # A sweep item asked again on its own (its approval lapsed) gets an approval message of its own.
            if event.kind in PARENT_EVENTS or (event.kind == EventKind.REAPPROVAL_REQUESTED and
                                               event.details.get("sweep") and not job.parent_ts):
                text, blocks = words.parent(job, events)
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent", method="chat.postMessage",
                                    target=Target.PARENT,
                                    payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks,
                                                      "unfurl_links": False}})
                if event.kind in PARENT_EVENTS:
                    continue
            reply = words.reply(job, event)
            if reply is not None:
                self.thread(job, f"event:{event.id}:reply", *reply)
            alert = event.kind == EventKind.NEEDS_ATTENTION and event.details.get("alert")
            if self.notify_channel and (event.kind == EventKind.VERIFIED or alert):
                # Built by the deliverer, which adds the thread's permalink (messages/wording.py words it).
                self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{event.id}:notice", method="chat.postMessage",
                                    target=Target.NOTICE if event.kind == EventKind.VERIFIED else Target.ALERT,
                                    payload={"args": {"channel": self.notify_channel},
                                             "message": event.details.get("message", ""), "details": event.details})
        self._resolve_alerts(job, events)
        if events and events[-1].kind not in PARENT_EVENTS and (job.kind != JobKind.UNDO or related is not None):
            # The parent always shows the latest state; older queued updates are skipped by the deliverer. An undo
            # shares its application's message (the same parent_ts): it updates that message's header too.
            text, blocks = words.parent(header, events, undo)
            self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:parent:{events[-1].id}", method="chat.update",
                                target=Target.PARENT_UPDATE, message=f"job:{header.id}:parent",
                                payload={"args": {"channel": job.channel_id, "text": text, "blocks": blocks}})
        self.on_enqueue()

    def _resolve_alerts(self, job: Job, events: list[Event]) -> None:
        """Once the job settles, each alert it raised is updated in place: resolved, by whom and when."""
        if not self.notify_channel or not job.terminal or not events:
            return
        for alert in (e for e in events if e.kind == EventKind.NEEDS_ATTENTION and e.details.get("alert")):
            later = [e for e in events if e.id > alert.id]
            clicked = next((e for e in reversed(later) if e.kind == EventKind.RETRY), None)
            done = next((e for e in reversed(later) if e.kind == job.state), events[-1])
            self.outbox.enqueue(job_id=job.id, dedupe_key=f"event:{alert.id}:resolved", method="chat.update",
                                target=Target.ALERT_RESOLVED,
                                payload={"alert": f"event:{alert.id}:notice", "message": alert.details.get("message"),
                                         "by": clicked.actor if clicked else None, "at": done.at,
                                         "state": str(job.state)})

    def batch_reply(self, batch, event: int, kind: str, who: str, **details) -> None:
        """A reply in a guided sweep's thread: "Something's off" answered, or the checklist's reminder."""
        if not batch.parent_ts:
            return
        text, blocks = guided_sweep_blocks.reply_for(batch, kind, who, **details)
        self.outbox.enqueue(job_id=-batch.id, dedupe_key=f"event:{event}:reply", method="chat.postMessage",
                            payload={"args": {"channel": batch.channel_id, "thread_ts": batch.parent_ts,
                                              "text": text, "blocks": blocks}})
        self.on_enqueue()

    def retire_copy(self, job: Job, ts: str) -> None:
        """An earlier copy of the job's message (sent again after a crash): no buttons, a pointer to the live one."""
        text = (f"This copy of request #{job.id}'s message was sent again after a restart; it is followed in the "
                "newer message below.")
        self.outbox.enqueue(job_id=job.id, dedupe_key=f"job:{job.id}:copy:{ts}", method="chat.update",
                            payload={"args": {"channel": job.channel_id, "ts": ts, "text": text,
                                              "blocks": [context(f":arrow_down: {text}")]}})
        self.on_enqueue()

    def thread(self, job: Job, key: str, text: str, blocks: list[dict] | None = None) -> None:
        """Queue one reply in the job's thread (the deliverer adds the thread's ts once the parent is posted)."""
        args = {"channel": job.channel_id, "text": text, **({"blocks": blocks} if blocks else {})}
        self.outbox.enqueue(job_id=job.id, dedupe_key=key, method="chat.postMessage", target=Target.THREAD,
                            payload={"args": args})
        self.on_enqueue()

    def publish_batch(self, batch, items: list[Job], reasons: dict[int, str], undo=None) -> None:
        """The sweep's message updated in place; once finished, a summary in its thread and a notice (and the
        same for its undo, `undo`: a workflow.sweep_controls.UndoView).

        Its messages use the outbox stream -batch.id (job ids are positive), so they go out in order.
        """
        if batch.proposal:  # a new credit's proposal: the bot posts its message itself (messages/proposals.py)
            self.proposals.publish(batch, items)
            self.on_enqueue()
            return
        if not batch.parent_ts:
            return  # the approval message is posted by the command handler, which stores its ts
        stream = -batch.id
        text, blocks = sweep_blocks.batch_message(batch, items, self.tz, undo)
        digest = hashlib.sha1(json.dumps(blocks, sort_keys=True).encode()).hexdigest()[:16]
        self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:status:{digest}", method="chat.update",
                            payload={"args": {"channel": batch.channel_id, "ts": batch.parent_ts, "text": text,
                                              "blocks": blocks}})
        if batch.state in BATCH_DECIDING:  # a plan larger than its message: all of it in the thread
            self.publish_plan(batch)
        if batch.state == BatchState.GUIDED_CHECKLIST:  # ONE ConnectBooster checklist for the batch
            text, blocks = guided_sweep_blocks.checklist(batch, items, self.portal_url)
            self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:checklist", method="chat.postMessage",
                                payload={"args": {"channel": batch.channel_id, "thread_ts": batch.parent_ts,
                                                  "text": text, "blocks": blocks}})
            self._pages(batch, "checklist", guided_sweep_blocks.checklist_pages(batch, items, self.portal_url))
        if batch.state == BatchState.FINISHED:
            text, blocks = sweep_blocks.summary(batch, items, reasons)
            self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:summary", method="chat.postMessage",
                                payload={"args": {"channel": batch.channel_id, "thread_ts": batch.parent_ts,
                                                  "text": text, "blocks": blocks}})
            if self.notify_channel:  # before the summary's further pages: the notice is prompt whatever the size
                text, blocks = sweep_blocks.notice(batch, items)
                self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:notice", method="chat.postMessage",
                                    payload={"args": {"channel": self.notify_channel, "text": text, "blocks": blocks}})
            self._pages(batch, "summary", sweep_blocks.summary_pages(batch, items, reasons))
        if undo is not None:
            self._publish_undo(batch, items, undo)
        self.on_enqueue()

    def _publish_undo(self, batch, items: list[Job], undo) -> None:
        """A sweep's undo: guided mode's one checklist; once undone, one summary in the thread and one notice."""
        stream, thread = -batch.id, {"channel": batch.channel_id, "thread_ts": batch.parent_ts}
        if batch.state == BatchState.UNDO_CHECKLIST:
            text, blocks = controls_blocks.checklist(batch, undo, self.portal_url)
            self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:undo-checklist", method="chat.postMessage",
                                payload={"args": {**thread, "text": text, "blocks": blocks}})
            self._pages(batch, "undo-checklist", controls_blocks.checklist_pages(batch, undo, self.portal_url))
        if batch.state != BatchState.UNDONE:
            return
        text, blocks = controls_blocks.summary(batch, items, undo)
        self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:undo-summary", method="chat.postMessage",
                            payload={"args": {**thread, "text": text, "blocks": blocks}})
        if self.notify_channel:
            text, blocks = controls_blocks.notice(batch, items, undo)
            self.outbox.enqueue(job_id=stream, dedupe_key=f"batch:{batch.id}:undo-notice", method="chat.postMessage",
                                payload={"args": {"channel": self.notify_channel, "text": text, "blocks": blocks}})
        self._pages(batch, "undo-summary", controls_blocks.summary_pages(batch, items, undo))

    def publish_plan(self, batch) -> None:
        """A sweep's plan, whole, in its thread when its message shows only part of it (each plan once: an edited
        plan's pages follow the earlier ones)."""
        if not batch.parent_ts or batch.proposal:
            return
        plan = hashlib.sha1(json.dumps([i["seq"] for i in batch.plan]).encode()).hexdigest()[:12]
        self._pages(batch, f"plan:{plan}", sweep_blocks.plan_pages(batch))
        self.on_enqueue()

    def _pages(self, batch, what: str, pages: list[tuple[str, list[dict]]]) -> None:
        """Replies in the sweep's thread, in order after what was queued before them (messages/blocks/pages.py)."""
        for n, (text, blocks) in enumerate(pages, 1):
            self.outbox.enqueue(job_id=-batch.id, dedupe_key=f"batch:{batch.id}:{what}:page:{n}",
                                method="chat.postMessage",
                                payload={"args": {"channel": batch.channel_id, "thread_ts": batch.parent_ts,
                                                  "text": text, "blocks": blocks}})
