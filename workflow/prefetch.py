"""A sweep's bulk QuickBooks reads: read a round's documents before, confirm its writes after.

A sweep item used to spend 4 QuickBooks requests (re-read invoice, re-read credit, write, re-read invoice).
A sweep now runs in rounds (the next item of every client, once every earlier item has left QuickBooks):

- before a round, ONE read per 100 invoices and per 100 credits (`Id IN (...)`) gives each item a Snapshot; its
  check step takes it (once) and compares exactly what it compared after its own two reads. A single request,
  a Retry, a resumed job or a snapshot older than MAX_AGE reads on its own, as before;
- the writes go one by one (an unapplied payment's sparse update still reads the Payment for its SyncToken);
- after the write an item parks with its invoice's balance unconfirmed (invoice_balance_after NULL); the same
  bulk read that starts the next round (or precedes the sweep's sync) confirms every parked item. Nothing of
  ours touches an invoice between its item's write and that read (a client's items are one per round), so
  each item is compared with its own expected balance, as the single path's re-read does; a wrong balance
  sends it to needs attention with the single path's words.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from data.events import EventKind
from data.jobs import Job
from data.states import JobState
from integrations.errors import IntegrationError
from integrations.quickbooks_models import Credit, Invoice

log = logging.getLogger(__name__)

# A snapshot stands for the read "right before writing" (docs: quickbooks-api.md, rule 8) only while it is young:
# older than this, the item reads both documents itself. A round of ~450 writes fits at the bot's 480/min; the
# invoice is confirmed after the write whatever the age, the credit relies on QuickBooks refusing an
# over-application (UNVERIFIED for the real service), exactly as the single path does in its shorter window.
MAX_AGE = timedelta(seconds=60)


@dataclass(frozen=True)
class Snapshot:
    """An item's invoice and credit as one bulk read saw them."""

    invoice: Invoice
    credit: Credit
    read_at: datetime


@dataclass
class RoundReads:
    """What one round's bulk read returned (empty when the read failed: everyone falls back to single reads)."""

    read_at: datetime
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credits: dict[tuple[str, str], Credit] = field(default_factory=dict)

    def snapshot(self, job: Job) -> Snapshot | None:
        invoice = self.invoices.get(job.invoice_qbo_id)
        credit = self.credits.get((job.credit_kind, job.qbo_credit_id))
        return Snapshot(invoice, credit, self.read_at) if invoice is not None and credit is not None else None


class Prefetch:
    """Per-job snapshots handed from the sweep to its items' check step; each is taken at most once."""

    def __init__(self, *, now: Callable[[], datetime], max_age: timedelta = MAX_AGE) -> None:
        self.now, self.max_age = now, max_age
        self._snapshots: dict[int, Snapshot] = {}
        self._lock = threading.Lock()

    def put(self, job_id: int, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshots[job_id] = snapshot

    def take(self, job_id: int) -> Snapshot | None:
        """The job's snapshot, removed; None when there is none or it is too old to stand for a fresh read."""
        with self._lock:
            snap = self._snapshots.pop(job_id, None)
        if snap is None or self.now() - snap.read_at > self.max_age:
            return None
        return snap

    def __len__(self) -> int:
        return len(self._snapshots)


def read_round(qbo, *, invoice_ids: Iterable[str], credits: Iterable[tuple[str, str]],
               now: Callable[[], datetime]) -> RoundReads:
    """Invoices and credits (kind, id) in bulk, 100 per request; a failed read leaves the rest to single reads."""
    reads = RoundReads(read_at=now())
    invoice_ids = sorted(set(invoice_ids))
    by_kind: dict[str, set[str]] = {}
    for kind, credit_id in credits:
        by_kind.setdefault(kind, set()).add(credit_id)
    try:
        if invoice_ids:
            reads.invoices = qbo.get_invoices(ids=invoice_ids)
        for kind, ids in sorted(by_kind.items()):
            found = qbo.get_credits(kind=kind, ids=sorted(ids))
            reads.credits.update({(kind, cid): credit for cid, credit in found.items()})
    except IntegrationError as e:  # the items read for themselves, as a single request does
        log.warning("sweep: bulk read failed (%s); items read their documents one by one", e.brief())
        return RoundReads(read_at=reads.read_at, invoices=reads.invoices)
    return reads


# -- the check step's side -------------------------------------------------------------------------------------
def prefetched(runner, job: Job) -> Snapshot | None:
    """The snapshot the sweep read for this item (consumed), or None: read both documents yourself."""
    return runner.sweeps.prefetch.take(job.id) if job.batch_id and runner.sweeps is not None else None


def confirm_later(runner, job: Job) -> bool:
    """True when the item's sweep confirms its invoice's balance in bulk after the write (instead of a re-read)."""
    sweeps = runner.sweeps
    return bool(job.batch_id) and sweeps is not None and sweeps.bulk_reads and sweeps.accepts_parked(job)


# -- confirming a write ----------------------------------------------------------------------------------------
def expected_after(job: Job) -> Decimal:
    return job.invoice_balance_before - job.amount


def wrong_balance(runner, job: Job, *, payment_id: str, balance: Decimal, details: dict) -> None:
    """Needs attention: QuickBooks took the write but the invoice does not show it (one message for both paths)."""
    runner.attention(job, f"QuickBooks accepted Payment {payment_id}, but invoice {job.invoice_number} "
                          f"shows {balance} instead of {expected_after(job)}. Check the invoice in QuickBooks "
                          "(a closed period can make QuickBooks ignore a change) before anything else.",
                     resume=JobState.APPLIED, retryable=False, qbo_payment_id=payment_id,
                     invoice_balance_after=balance, extra=details)


def unconfirmed(jobs: Iterable[Job]) -> list[Job]:
    """Parked items whose write has not been compared with their invoice yet."""
    return [j for j in jobs if j.state == JobState.AWAITING_BATCH_SYNC and j.invoice_balance_after is None
            and j.invoice_qbo_id]


def confirm(runner, jobs: Iterable[Job], invoices: dict[str, Invoice]) -> None:
    """Compare each parked item's invoice (from the bulk read, else read alone) with the balance it should have."""
    for job in jobs:
        details = {"payment_id": job.qbo_payment_id, "balance_before": str(job.invoice_balance_before),
                   "expected": str(expected_after(job)), "read": "bulk"}
        invoice = invoices.get(job.invoice_qbo_id)
        if invoice is None:
            details["read"] = "single"
            try:
                invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
            except IntegrationError as e:
                runner.attention(job, f"QuickBooks accepted Payment {job.qbo_payment_id}, but invoice "
                                      f"{job.invoice_number} could not be read to confirm it ({e.message}). "
                                      "Retry reads it again; nothing will be written twice.",
                                 resume=JobState.APPLIED, retryable=True, error=e, extra=details)
                continue
        details["balance_after"] = str(invoice.balance)
        if invoice.balance != expected_after(job):
            wrong_balance(runner, job, payment_id=job.qbo_payment_id, balance=invoice.balance, details=details)
            continue
        runner.note(job, EventKind.QUICKBOOKS_BALANCE_CONFIRMED, details=details,
                    invoice_balance_after=invoice.balance)
