"""ConnectBooster's side of the directory's bulk reads (API mode), kept between uses and brought up to date from
its sync history.

The inbox, the sweep's plan and the digest need every organization, each one's open credits, and the open invoices
of those holding one. The contract has no read across organizations, so that is one request per organization (~760
on a 500-client company). But ConnectBooster's copies change only when a sync runs (one invoice on a resync), and a
credit leaves `open` only through a sync (docs/connectbooster-api.md). So the mirror keeps what it read with the
newest *ended* sync it reflects (the mark), and each use asks one question, the sync history (one request):

- no sync ended since: everything is reused;
- syncs ended since: their details (`GET /syncs/{id}/details`) name the records they processed; only the
  organizations owning a created, updated or applied record are read again (a record the mirror does not know is
  read by id to learn its organization: `organization_id`), and the organization list when a sync processed
  companies or named an organization the mirror has not seen;
- a failed sync, a details read that fails, more than MAX_CHANGED organizations (or unknown records), a history
  that no longer reaches back to the mark, a history that cannot be read: everything is read again (correct over
  fast).

What no sync shows, a time to live catches. Invoices are reused for INVOICES_TTL (5 minutes): a client paying in the
portal marks an invoice `pending_payment` with no sync, and a person may resync one invoice; 5 minutes bounds how
long the inbox may miss a portal payment, and nothing is written from it: every write reads pending payments live
first (workflow/steps_apply.py), so a plan made from a 4-minute-old list refuses that item, never over-applies.
Everything else is read again after FULL_TTL (4 hours): credits and balances change only through syncs, which the
history records, so this is only a safety net for what a gateway might change outside it (an organization linked in
the portal) and a bound on how long a gateway that left something out of a sync's details could go unnoticed. An
hour would be the scheduled syncs' own rhythm, and would make most opens of a working day (spread over hours) full
reads again. The picker, every write and every verification read ConnectBooster live, never from here.

One refresh runs at a time: the inbox, a plan and the digest asking at once share it (the later ones wait for the
running refresh and take its result).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from integrations.connectbooster_models import CBCredit, CBInvoice, Organization, SyncDetail, SyncRun
from integrations.errors import IntegrationError, NotFoundError, brief

log = logging.getLogger(__name__)
ENDED = ("finished", "failed")
HISTORY = 100          # runs read per look at the history (one page, the contract's largest: days of hourly syncs)
MAX_CHANGED = 100      # organizations (or unknown records) named since the mark beyond which everything is read
FULL_TTL = 4 * 3600.0  # seconds: everything read again
INVOICES_TTL = 300.0   # seconds: an organization's open invoices read again (portal payments show no sync)
NONE_ENDED = 0         # the mark when no sync had ended (sync ids are positive)


@dataclass(frozen=True)
class Snapshot:
    """ConnectBooster's side at one moment: every organization, open credits, open invoices of those holding one."""

    orgs: list[Organization]
    credits: dict[int, list[CBCredit]]            # org id -> its open credits (absent: unreadable)
    invoices: dict[int, list[CBInvoice]]          # org id -> its open invoices (organizations holding a credit)
    errors: dict[int, IntegrationError]           # org id -> why its credits or invoices could not be read

    def holders(self) -> Iterator[tuple[Organization, list[CBCredit], list[CBInvoice], IntegrationError | None]]:
        """The organizations holding an open credit or that could not be read, in the list's order."""
        for org in self.orgs:
            credits, error = self.credits.get(org.id) or [], self.errors.get(org.id)
            if credits or error is not None:
                yield org, credits, self.invoices.get(org.id) or [], error


class Stale(Exception):
    """What the mirror holds cannot be brought up to date from the history (the reason): read everything."""


