"""Hearing QuickBooks: keep the index of open credits fresh and propose every credit that becomes open.

Two ways in, one thread doing the work (so passes never overlap):
* Webhooks (HTTP mode): the endpoint stores each event (data/credit_index.py) before answering Intuit, then wakes
  this thread, which re-reads the named credit memos and payments in bulk (following each payment to the memos it
  applies) and marks the events processed. A crash between the 200 and the processing loses nothing: unprocessed
  events are picked up at the next start.
* Change data capture (any mode; the only way in Socket Mode): every QBO_CDC_POLL_SECONDS, credit memos and
  payments changed since the stored cursor, which is the previous answer's server time, with a few seconds of
  overlap (QuickBooks' LastUpdatedTime has one-second precision; reading a change twice is harmless). CDC looks back
  30 days at most, has no upper bound and keeps an arbitrary 1,000 objects per entity: a cursor older than that, or
  an answer of 1,000 objects, falls back to a full read of the open credits. With webhooks on, CDC is the safety net.

The first full read only fills the index (the credits already open are not new); from then on a credit that becomes
open is noticed and proposed (workflow/proposals.py). The index serves guided mode's reads (`open_credits`) once that
first read is done; until then, and when both ways are off, they read QuickBooks in full as before.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from data.credit_index import CreditIndex, IndexChange
from integrations.errors import IntegrationError, ValidationError
from integrations.quickbooks_models import CREDIT_MEMO, UNAPPLIED_PAYMENT

log = logging.getLogger(__name__)
OVERLAP = timedelta(seconds=5)           # windows overlap: LastUpdatedTime has one-second precision
LOOK_BACK = timedelta(days=30) - timedelta(hours=1)  # CDC's limit, with room for the clocks to differ
KINDS = {"CreditMemo": CREDIT_MEMO, "Payment": UNAPPLIED_PAYMENT}
IDLE = 60.0                              # seconds between looks at the events table when polling is off


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


class CreditWatch:
    """The index's keeper: `wake()` after storing webhook events; `start()` runs the thread."""

    def __init__(self, *, qbo, index: CreditIndex, proposals, poll_seconds: float, webhooks: bool,
                 now: Callable[[], datetime] | None = None) -> None:
        self.qbo, self.index, self.proposals = qbo, index, proposals
        self.poll_seconds, self.webhooks = poll_seconds, webhooks
        self.now = now or (lambda: datetime.now(UTC))
        self.ready = threading.Event()       # the first full read (or catch-up) is done: the index can be read
        self._wake, self._stop = threading.Event(), threading.Event()
        self._lock = threading.Lock()        # one pass at a time
        self._thread: threading.Thread | None = None
        self._last_cdc: datetime | None = None

    @property
    def live(self) -> bool:
        """Something keeps the index fresh: CDC polling, or webhooks."""
        return self.poll_seconds > 0 or self.webhooks

    # -- the thread -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.live and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="credit-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except IntegrationError as e:  # QuickBooks unreachable or refusing: the next pass tries again
                log.warning("credit watch: %s", e)
            except Exception:
                log.exception("credit watch pass failed")
            self._wake.wait(self._seconds_to_next_poll())

    def _seconds_to_next_poll(self) -> float:
        if self.poll_seconds <= 0 or self._last_cdc is None:
            return IDLE if self.poll_seconds <= 0 else 1.0
        return max(0.0, (self._last_cdc + timedelta(seconds=self.poll_seconds) - self.now()).total_seconds())

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.ready.wait(timeout)

    # -- one pass ---------------------------------------------------------------------------------------------
    def run_once(self) -> None:
        """Read stored webhook events, catch up (first pass) or poll CDC when due; propose what became open."""
        with self._lock:
            self._notices()  # first: stored webhook events need no catch-up (nor a CDC that fails)
            self._propose()
            if not self.ready.is_set():
                self._catch_up()
                self.ready.set()
            elif self._cdc_due():
                self._cdc()
            self._propose()

    def _cdc_due(self) -> bool:
        return self.poll_seconds > 0 and (self._last_cdc is None or
                                          self.now() >= self._last_cdc + timedelta(seconds=self.poll_seconds))

    def _catch_up(self) -> None:
        """At start: CDC from the stored cursor when it is recent enough, else a full read."""
        if self.index.cursor() is not None and self.poll_seconds > 0:
            self._cdc()
        else:
            self._full_read()

    def _full_read(self) -> None:
        """Every open credit there is; only after the first one are credits not seen before new."""
        first = self.index.cursor() is None
        started = self.now()
        change = self.index.replace_all(self.qbo.all_open_credits(), notice=not first)
        self.index.set_cursor(iso(started - OVERLAP))
        self._last_cdc = started
        log.info("credit watch: full read of the open credits (%s)", "first" if first else "catching up")
        self._after(change)

    def _cdc(self) -> None:
        cursor = self.index.cursor()
        since = _parse(cursor) - OVERLAP if cursor else None
        if since is None or self.now() - since > LOOK_BACK:
            self._full_read()
            return
        started = self.now()
        try:
            changes = self.qbo.credit_changes_since(iso(since))
        except ValidationError as e:  # "older than fixed days is not supported": the clocks disagree
            log.warning("credit watch: CDC refused the window (%s): reading everything", e.code)
            self._full_read()
            return
        if changes.capped:  # 1,000 objects: some changes may be missing, and CDC has no upper bound to narrow by
            log.info("credit watch: CDC answered 1,000 objects: reading everything")
            self._full_read()
            return
        change = self.index.apply(changes.credits, changes.gone)
        self.index.set_cursor(changes.time or iso(started))
        self._last_cdc = started
        self._after(change)

    def _notices(self) -> None:
        """The webhook events stored since the last pass: re-read what they name, then mark them processed."""
        rows = self.index.pending_notices()
        if not rows:
            return
        read = {"CreditMemo": [], "Payment": []}
        gone = []
        for r in rows:
            if r.entity not in KINDS:
                continue  # customers, invoices: nothing of the index
            if r.operation == "Delete":
                gone.append((KINDS[r.entity], r.entity_id))
            else:
                read[r.entity].append(r.entity_id)
        change = IndexChange()
        if read["CreditMemo"] or read["Payment"]:
            now = self.qbo.credits_now(memo_ids=list(dict.fromkeys(read["CreditMemo"])),
                                       payment_ids=list(dict.fromkeys(read["Payment"])))
            change = self.index.apply(now.credits, [*gone, *now.gone])
        elif gone:
            change = self.index.apply([], gone)
        self.index.mark_processed([r.id for r in rows])
        log.info("credit watch: %d webhook event(s) processed, %d credit(s) changed", len(rows), len(change.changed))
        self._after(change)

    def _after(self, change: IndexChange) -> None:
        if change.changed and self.proposals is not None:
            self.proposals.credit_changed(change.changed)

    def _propose(self) -> None:
        if self.proposals is None:
            return
        new = self.index.proposable()
        if new:
            self.proposals.propose_all(new)

    # -- reads for guided mode ---------------------------------------------------------------------------------
    def open_credits(self) -> list:
        """Every open credit: from the index once it is kept fresh and filled, else QuickBooks' full read."""
        if self.live and self.ready.is_set():
            return self.index.open_credits()
        return self.qbo.all_open_credits()


def _parse(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
