"""The directory of API mode: clients are ConnectBooster organizations, joined with QuickBooks by customer id.

The picker (workflow/lookup.py), the inbox (workflow/inbox.py), the sweep's plan (workflow/sweep.py) and the
digest's open credits all read ConnectBooster's organizations and credits and join QuickBooks' documents to them.
The picker (one client) reads ConnectBooster live; the inbox, the plan and the digest (every client) read the
mirror (workflow/cb_mirror.py), which one request to the sync history keeps true between uses.
Guided mode's directory, which reads QuickBooks alone, is workflow/qbo_only.py.
"""
from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import partial

from data.states import Mode
from workflow.bulk import Books
from workflow.cb_mirror import CBMirror, Snapshot
from workflow.digest import OpenCredit
from workflow.inbox import Inbox, build_inbox, inbox_books
from workflow.lookup import ClientView, directory_for, load_client, search_clients
from workflow.periods import mark_closed
from workflow.sweep import Plan, build_plan, plan_books


class ConnectBoosterDirectory:
    """The `Directory` port over ConnectBooster's organizations and QuickBooks (reads in parallel on `pool`)."""

    mode = Mode.API
    source = "ConnectBooster"

    def __init__(self, *, qbo, cb, pool: ThreadPoolExecutor, now=lambda: datetime.now(UTC),
                 today: Callable[[], date] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.qbo, self.cb, self.pool, self.now = qbo, cb, pool, now
        self.today = today or (lambda: self.now().date())  # the team's date: what a write is dated
        self.mirror = CBMirror(cb, pool, clock=clock)  # every organization's credits, kept between the bulk reads
        self._checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cb-mirror")  # its looks at the history

    def find_clients(self, text: str) -> list:
        return search_clients(self.cb, text)

    def load(self, client) -> ClientView:
        view = load_client(qbo=self.qbo, cb=self.cb, org=client, pool=self.pool)
        return mark_closed(view, self.qbo.preferences().book_close_date, self.today())

    def client_for_customer(self, customer_id: str):
        """The ConnectBooster organization linked to this QuickBooks customer (the list is reused briefly)."""
        orgs = directory_for(self.cb)
        for fresh in (False, True):  # a client linked a moment ago: read the list once more
            found = next((o for o in orgs.orgs(fresh=fresh)[0] if str(o.qbo_customer_id) == str(customer_id)), None)
            if found is not None:
                return found
        raise LookupError(f"QuickBooks customer {customer_id} is not linked to a ConnectBooster organization")

    def inbox(self) -> Inbox:
        side, books = self._bulk(partial(inbox_books, self.qbo, self.pool))
        return build_inbox(qbo=self.qbo, side=side, pool=self.pool, now=self.now(), today=self.today(), books=books)

    def plan_sweep(self) -> Plan:
        side, books = self._bulk(partial(plan_books, self.qbo, self.pool))
        return build_plan(qbo=self.qbo, side=side, pool=self.pool, today=self.today(), books=books)

    def _bulk(self, books_of: Callable[[Snapshot], Books]) -> tuple[Snapshot, Books | None]:
        """ConnectBooster's side (the mirror's), and QuickBooks' books for it when already read (else None).

        With a side to start from, QuickBooks is read for the clients it holds while the mirror looks at the sync
        history, on a thread of its own (never a task of the pool: both read through it): when nothing changed
        since, the usual case, those books are the ones wanted, and the history cost no extra wait."""
        previous = self.mirror.last
        if previous is None:
            return self.mirror.snapshot(), None
        check = self._checks.submit(contextvars.copy_context().run, self.mirror.snapshot)  # the person's lane
        books = books_of(previous)
        side = check.result()
        return side, (books if side is previous else None)

    def open_credits(self) -> tuple[list[OpenCredit], list[str]]:
        """Every organization's open credits (the mirror's); an unreadable organization is named, not fatal."""
        side = self.mirror.snapshot()
        credits: list[OpenCredit] = []
        unreadable: list[str] = []
        for org in side.orgs:
            if org.id not in side.credits:
                if org.id in side.errors:
                    unreadable.append(org.name)
                continue
            credits += [OpenCredit(org.name, str(c.id), c.kind, c.number, c.date, c.remaining_amount, c.currency)
                        for c in side.credits[org.id]]
        return credits, unreadable

    def last_sync(self):
        runs = self.cb.sync_history(page_size=1)
        return runs[0] if runs else None
