"""Guided mode's picker and inbox, read from QuickBooks alone (issue 14): no ConnectBooster call at all.

Credits are credit memos with credit left and payments with an unapplied amount; invoices are the open ones.
A client is a QuickBooks customer: its `id` is the customer's numeric Id, `qbo_customer_id` the same as text.
The job made from such a view has no ConnectBooster organization (cb_org_id None), which is what marks it
guided (workflow.machine.is_guided).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from data.jobs import stamp
from integrations.errors import IntegrationError
from workflow.inbox import CAN_APPLY, NO_OPEN_INVOICE, Inbox, InboxClient, InboxCredit
from workflow.lookup import APPLIED_WAITING_SYNC, UNAPPLIED, ClientView, CreditOption, InvoiceOption, clean_query
from workflow.service import CreditService
from workflow.sweep import Plan, plan_clients

RESYNC_LOOKBACK_DAYS = 60  # used-up credits this recent are offered for "guide me through ConnectBooster"


@dataclass(frozen=True)
class Customer:
    """A QuickBooks customer in the shape the picker's handlers expect of an organization."""

    id: int
    name: str
    qbo_customer_id: str
    balance: dict | None = None


class NoConnectBooster:
    """Stands in for the ConnectBooster client in guided mode: any call is a bug, and says so."""

    base_url = ""

    def __getattr__(self, name: str):
        raise RuntimeError(f"guided mode has no ConnectBooster API: nothing may call ConnectBooster.{name}")


def _customer(c) -> Customer:
    return Customer(id=int(c.id) if str(c.id).isdigit() else 0, name=c.display_name, qbo_customer_id=str(c.id))


def search_customers(qbo, text: str) -> list[Customer]:
    """QuickBooks customers whose name contains the text (straight or curly apostrophes), the exact one alone."""
    query = clean_query(text)
    found = [_customer(c) for c in qbo.find_customers(name=query) if c.active]
    exact = [c for c in found if c.name.casefold() == query.casefold()]
    return exact if len(exact) == 1 else found


def load_client(*, qbo, org, pool: ThreadPoolExecutor, today: date | None = None) -> ClientView:
    """Credits with something left, recently used-up credits (for the guided resync), open invoices."""
    customer = org.qbo_customer_id
    credits_f = pool.submit(qbo.list_credits, customer_id=customer)
    invoices_f = pool.submit(qbo.list_open_invoices, customer_id=customer)
    since = date.fromordinal((today or datetime.now(UTC).date()).toordinal() - RESYNC_LOOKBACK_DAYS).isoformat()
    used_f = pool.submit(qbo.used_up_credits, customer_id=customer, since=since)
    credits = [CreditOption(key=f"{c.kind}:{c.id}", kind=c.kind, qbo_id=c.id, number=c.number, date=c.txn_date,
                            remaining=c.remaining, currency=c.currency, diagnosis=UNAPPLIED)
               for c in credits_f.result()]
    credits += [_used(c) for c in used_f.result()]  # ConnectBooster may still show them until a person syncs
    invoices = [InvoiceOption(qbo_id=i.id, number=i.number, date=i.txn_date, due_date=i.due_date, total=i.total,
                              balance=i.balance, currency=i.currency) for i in invoices_f.result()]
    # org_id None: the bot knows no ConnectBooster organization (this is what makes the job guided).
    return ClientView(org_id=None, name=org.name, qbo_customer_id=customer, credits=credits, invoices=invoices)


def _used(credit) -> CreditOption:
    return CreditOption(key=f"{credit.kind}:{credit.id}", kind=credit.kind, qbo_id=credit.id, number=credit.number,
                        date=credit.txn_date, remaining=Decimal("0.00"), cb_remaining=credit.total,
                        currency=credit.currency, diagnosis=APPLIED_WAITING_SYNC)


def plan_sweep(*, qbo, pool: ThreadPoolExecutor, today: date | None = None) -> Plan:
    """The sweep's plan from QuickBooks alone: every customer with an unapplied credit, planned like API mode.

    QuickBooks cannot see a payment waiting in ConnectBooster, so the plan cannot skip such an invoice; the guided
    checklist says what to do if ConnectBooster shows one."""
    ids = sorted({c.customer_id for c in qbo.all_open_credits()}, key=lambda i: (_int(i), i))

    def load(customer: Customer) -> ClientView:
        found = _customer(qbo.get_customer(customer_id=customer.qbo_customer_id))
        return load_client(qbo=qbo, org=found, pool=pool, today=today)

    return plan_clients([Customer(id=_int(i), name=f"customer {i}", qbo_customer_id=i) for i in ids], load)


