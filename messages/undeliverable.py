"""What happens when Slack permanently refuses one of the bot's messages: nothing may wait invisibly.

- The approval request (the job's parent) refused (a private channel the app is not in, an archived channel,
  blocks Slack will not take): the request is cancelled, so its credit is free again, and the requester gets a
  direct message saying why and how to fix it (`/invite @applycredit`).
- A resync-only job's message refused: the job goes on; the requester is told where to look instead.
- A notice to NOTIFY_CHANNEL refused: the job's thread says so, and the log says it once per start-up with the fix.
"""
from __future__ import annotations

import logging

from data.events import EventKind
from data.jobs import Job, JobStore
from data.outbox import Outbox, OutboxItem, Target
from data.states import DECIDING
from workflow.service import cancel_unposted
from workflow.text import esc

log = logging.getLogger(__name__)
INVITE = "invite the app there with `/invite @applycredit`"
WHY = {"channel_not_found": "the app is not in that channel (a private channel needs an invitation)",
       "not_in_channel": "the app is not in that channel", "is_archived": "that channel is archived",
       "invalid_blocks": "Slack refused the message's layout"}


class Undeliverable:
    """What to do with a message Slack refused for good."""

    def __init__(self, outbox: Outbox, store: JobStore) -> None:
        self.outbox, self.store = outbox, store
        self._logged: set[str] = set()

    def refused(self, item: OutboxItem, job: Job | None, error: str, channel: str) -> None:
        if item.target is Target.BATCH_PARENT and channel not in self._logged:  # no job: the log says it, once
            self._logged.add(channel)
            log.error("cannot post proposals in PROPOSALS_CHANNEL %s (%s): %s", channel, error, INVITE)
        if job is None:
            return
        why = WHY.get(error, f"Slack answered {error}")
        if item.target is Target.PARENT:
            self._parent_refused(job, error, why)
        elif item.target in (Target.NOTICE, Target.ALERT):
            if channel not in self._logged:
                self._logged.add(channel)
                log.error("cannot post notices in NOTIFY_CHANNEL %s (%s): %s", channel, error, INVITE)
            self._tell_thread(job, f"notice:{item.id}", f":warning: I couldn't post the "
                              f"{'completion notice' if item.target is Target.NOTICE else 'alert'} in <#{channel}>: "
                              f"{why}. An admin can {INVITE}.")

    def _parent_refused(self, job: Job, error: str, why: str) -> None:
        if job.state in DECIDING:
            if cancel_unposted(self.store, job, error) is None:  # someone decided it meanwhile
                return
            text = (f":warning: Your request #{job.id} ({esc(job.client_name, 200)}) could not be posted in <#{job.channel_id}> "
                    f"for approval: {why}. It was cancelled, nothing was recorded and the credit is free again. "
                    f"To use that channel, {INVITE}; then run the command again.")
        else:
            self.store.record(job.id, actor="bot", kind=EventKind.JOB_MESSAGE_REFUSED,
                              details={"error": error, "channel": job.channel_id})
            text = (f":warning: Job #{job.id} ({esc(job.client_name, 200)}) runs, but its messages cannot be posted in "
                    f"<#{job.channel_id}>: {why}. Follow it with `python bot.py history --job {job.id}`, or {INVITE}.")
        # A direct message (the app's Messages tab): needs no channel membership.
        self.outbox.enqueue(job_id=None, dedupe_key=f"job:{job.id}:refused", method="chat.postMessage",
                            payload={"args": {"channel": job.requester_id, "text": text}})

    def _tell_thread(self, job: Job, key: str, text: str) -> None:
        self.outbox.enqueue(job_id=job.id, dedupe_key=key, method="chat.postMessage", target=Target.THREAD,
                            payload={"args": {"channel": job.channel_id, "text": text}})

