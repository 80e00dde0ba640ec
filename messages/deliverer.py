"""Delivers queued Slack messages at the bot's own pace, in order per stream, only what is still true.

Jobs never wait for Slack: they queue messages and move on; this thread catches up when Slack answers. The rules:

- Posts (chat.postMessage) of one stream (a job, or a sweep: -batch.id) go out in order: a thread reply waits for
  its parent, a summary for the replies before it.
- An update (chat.update) of a message waits for the posts queued before it in its stream, never the other way
  round: a reply, a summary or a notice never waits behind a stale or held update. Queueing a newer update of the
  same message supersedes the older (data/outbox.py); one message's progress goes out at most every
  PROGRESS_SECONDS (messages/pacing.py), the newest content when it does.
- Every call takes a token of the process's pacer first; this thread never waits for one: a row whose method and
  channel have none now is skipped this pass and the others go on. A 429 holds that method in that channel for its
  Retry-After, for every stream.
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
from data.outbox import UPDATE, Outbox, OutboxItem, Target, updated_message
from data.states import Mode
from messages.delivery import Resolved, Resolver
from messages.pacing import PacedWebClient, Pacer
from messages.undeliverable import Undeliverable
from messages.wording import Wording, Wordings

log = logging.getLogger(__name__)
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_ERRORS = ("ratelimited", "internal_error", "fatal_error", "service_unavailable")


class Deliverer:
    def __init__(self, outbox: Outbox, store: JobStore, client: WebClient, *, clock: Callable[[], float] = time.time,
                 wordings: Wordings | None = None, idle_seconds: float = 1.0, batches=None,
                 pacer: Pacer | None = None) -> None:
        """`client`: a PacedWebClient lends its pacer and is called without its wait (this thread asks the pacer
        itself); a plain WebClient is paced by `pacer`, else by a pacer of its own on `clock`."""
        if isinstance(client, PacedWebClient):
            pacer, client = pacer or client.pacer, client.unpaced()
        self.outbox = outbox
        self.store = store
        self.batches = batches  # data.batches.BatchStore: a proposal's message stores its ts there
        self.client = client
        self.clock = clock
        self.pacer = pacer or Pacer(clock=clock)
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._joined: set[str] = set()
        self._soonest: float | None = None  # seconds until a row skipped this pass may go
        # Notices and alerts are worded at delivery, with the thread's permalink, in the job's mode.
        self.wordings = wordings or Wordings({Mode.API: Wording()})
        self.resolver = Resolver(outbox, store, batches, self.wordings)
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
                idle = self.idle_seconds if self._soonest is None else min(self.idle_seconds, self._soonest)
                self._wake.wait(max(idle, 0.001))
                self._wake.clear()

    def deliver_due(self) -> int:
        """One pass over the due messages; returns how many were settled."""
        settled = 0
        blocked: set[int] = set()  # streams whose next post could not go: their later posts wait
        self._soonest = None
        for item in self.outbox.due(self.clock()):
            if self._stop.is_set():
                break  # stopping: what is left stays pending for the next start
            post = item.method != UPDATE
            if post and item.job_id in blocked:
                continue
            if self.outbox.earlier_post_pending(item):
                self._block(blocked, item)
                continue
            if not post:
                if self.outbox.newer_update_queued(item):
                    self.outbox.mark(item.id, "superseded")
                    settled += 1
                    continue
                if not self._ready(self.pacer.progress_wait(updated_message(item))):
                    continue
            if self._deliver(item):
                settled += 1
            else:
                self._block(blocked, item)
        return settled

    def _block(self, blocked: set[int], item: OutboxItem) -> None:
        if item.method != UPDATE and item.job_id is not None:
            blocked.add(item.job_id)

    def _ready(self, wait: float) -> bool:
        """True when `wait` is 0; else remembers how soon the loop should look again."""
        if wait <= 0:
            return True
        self._soonest = wait if self._soonest is None else min(self._soonest, wait)
        return False

    def _deliver(self, item: OutboxItem) -> bool:
        """Send one row if the pacer has a token for it; False when it still waits (its stream's posts too)."""
        resolved = self.resolver.resolve(item)
        if resolved.settle is not None:
            self.outbox.mark(item.id, resolved.settle[0], error=resolved.settle[1])
            return True
        if not self._ready(self.pacer.try_take(item.method, resolved.args.get("channel"))):
            return False
        self.resolver.word(item, resolved, self._permalink)
        return self._send(item, resolved)

    def _send(self, item: OutboxItem, resolved: Resolved) -> bool:
        job, batch, args = resolved.job, resolved.batch, resolved.args
        self.outbox.start_sending(item.id)
        try:
            response = self.client.api_call(item.method, json=args)
        except SlackApiError as e:
            return self._failed(item, job, args, e.response.status_code, e.response.get("error"),
                                e.response.headers.get("Retry-After") if e.response.headers else None)
        except Exception as e:  # connection refused, timeout: Slack unreachable for now
            return self._failed(item, job, args, 503, type(e).__name__, None)
        ts = response.get("ts")
        self.outbox.mark(item.id, "sent", result_ts=ts)
        if item.method == UPDATE:
            self.pacer.updated(updated_message(item))
        if item.target is Target.BATCH_PARENT and ts and batch is not None:
            self.batches.set_parent(batch.id, ts)
        if item.target is Target.PARENT and ts and job is not None:
            self.store.set_parent(job.id, ts)
            if item.in_flight_at_crash:  # Slack may show an earlier copy, whose buttons then stand for this one
                self.store.record(job.id, actor="bot", kind=EventKind.APPROVAL_MESSAGE_RESENT, details={"ts": ts})
        return True

    def _failed(self, item: OutboxItem, job, args: dict, status: int, error: str | None, retry_after) -> bool:
        channel = args.get("channel", "")
        if status in RETRY_STATUSES or error in RETRY_ERRORS:
            if status == 429 or error == "ratelimited":  # the method waits in that channel, for every stream
                wait = self.pacer.hold(item.method, channel, float(retry_after) if retry_after else 1.0)
            else:
                wait = float(retry_after) if retry_after else min(60.0, 0.5 * 2 ** min(item.attempts, 7))
            log.info("slack %s: %s (HTTP %s); retrying in %.1fs", item.method, error, status, wait)
            self.outbox.postpone(item.id, self.clock() + wait, error or str(status))
            return False
        if error == "not_in_channel" and (joined := self._join(channel)) is not False:
            # Joined a public channel: send it again now (None: no token to join yet, so shortly).
            self.outbox.postpone(item.id, self.clock() + (0.0 if joined else 1.0 / self.pacer.scale), error)
            return False
        log.error("slack %s refused message %s: %s", item.method, item.dedupe_key, error)
        self.outbox.mark(item.id, "failed", error=error)
        self.undeliverable.refused(item, job, error or "unknown_error", channel)
        return True

    def _join(self, channel: str) -> bool | None:
        """Join a public channel the bot is not in (channels:join); once per channel and start-up. None: the pacer
        has no token for it yet."""
        if not channel or channel in self._joined:
            return False
        if self.pacer.try_take("conversations.join", channel) > 0:
            return None
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
        fallback = f"https://slack.com/archives/{job.channel_id}/p{job.parent_ts.replace('.', '')}"
        if self.pacer.try_take("chat.getPermalink", job.channel_id) > 0:
            return fallback  # no token now: the link Slack's permalinks redirect from
        try:
            return self.client.chat_getPermalink(channel=job.channel_id, message_ts=job.parent_ts).get("permalink")
        except Exception:
            return fallback