class CBMirror:
    """The organization list, open credits and open invoices, with the newest ended sync they reflect."""

    def __init__(self, cb, pool, *, clock: Callable[[], float] = time.monotonic, full_ttl: float = FULL_TTL,
                 invoices_ttl: float = INVOICES_TTL) -> None:
        self.cb, self.pool, self.clock = cb, pool, clock
        self.full_ttl, self.invoices_ttl = full_ttl, invoices_ttl
        self._guard = threading.Lock()  # the running refresh and who waits for it
        self._running: Future | None = None
        self._waiting = 0
        # Touched only by the one refresh running.
        self._orgs: list[Organization] | None = None  # None: nothing to reuse
        self._full_at = 0.0
        self._mark: int | None = None  # None: unknown, read everything
        self._credits: dict[int, list[CBCredit]] = {}
        self._invoices: dict[int, list[CBInvoice]] = {}
        self._invoices_at: dict[int, float] = {}
        self._errors: dict[int, IntegrationError] = {}
        self.last: Snapshot | None = None  # the latest answer, the same object for as long as nothing changed

    @property
    def waiting(self) -> int:
        """How many callers wait for the refresh running now."""
        with self._guard:
            return self._waiting

    def snapshot(self) -> Snapshot:
        """ConnectBooster's side as of now (raises IntegrationError when the organization list cannot be read)."""
        with self._guard:
            running = self._running
            if running is None:
                self._running = mine = Future()
            else:
                self._waiting += 1
        if running is not None:  # another open is refreshing: its answer is as new as ours would be
            try:
                return running.result()
            finally:
                with self._guard:
                    self._waiting -= 1
        try:
            shot = self._refresh()
            mine.set_result(shot)
            return shot
        except BaseException as e:
            mine.set_exception(e)
            raise
        finally:
            with self._guard:
                self._running = None

    # -- one refresh ----------------------------------------------------------------------------------------
    def _refresh(self) -> Snapshot:
        try:
            runs = self.cb.sync_history(page_size=HISTORY)
        except IntegrationError as e:
            log.warning("connectbooster mirror: sync history unreadable (%s)", brief(e))
            runs = None
        try:
            if runs is None:
                raise Stale("the sync history could not be read")
            changed = self._catch_up(runs)
        except Stale as why:
            log.info("connectbooster mirror: reading every organization: %s", why)
            self._read_all(runs)
            changed = True
        if changed or self.last is None:
            self.last = Snapshot(list(self._orgs or ()), dict(self._credits), dict(self._invoices), dict(self._errors))
        return self.last

    def _read_all(self, runs: list[SyncRun] | None) -> None:
        mark, now = settled_mark(runs), self.clock()
        orgs = self.cb.search_organizations(text="")  # an empty search matches every name; raises: nothing to show
        self._orgs, self._credits, self._invoices, self._invoices_at, self._errors = None, {}, {}, {}, {}
        self._read(orgs, credits=[o.id for o in orgs], invoices=(), now=now)
        self._read(orgs, credits=(), invoices=[o.id for o in orgs if self._credits.get(o.id)], now=now)
        self._orgs, self._full_at, self._mark = orgs, now, mark

    def _catch_up(self, runs: list[SyncRun]) -> bool:
        """Read again what changed since the mark (raises Stale when that cannot be told); whether anything did."""
        now = self.clock()
        if self._orgs is None or self._mark is None:
            raise Stale("nothing read yet")
        if now - self._full_at >= self.full_ttl:
            raise Stale(f"read {now - self._full_at:.0f} s ago")
        since, mark = self._since(runs)
        failed = [r.id for r in since if r.status != "finished"]
        if failed:
            raise Stale(f"sync {failed[0]} failed")
        credit_orgs, invoice_orgs = self._named(since)
        credit_orgs |= set(self._errors)  # unreadable last time: both reads again
        orgs = self._orgs
        listed = any(r.counts.get("companies") for r in since) or bool(credit_orgs - {o.id for o in orgs})
        if listed:
            orgs = self.cb.search_organizations(text="")
            credit_orgs |= {o.id for o in orgs} - {o.id for o in self._orgs}  # new in the list: read them
        if len(credit_orgs | invoice_orgs) > MAX_CHANGED:
            raise Stale(f"{len(credit_orgs | invoice_orgs)} organizations changed")
        invoice_orgs |= {o for o, at in self._invoices_at.items() if now - at >= self.invoices_ttl}
        live = {o.id for o in orgs}
        for gone in set(self._credits) - live:
            self._drop(gone)
        reads = bool(listed or credit_orgs or invoice_orgs)
        if reads:
            log.info("connectbooster mirror: syncs %s since sync %s; reading %d organizations' credits and %d "
                     "invoice lists", [r.id for r in since], self._mark, len(credit_orgs & live),
                     len((credit_orgs | invoice_orgs) & live))
            self._read(orgs, credits=credit_orgs & live, invoices=(credit_orgs | invoice_orgs) & live, now=now)
        self._orgs, self._mark = orgs, mark
        return reads

    def _since(self, runs: list[SyncRun]) -> tuple[list[SyncRun], int | None]:
        """The runs ended since the mark, oldest first, and the new mark."""
        settled = settled_runs(runs)
        ids = [r.id for r in settled]
        if self._mark in ids:
            newer = settled[:ids.index(self._mark)]
        elif self._mark == NONE_ENDED and len(runs) < HISTORY:
            newer = settled
        else:
            raise Stale(f"sync {self._mark} is not among the last {len(runs)} runs")
        return newer[::-1], settled_mark(runs)

    def _named(self, since: list[SyncRun]) -> tuple[set[int], set[int]]:
        """(organizations whose credits and invoices to read, organizations whose invoices to read) after `since`."""
        details: list[SyncDetail] = []
        for future in [self.pool.submit(self.cb.sync_details, sync_id=r.id) for r in since]:
            try:
                details += future.result()
            except IntegrationError as e:
                raise Stale(f"a sync's details could not be read ({type(e).__name__})") from None
        credit_of = {c.id: org for org, credits in self._credits.items() for c in credits}
        invoice_of = {i.id: org for org, invoices in self._invoices.items() for i in invoices}
        credit_orgs: set[int] = set()
        invoice_orgs: set[int] = set()
        unknown: dict[tuple[str, int], None] = {}
        for d in details:
            if d.action == "unchanged":
                continue
            if d.record_type == "credit" and d.record_id in credit_of:
                credit_orgs.add(credit_of[d.record_id])
            elif d.record_type == "invoice" and d.record_id in invoice_of:
                invoice_orgs.add(invoice_of[d.record_id])
            elif d.record_type in ("credit", "invoice"):
                unknown[(d.record_type, d.record_id)] = None
            elif d.record_type == "payment":  # a portal payment synced or failed: its invoice is no longer pending
                invoice_orgs |= {o for o, invoices in self._invoices.items() if any(i.pending_payment for i in invoices)}
            else:
                raise Stale(f"a sync processed a {d.record_type!r} record")
        if len(unknown) > MAX_CHANGED:
            raise Stale(f"{len(unknown)} records the mirror does not know")
        for kind, org in self._owners(unknown):
            if kind == "credit":
                credit_orgs.add(org)
            elif self._credits.get(org):  # an invoice matters only to an organization holding a credit
                invoice_orgs.add(org)
        return credit_orgs, invoice_orgs

    def _owners(self, records: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
        """(kind, organization id) of each record read by id; one gone since is skipped."""
        reads = [(kind, self.pool.submit(self.cb.get_credit, credit_id=rid) if kind == "credit"
                  else self.pool.submit(self.cb.get_invoice, invoice_id=rid)) for kind, rid in records]
        owners = []
        for kind, future in reads:
            try:
                owners.append((kind, future.result().organization_id))
            except NotFoundError:
                continue
            except IntegrationError as e:
                raise Stale(f"a {kind} named by a sync could not be read ({type(e).__name__})") from None
        return owners

    def _read(self, orgs: list[Organization], *, credits: Iterable[int], invoices: Iterable[int], now: float) -> None:
        """One flat round of reads on the pool: open credits of `credits`, open invoices of `invoices` (linked)."""
        by_id = {o.id: o for o in orgs}
        credit_reads = {o: self.pool.submit(self.cb.list_credits, org_id=o, status="open") for o in credits}
        # The organization's own count lets every page of a long invoice list be read at once.
        invoice_reads = {o: self.pool.submit(self.cb.list_invoices, org_id=o, status="open",
                                             expected=(by_id[o].balance or {}).get("open_invoice_count"))
                         for o in invoices if by_id[o].qbo_customer_id}
        for org, future in credit_reads.items():
            try:
                self._credits[org] = future.result()
                self._errors.pop(org, None)
            except IntegrationError as e:  # named in the inbox and the plan; read again next time
                self._drop(org)
                self._errors[org] = e
        for org, future in invoice_reads.items():
            try:
                self._invoices[org], self._invoices_at[org] = future.result(), now
            except IntegrationError as e:
                self._invoices.pop(org, None)
                self._invoices_at.pop(org, None)
                self._errors[org] = e
        for org in [o for o in self._invoices if not self._credits.get(o)]:
            self._invoices.pop(org)
            self._invoices_at.pop(org, None)

    def _drop(self, org: int) -> None:
        for kept in (self._credits, self._invoices, self._invoices_at, self._errors):
            kept.pop(org, None)


def settled_runs(runs: list[SyncRun]) -> list[SyncRun]:
    """The ended runs older than every run still pending or active, newest first (runs of one integration run one
    after another, so that is every ended run but in a history out of order)."""
    last_open = max((i for i, r in enumerate(runs) if r.status not in ENDED), default=-1)
    return runs[last_open + 1:]


def settled_mark(runs: list[SyncRun] | None) -> int | None:
    """The newest settled run's id; NONE_ENDED when the whole history shows none ended; None when unknown."""
    if runs is None:
        return None
    settled = settled_runs(runs)
    if settled:
        return settled[0].id
    return NONE_ENDED if len(runs) < HISTORY else None
