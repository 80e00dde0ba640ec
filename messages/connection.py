"""The connection's notices in NOTIFY_CHANNEL, through the outbox (workflow.connection.ConnectionNotices).

Each is keyed by its audit event, so publishing again after a restart queues nothing new.
"""
from __future__ import annotations

from collections.abc import Callable

from data.outbox import Outbox
from messages.blocks import connection as words
from workflow.connection import ConnectionStatus


class ConnectionMessages:
    """Expiry warnings, the lapse and the reconnect, posted to NOTIFY_CHANNEL (none when it is not set)."""

    def __init__(self, outbox: Outbox, *, channel: str, tz: str = "UTC", wake: Callable[[], None] = lambda: None):
        self.outbox, self.channel, self.tz, self.wake = outbox, channel, tz, wake

    def _post(self, key: str, message: tuple[str, list[dict]]) -> None:
        if not self.channel:
            return
        text, blocks = message
        self.outbox.enqueue(job_id=None, dedupe_key=key, method="chat.postMessage",
                            payload={"args": {"channel": self.channel, "text": text, "blocks": blocks,
                                              "unfurl_links": False}})
        self.wake()

    def expiring(self, status: ConnectionStatus, days: float, event: int) -> None:
        self._post(f"qbo:expiry:{event}", words.expiry_warning(status, days, self.tz))

    def lapsed(self, status: ConnectionStatus, event: int) -> None:
        self._post(f"qbo:lapsed:{event}", words.lapsed_notice(status))

    def reconnected(self, status: ConnectionStatus, actor: str | None, resumed: int, event: int) -> None:
        self._post(f"qbo:connected:{event}", words.reconnected_notice(status, actor, resumed))