# -- the inbox ---------------------------------------------------------------------------------------------
def build_inbox(*, qbo, pool: ThreadPoolExecutor, now: datetime | None = None) -> Inbox:
    """Every customer with an unapplied credit, oldest credit first, each with the oldest open invoice.

    QuickBooks has no "unapplied" filter on payments: the client reads every payment with money and filters.
    """
    now = now or datetime.now(UTC)
    by_customer: dict[str, list] = {}
    for c in qbo.all_open_credits():
        by_customer.setdefault(c.customer_id, []).append(c)
    invoice_reads = {cid: pool.submit(qbo.list_open_invoices, customer_id=cid) for cid in by_customer}
    customer_reads = {cid: pool.submit(qbo.get_customer, customer_id=cid) for cid in by_customer}
    clients = []
    for cid, found in by_customer.items():
        found.sort(key=lambda c: (c.txn_date, c.kind, c.id))
        try:
            name = customer_reads[cid].result().display_name
            invoices = invoice_reads[cid].result()
        except IntegrationError as e:
            clients.append(InboxClient(_int(cid), f"customer {cid}", cid, error=f"couldn't read QuickBooks "
                                                                                  f"({type(e).__name__})"))
            continue
        oldest = invoices[0].number if invoices else None
        rows = [InboxCredit(key=f"{c.kind}:{c.id}", cb_id=None, kind=c.kind, number=c.number, date=c.txn_date,
                            cb_remaining=c.remaining, remaining=c.remaining, currency=c.currency,
                            diagnosis=CAN_APPLY if oldest else NO_OPEN_INVOICE, oldest_invoice=oldest)
                for c in found]
        clients.append(InboxClient(_int(cid), name, cid, rows))
    # Oldest credit first: the money that has waited longest is the first thing to deal with.
    clients.sort(key=lambda c: (min((k.date for k in c.credits), default="9999"), c.name.casefold()))
    return Inbox(clients=clients, read_at=stamp(now))


def age_days(credit_date: str, today: date) -> int | None:
    """Days since the credit's date (None when it has none)."""
    try:
        return (today - date.fromisoformat(credit_date[:10])).days
    except ValueError:
        return None


def _int(customer_id: str) -> int:
    return int(customer_id) if str(customer_id).isdigit() else 0


class DigestReads:
    """What the daily digest reads of ConnectBooster, answered from QuickBooks in guided mode: the customers with
    unapplied credits and those credits (ids are QuickBooks'); no sync history (the bot runs no sync)."""

    def __init__(self, qbo, pool: ThreadPoolExecutor) -> None:
        self.qbo, self.pool = qbo, pool
        self._credits: dict[int, list] = {}

    def sync_history(self, *, page_size: int = 1) -> list:
        return []

    def search_organizations(self, *, text: str = "") -> list[Customer]:
        inbox = build_inbox(qbo=self.qbo, pool=self.pool)
        self._credits = {c.org_id: c.credits for c in inbox.clients}
        return [Customer(id=c.org_id, name=c.name, qbo_customer_id=c.qbo_customer_id or "") for c in inbox.clients]

    def list_credits(self, *, org_id: int, status: str = "open") -> list:
        from types import SimpleNamespace

        return [SimpleNamespace(id=int(k.key.split(":")[1]) if k.key.split(":")[1].isdigit() else 0, kind=k.kind,
                                number=k.number, date=k.date, remaining_amount=k.remaining, currency=k.currency)
                for k in self._credits.get(org_id, [])]


class GuidedCreditService(CreditService):
    """The credit service of guided mode: lookups from QuickBooks alone; approvals and the write as in API mode."""

    def find_clients(self, text: str) -> list:
        return search_customers(self.qbo, text)

    def load(self, org) -> ClientView:
        return load_client(qbo=self.qbo, org=org, pool=self.pool, today=self.now().date())

    def build_inbox(self) -> Inbox:
        return build_inbox(qbo=self.qbo, pool=self.pool, now=self.now())

    def plan_sweep(self) -> Plan:
        return plan_sweep(qbo=self.qbo, pool=self.pool, today=self.now().date())
