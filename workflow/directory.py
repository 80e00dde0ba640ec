"""The directory of API mode: clients are ConnectBooster organizations, joined with QuickBooks by customer id.

The picker (workflow/lookup.py), the inbox (workflow/inbox.py), the sweep's plan (workflow/sweep.py) and the
digest's open credits all read ConnectBooster's organizations and credits and join QuickBooks' documents to them.
Guided mode's directory, which reads QuickBooks alone, is workflow/qbo_only.py.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from data.states import Mode
from integrations.errors import IntegrationError
from workflow.digest import OpenCredit
from workflow.inbox import Inbox, build_inbox
from workflow.lookup import ClientView, directory_for, load_client, search_clients
from workflow.periods import mark_closed
from workflow.sweep import Plan, build_plan


class ConnectBoosterDirectory:
    """The `Directory` port over ConnectBooster's organizations and QuickBooks (reads in parallel on `pool`)."""

    mode = Mode.API
    source = "ConnectBooster"

    def __init__(self, *, qbo, cb, pool: ThreadPoolExecutor, now=lambda: datetime.now(UTC),
                 today: Callable[[], date] | None = None) -> None:
        self.qbo, self.cb, self.pool, self.now = qbo, cb, pool, now
        self.today = today or (lambda: self.now().date())  # the team's date: what a write is dated

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
        return build_inbox(qbo=self.qbo, cb=self.cb, pool=self.pool, now=self.now(), today=self.today())

    def plan_sweep(self) -> Plan:
        return build_plan(qbo=self.qbo, cb=self.cb, pool=self.pool, today=self.today())

    def open_credits(self) -> tuple[list[OpenCredit], list[str]]:
        """Every organization's open credits, read in parallel; an unreadable organization is named, not fatal."""
        orgs = self.cb.search_organizations(text="")
        reads = [(o, self.pool.submit(self.cb.list_credits, org_id=o.id, status="open")) for o in orgs]
        credits: list[OpenCredit] = []
        unreadable: list[str] = []
        for org, future in reads:
            try:
                credits += [OpenCredit(org.name, str(c.id), c.kind, c.number, c.date, c.remaining_amount, c.currency)
                            for c in future.result()]
            except IntegrationError:
                unreadable.append(org.name)
        return credits, unreadable

    def last_sync(self):
        runs = self.cb.sync_history(page_size=1)
        return runs[0] if runs else None
