"""Delivers queued Slack messages in order per job, waiting out `ratelimited` and 5xx answers.

Jobs never wait for Slack: they queue messages and move on; this thread catches up when Slack answers.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from data.events import EventKind
from data.jobs import JobStore
from data.outbox import Outbox, OutboxItem, Target
from data.states import Mode
from messages.undeliverable import Undeliverable
from messages.wording import Wording, Wordings

log = logging.getLogger(__name__)
RETRY_STATUSES = {429, 500, 502, 503, 504}
BATCH_TARGETS = (Target.BATCH_PARENT, Target.BATCH_UPDATE, Target.BATCH_THREAD)


class Deliverer:
    def __init__(self, outbox: Outbox, store: JobStore, client: WebClient, *, clock: Callable[[], float] = time.time,
                 wordings: Wordings | None = None, idle_seconds: float = 1.0, batches=None) -> None:
        self.outbox = outbox
        self.store = store
        self.batches = batches  # data.batches.BatchStore: a proposal's message stores its ts there
        self.client = client
        self.clock = clock
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._joined: set[str] = set()
        # Slack's Retry-After holds the method in that channel (chat.postMessage: ~1 per second per channel), not
        # only the message that got it: other streams' messages there wait too instead of collecting 429s.
        self._held: dict[tuple[str, str], float] = {}
        # Notices and alerts are worded at delivery, with the thread's permalink, in the job's mode.
        self.wordings = wordings or Wordings({Mode.API: Wording()})
        self.undeliverable = Undeliverable(outbox, store)

    def start(self) -> None:
        recovered = self.outbox.recover_in_flight()
        if recovered:
            log.warning("%d Slack message(s) were being sent when the bot stopped; sending them again", recovered)
        self._thread = threading.Thread(target=self._loop, name="slack-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the message being sent (none is started after this); wait up to `timeout` for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.deliver_due()
            except Exception:
                log.exception("outbox pass failed")
                sent = 0
            if not sent:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()

    def deliver_due(self) -> int:
        """One pass over the due messages; returns how many were settled."""
        settled = 0
        blocked: set[int] = set()
        for item in self.outbox.due(self.clock()):
            if self._stop.is_set():
                break  # stopping: what is left stays pending for the next start
            if item.job_id in blocked or self.outbox.earlier_pending(item):
                blocked.add(item.job_id)
                continue
            if self._held.get(_where(item), 0.0) > self.clock():
                if item.job_id is not None:  # its stream's later messages wait behind it
                    blocked.add(item.job_id)
                continue
            if self._deliver(item):
                settled += 1
            elif item.job_id is not None:
                blocked.add(item.job_id)
        return settled

    def _deliver(self, item: OutboxItem) -> bool:
        args = dict(item.payload.get("args", {}))
        job = self.store.get(item.job_id) if item.job_id is not None and item.job_id > 0 else None
        if item.target in BATCH_TARGETS:
            return self._batch(item, args)
        if item.target is Target.PARENT_UPDATE:
            if self.outbox.newer_update_queued(item):
                self.outbox.mark(item.id, "superseded")
                return True
            if job is None or not job.parent_ts:
                self.outbox.mark(item.id, "failed", error="no parent message to update")
                return True
            args["ts"] = job.parent_ts
        elif item.target is Target.THREAD and job is not None and job.parent_ts:
            args["thread_ts"] = job.parent_ts
        elif item.target in (Target.NOTICE, Target.ALERT) and job is not None:
            link, words = self._permalink(job), self.wordings.of(job)
            built = words.notice(job, item.payload.get("details") or {}, link) if item.target is Target.NOTICE else \
                words.alert(job, item.payload.get("message", ""), link, item.payload.get("details"))
            args["text"], args["blocks"] = built
        elif item.target is Target.ALERT_RESOLVED and job is not None:
            where = self.outbox.sent_ts(item.payload.get("alert", ""))
            if where is None:  # the alert never reached Slack (or was pruned): nothing to mark
                self.outbox.mark(item.id, "superseded")
                return True
            args["channel"], args["ts"] = where
            args["text"], args["blocks"] = self.wordings.of(job).alert_resolved(job, item.payload,
                                                                                  self._permalink(job))
        return self._send(item, args, job)

    def _batch(self, item: OutboxItem, args: dict) -> bool:
        """A proposal's message, an update of it, or a reply in its thread (its ts is the batch's)."""
        batch = self.batches.get(-item.job_id) if self.batches is not None and item.job_id else None
        if item.target is not Target.BATCH_PARENT:
            if item.target is Target.BATCH_UPDATE and self.outbox.newer_update_queued(item):
                self.outbox.mark(item.id, "superseded")
                return True
            if batch is None or not batch.parent_ts:
                self.outbox.mark(item.id, "failed", error="no parent message")
                return True
            args["ts" if item.target is Target.BATCH_UPDATE else "thread_ts"] = batch.parent_ts
        return self._send(item, args, None, batch)

    def _send(self, item: OutboxItem, args: dict, job, batch=None) -> bool:
        self.outbox.start_sending(item.id)
        try:
            response = self.client.api_call(item.method, json=args)
        except SlackApiError as e:
            return self._failed(item, job, e.response.status_code, e.response.get("error"),
                                e.response.headers.get("Retry-After") if e.response.headers else None)
        except Exception as e:  # connection refused, timeout: Slack unreachable for now
            return self._failed(item, job, 503, type(e).__name__, None)
        ts = response.get("ts")
        self.outbox.mark(item.id, "sent", result_ts=ts)
        if item.target is Target.BATCH_PARENT and ts and batch is not None:
            self.batches.set_parent(batch.id, ts)
        if item.target is Target.PARENT and ts and job is not None:
            self.store.set_parent(job.id, ts)
            if item.in_flight_at_crash:  # Slack may show an earlier copy, whose buttons then stand for this one
                self.store.record(job.id, actor="bot", kind=EventKind.APPROVAL_MESSAGE_RESENT, details={"ts": ts})
        return True

    def _failed(self, item: OutboxItem, job, status: int, error: str | None, retry_after) -> bool:
        if status in RETRY_STATUSES or error in ("ratelimited", "internal_error", "fatal_error", "service_unavailable"):
            wait = float(retry_after) if retry_after else min(60.0, 0.5 * 2 ** min(item.attempts, 7))
            log.info("slack %s: %s (HTTP %s); retrying in %.1fs", item.method, error, status, wait)
            if status == 429 or error == "ratelimited":
                self._held[_where(item)] = self.clock() + wait
            self.outbox.postpone(item.id, self.clock() + wait, error or str(status))
            return False
        channel = item.payload.get("args", {}).get("channel", "")
        if error == "not_in_channel" and self._join(channel):
            self.outbox.postpone(item.id, self.clock(), error)  # joined a public channel: send it again now
            return False
        log.error("slack %s refused message %s: %s", item.method, item.dedupe_key, error)
        self.outbox.mark(item.id, "failed", error=error)
        self.undeliverable.refused(item, job, error or "unknown_error", channel)
        return True

    def _join(self, channel: str) -> bool:
        """Join a public channel the bot is not in (channels:join); once per channel and start-up."""
        if not channel or channel in self._joined:
            return False
        self._joined.add(channel)
        try:
            self.client.conversations_join(channel=channel)
        except SlackApiError as e:
            log.warning("could not join %s (%s): invite the app there with /invite @applycredit", channel,
                        e.response.get("error"))
            return False
        log.info("joined public channel %s to post there", channel)
        return True

    def _permalink(self, job) -> str | None:
        if not job.parent_ts:
            return None
        try:
            return self.client.chat_getPermalink(channel=job.channel_id, message_ts=job.parent_ts).get("permalink")
        except Exception:
            return f"https://slack.com/archives/{job.channel_id}/p{job.parent_ts.replace('.', '')}"


def _where(item: OutboxItem) -> tuple[str, str]:
    """What a rate limit applies to: the method, in the channel the message goes to."""
    return item.method, str(item.payload.get("args", {}).get("channel", ""))
