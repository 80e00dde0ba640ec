"""QuickBooks webhooks as Intuit sends them (`emu.webhooks`): aggregated, signed, late, unordered, retried.

    emu.webhooks.configure(url="http://127.0.0.1:PORT/qbo/webhooks", verifier_token="...", delay=60.0)
    ...writes through the API or the ledger's own methods...
    emu.webhooks.flush()              # close the aggregation window now; wait until delivered or awaiting a retry
    emu.webhooks.deliveries           # every attempt: delivery, attempt, body, headers, status, error, at

Off until configured. Every Create/Update/Delete/Void of a Customer, Invoice, CreditMemo or Payment (the ledger's
change feed, sandbox/qbo_ledger_docs.Change) queues an event; balances QuickBooks recomputes because a payment
changed (an invoice's Balance) queue one only with `derived=True`: a peer reports that "QBO often does not fire
the derived Invoice.update webhook for credit applies" (quickbooks-api.md §6, [UNVERIFIED]), so by default the
emulator sends the fewer events. The wire format is sandbox/qbo_webhook_payload.py.

Timing, all on the emulator's clock (a test's FakeClock moves it; the sender polls it):
* Aggregation: "For sandbox, webhooks fire near real time. For production, developers can configure for how long
  Intuit should aggregate events ... 1 Minute, 3 Minutes, and 5 Minutes" (Intuit, managing-webhooks-notifications):
  a delivery leaves `delay` seconds after the first event of its window, carrying up to `batch` events (None: all),
  in no documented order (shuffled, seeded, unless `shuffle=False`).
* Retries (Intuit, webhooks/best-practices): "Your endpoint must respond ... with an HTTP 200 status within 3
  seconds ... The retry will happen at the following intervals: 10s, 20s, 30s, 5m, 20m, 2h, 4h, 6h, and then on
  stays at 6-hour intervals. You may not receive subsequent events from our system until you correctly
  acknowledge the first event." Read as gaps after each failed attempt; anything but 200 fails (201/204 too
  [UNVERIFIED]); later events wait behind an unacknowledged delivery. `timeout` is real seconds (HTTP).
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import requests

from sandbox.qbo_ledger_docs import Change
from sandbox.qbo_webhook_payload import (
    CLOUDEVENTS_TYPE,
    LEGACY_TYPE,
    WebhookEvent,
    cloudevents_body,
    delivery_headers,
    legacy_body,
)

RETRY_SCHEDULE = (10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0)  # then every 21600 s
ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
FOREIGN_REALM = "9130357766200000"  # another company connected to the same app (invented id)
_POLL = 0.02  # real seconds between looks at the emulator's clock while a delivery is due later


@dataclass
class _Config:
    url: str
    verifier_token: str
    delay: float = 0.0
    format: str = "cloudevents"
    batch: int | None = None
    content_type: str | None = None
    timeout: float = 3.0
    retry_schedule: Sequence[float] = RETRY_SCHEDULE
    derived: bool = False
    shuffle: bool = True
    entities: tuple[str, ...] = ENTITIES


@dataclass
class _Delivery:
    number: int
    body: bytes
    headers: dict[str, str]
    events: list[WebhookEvent]
    attempts: int = 0
    next_at: float = 0.0
    done: bool = False


@dataclass
class _State:
    queue: list[WebhookEvent] = field(default_factory=list)
    window_start: float | None = None
    current: _Delivery | None = None  # being sent, or awaiting its retry (later deliveries wait behind it)
    made: list[_Delivery] = field(default_factory=list)
    force: bool = False  # flush(): the aggregation window is closed now
    stopping: bool = False


class Webhooks:
    """The webhooks sender of one emulated company (and, for tests, of other companies on the same app)."""

    def __init__(self, realm_id: str, clock: Callable[[], float]) -> None:
        self.realm_id, self._clock = realm_id, clock
        self._cond = threading.Condition()
        self._state = _State()
        self._config: _Config | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random(0)
        self.deliveries: list[dict] = []  # every attempt, in order

    # ---- set-up -----------------------------------------------------------------------------------------
    def configure(self, *, url: str, verifier_token: str, delay: float = 0.0, format: str = "cloudevents",
                  batch: int | None = None, content_type: str | None = None, timeout: float = 3.0,
                  retry_schedule: Sequence[float] = RETRY_SCHEDULE, derived: bool = False, shuffle: bool = True,
                  entities: Iterable[str] = ENTITIES) -> None:
        """Subscribe `url` (format "cloudevents" or "legacy"); may be called again to change any setting."""
        if format not in ("cloudevents", "legacy"):
            raise ValueError(f"format must be 'cloudevents' or 'legacy', not {format!r}")
        if batch is not None and batch < 1:
            raise ValueError("batch must be None or at least 1")
        with self._cond:
            self._config = _Config(url, verifier_token, delay, format, batch, content_type, timeout,
                                   tuple(retry_schedule) or RETRY_SCHEDULE, derived, shuffle, tuple(entities))
            self._state.stopping = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def content_type(self) -> str:
        """The Content-Type sent (settable: a test of a receiver that must not insist on one)."""
        cfg = self._config
        default = LEGACY_TYPE if cfg and cfg.format == "legacy" else CLOUDEVENTS_TYPE
        return (cfg.content_type if cfg else None) or default

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        with self._cond:
            if self._config is None:
                raise RuntimeError("configure() webhooks first")
            self._config.content_type = value

    # ---- events -----------------------------------------------------------------------------------------
    def record(self, change: Change) -> None:
        """The ledger's listener: queue an event for this change if it is subscribed to."""
        cfg = self._config
        if cfg is None or self._state.stopping or change.entity not in cfg.entities:
            return
        if change.derived and not cfg.derived:
            return
        self._queue(WebhookEvent(self.realm_id, change.entity, change.id, change.operation, change.at))

    def add_foreign_realm_event(self, realm_id: str = FOREIGN_REALM, entity: str = "Customer",
                                entity_id: str = "1", operation: str = "Update") -> None:
        """An event of another company on the same app: the next delivery carries two realms."""
        if self._config is None:
            raise RuntimeError("configure() webhooks first")
        self._queue(WebhookEvent(realm_id, entity, entity_id, operation, self._clock()))

    def _queue(self, event: WebhookEvent) -> None:
        with self._cond:
            if not self._state.queue:
                self._state.window_start = event.at
            self._state.queue.append(event)
            self._cond.notify_all()

    # ---- test helpers -----------------------------------------------------------------------------------
    def flush(self, timeout: float = 5.0) -> bool:
        """Close the aggregation window now and wait until nothing is queued or in flight; True when every delivery
        so far was acknowledged (False: one awaits a retry on the emulator's clock, or `timeout` real seconds)."""
        with self._cond:
            self._state.force = True
            self._cond.notify_all()
        return self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no event is due and no attempt is under way; True when all deliveries were acknowledged."""
        def idle() -> bool:
            s = self._state
            sending = s.current is not None and self._clock() >= s.current.next_at
            due = bool(s.queue) and (s.force or self._clock() >= (s.window_start or 0) + self._delay())
            return not sending and not (due and s.current is None)

        with self._cond:
            self._cond.wait_for(idle, timeout)
            return not self._state.queue and self._state.current is None

    def wait_attempts(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until `count` attempts in all have been recorded."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.deliveries) >= count, timeout)

    def redeliver(self, n: int = -1) -> int | None:
        """Intuit sending delivery `n` (1-based number; negative: from the last) once more, now, unchanged (same
        body, same signature); recorded as an attempt with redelivery=True. Returns the HTTP status (None: none)."""
        with self._cond:
            made = self._state.made
            delivery = made[n - 1] if n > 0 else made[n]
        return self._post(delivery, redelivery=True)

    @property
    def pending(self) -> int:
        """Events queued and not yet in a delivery."""
        with self._cond:
            return len(self._state.queue)

    def stop(self) -> None:
        """Stop sending (idempotent); queued events are dropped. The emulator's stop() calls this."""
        with self._cond:
            self._state.stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    # ---- the sender ---------------------------------------------------------------------------------------
    def _delay(self) -> float:
        return self._config.delay if self._config else 0.0

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._state.stopping:
                    return
                job = self._next_job()
                if job is None:
                    waiting = self._state.current is not None or bool(self._state.queue)
                    self._cond.wait(_POLL if waiting else 0.5)
                    continue
            self._post(job)

    def _next_job(self) -> _Delivery | None:
        """The delivery to attempt now, if any (called with the lock held)."""
        s, cfg, now = self._state, self._config, self._clock()
        if cfg is None:
            return None
        if s.current is not None:
            return s.current if now >= s.current.next_at else None
        if not s.queue or not (s.force or now >= (s.window_start or now) + cfg.delay):
            return None
        take = len(s.queue) if cfg.batch is None else cfg.batch
        events, s.queue = s.queue[:take], s.queue[take:]
        s.window_start = s.queue[0].at if s.queue else None  # the rest of the window is due already
        s.force = s.force and bool(s.queue)
        if cfg.shuffle:
            self._rng.shuffle(events)
        body = cloudevents_body(events) if cfg.format == "cloudevents" else legacy_body(events)
        s.current = _Delivery(len(s.made) + 1, body, delivery_headers(body, cfg.verifier_token, self.content_type, now),
                              events, next_at=now)
        s.made.append(s.current)
        return s.current

    def _post(self, delivery: _Delivery, *, redelivery: bool = False) -> int | None:
        cfg = self._config
        at = self._clock()
        try:
            status, error = requests.post(cfg.url, data=delivery.body, headers=delivery.headers,
                                          timeout=cfg.timeout).status_code, None
        except requests.RequestException as exc:  # a timeout or a refused connection: not acknowledged
            status, error = None, type(exc).__name__
        with self._cond:
            if not redelivery:
                delivery.attempts += 1
                if status == 200:
                    delivery.done, self._state.current = True, None
                else:
                    gap = cfg.retry_schedule[min(delivery.attempts - 1, len(cfg.retry_schedule) - 1)]
                    delivery.next_at = self._clock() + gap
            self.deliveries.append({"delivery": delivery.number, "attempt": delivery.attempts, "body": delivery.body,
                                    "headers": dict(delivery.headers), "status": status, "error": error, "at": at,
                                    "redelivery": redelivery})
            self._cond.notify_all()
        return status
