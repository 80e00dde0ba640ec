"""The directory of guided mode: clients, credits and invoices read from QuickBooks alone, no ConnectBooster call.

Credits are credit memos with credit left and payments with an unapplied amount; invoices are the open ones.
A client is a QuickBooks customer: its `id` is the customer's numeric Id, `qbo_customer_id` the same as text.
A view read here knows no ConnectBooster ids; the job made from it is a guided one (its mode is stored).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from data.jobs import stamp
from data.states import Mode
from integrations.quickbooks_models import Credit
from integrations.quickbooks_reads import credit_order
from workflow.bulk import read_books, relatives_owing
from workflow.digest import OpenCredit
from workflow.inbox import CAN_APPLY, NO_OPEN_INVOICE, Inbox, InboxClient, InboxCredit
from workflow.lookup import (
    APPLIED_WAITING_SYNC,
    CLOSED_PERIOD,
    UNAPPLIED,
    ClientView,
    CreditOption,
    InvoiceOption,
    clean_query,
)
from workflow.periods import mark_closed, refused_in_closed_books
from workflow.sweep import Plan, plan_views

RESYNC_LOOKBACK_DAYS = 60  # used-up credits this recent are offered for "guide me through ConnectBooster"


@dataclass(frozen=True)
class Customer:
    """A QuickBooks customer in the shape the picker's handlers expect of an organization."""

    id: int
    name: str
    qbo_customer_id: str
    balance: dict | None = None


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
    today = today or datetime.now(UTC).date()
    customer = org.qbo_customer_id
    credits_f = pool.submit(qbo.list_credits, customer_id=customer)
    invoices_f = pool.submit(qbo.list_open_invoices, customer_id=customer)
    used_f = pool.submit(qbo.used_up_credits, customer_id=customer, since=lookback(today))
    credits = [_option(c) for c in credits_f.result()]
    credits += [_used(c) for c in used_f.result()]  # ConnectBooster may still show them until a person syncs
    # org_id None: the bot knows no ConnectBooster organization.
    view = ClientView(org_id=None, name=org.name, qbo_customer_id=customer, credits=credits,
                      invoices=[_invoice(i) for i in invoices_f.result()])
    return mark_closed(view, qbo.preferences().book_close_date, today)


def lookback(today: date) -> str:
    """The oldest date of a used-up credit still offered for the guided resync."""
    return date.fromordinal(today.toordinal() - RESYNC_LOOKBACK_DAYS).isoformat()


def _option(c) -> CreditOption:
    return CreditOption(key=f"{c.kind}:{c.id}", kind=c.kind, qbo_id=c.id, number=c.number, date=c.txn_date,
                        remaining=c.remaining, currency=c.currency, diagnosis=UNAPPLIED)


def _invoice(i) -> InvoiceOption:
    return InvoiceOption(qbo_id=i.id, number=i.number, date=i.txn_date, due_date=i.due_date, total=i.total,
                         balance=i.balance, currency=i.currency)


def _used(credit) -> CreditOption:
    return CreditOption(key=f"{credit.kind}:{credit.id}", kind=credit.kind, qbo_id=credit.id, number=credit.number,
                        date=credit.txn_date, remaining=Decimal("0.00"), cb_remaining=credit.total,
                        currency=credit.currency, diagnosis=APPLIED_WAITING_SYNC)


def _name(books, cid: str) -> str:
    found = books.customers.get(cid)
    return found.display_name if found is not None else f"customer {cid}"


def plan_sweep(*, qbo, pool: ThreadPoolExecutor, today: date, credits=None) -> Plan:
    """The sweep's plan from QuickBooks alone: every customer with an unapplied credit, planned like API mode.

    The customers come from `credits` (the index when it is kept fresh, else QuickBooks' full read); the index's
    credits are read again by Id (live figures), then every customer's open invoices and name in bulk
    (workflow/bulk.py). QuickBooks cannot see a payment waiting in ConnectBooster, so the plan cannot skip such an
    invoice; the guided checklist says what to do if ConnectBooster shows one."""
    found = list((credits or qbo.all_open_credits)())
    ids = sorted({c.customer_id for c in found}, key=lambda i: (_int(i), i))
    live = all(isinstance(c, Credit) for c in found)  # straight from QuickBooks: no second read needed
    refs = [] if live else [(c.kind, c.id, c.customer_id) for c in found]
    books = read_books(qbo, pool, ids, credit_ids=refs, names=True)
    if live:
        for c in sorted(found, key=credit_order):
            books.credits.setdefault(c.customer_id, []).append(c)
    views: list[ClientView | str] = []
    for cid in ids:
        if cid in books.failed:
            views.append(f"{_name(books, cid)}: {books.failed[cid]}")
            continue
        view = ClientView(org_id=None, name=_name(books, cid), qbo_customer_id=cid,
                          credits=[_option(c) for c in books.credits.get(cid, []) if c.remaining > 0],
                          invoices=[_invoice(i) for i in books.invoices.get(cid, [])])
        views.append(mark_closed(view, books.closed_through, today))
    return plan_views(views, qbo)


# -- the inbox ---------------------------------------------------------------------------------------------
def build_inbox(*, qbo, pool: ThreadPoolExecutor, now: datetime | None = None, today: date | None = None,
                credits=None) -> Inbox:
    """Every customer with an unapplied credit, oldest credit first, each with the oldest open invoice.

    `credits`: where the open credits come from: the index (workflow/credit_watch.py) when it is kept fresh; else
    QuickBooks' full read (no "unapplied" filter on payments: every payment with money is read and filtered).
    Names and open invoices are read for every customer at once (workflow/bulk.py).
    """
    now = now or datetime.now(UTC)
    today = today or now.date()
    by_customer: dict[str, list] = {}
    for c in (credits or qbo.all_open_credits)():
        by_customer.setdefault(c.customer_id, []).append(c)
    books = read_books(qbo, pool, list(by_customer), names=True)
    closed = books.closed_through

    def shut(c) -> bool:
        return refused_in_closed_books(c.kind, c.txn_date, closed, today)

    notes = relatives_owing(qbo, [cid for cid, found in by_customer.items() if cid not in books.failed
                                  and not books.invoices.get(cid) and not all(shut(c) for c in found)])
    clients = []
    for cid, found in by_customer.items():
        found.sort(key=lambda c: (c.txn_date, c.kind, c.id))
        if cid in books.failed:
            clients.append(InboxClient(_int(cid), _name(books, cid), cid, error=books.failed[cid]))
            continue
        invoices = books.invoices.get(cid, [])
        oldest = invoices[0].number if invoices else None
        rows = [InboxCredit(key=f"{c.kind}:{c.id}", cb_id=None, kind=c.kind, number=c.number, date=c.txn_date,
                            cb_remaining=c.remaining, remaining=c.remaining, currency=c.currency,
                            diagnosis=CLOSED_PERIOD if shut(c) else CAN_APPLY if oldest else NO_OPEN_INVOICE,
                            oldest_invoice=oldest)
                for c in found]
        clients.append(InboxClient(_int(cid), _name(books, cid), cid, rows, note=notes.get(cid)))
    # Oldest credit first: the money that has waited longest is the first thing to deal with.
    clients.sort(key=lambda c: (min((k.date for k in c.credits), default="9999"), c.name.casefold()))
    return Inbox(clients=clients, read_at=stamp(now), books_closed_through=closed)


def age_days(credit_date: str, today: date) -> int | None:
    """Days since the credit's date (None when it has none)."""
    try:
        return (today - date.fromisoformat(credit_date[:10])).days
    except ValueError:
        return None


def _int(customer_id: str) -> int:
    return int(customer_id) if str(customer_id).isdigit() else 0


class QuickBooksDirectory:
    """The `Directory` port over QuickBooks alone (guided mode: the bot has no ConnectBooster API)."""

    mode = Mode.GUIDED
    source = "QuickBooks"

    def __init__(self, *, qbo, pool: ThreadPoolExecutor, now=lambda: datetime.now(UTC), credits=None,
                 today: Callable[[], date] | None = None) -> None:
        self.qbo, self.pool, self.now = qbo, pool, now
        self.today = today or (lambda: self.now().date())  # the team's date: what a write is dated
        self.credits = credits or qbo.all_open_credits  # every open credit: the index's, once it is kept fresh

    def find_clients(self, text: str) -> list[Customer]:
        return search_customers(self.qbo, text)

    def load(self, client) -> ClientView:
        return load_client(qbo=self.qbo, org=client, pool=self.pool, today=self.today())

    def inbox(self) -> Inbox:
        return build_inbox(qbo=self.qbo, pool=self.pool, now=self.now(), today=self.today(), credits=self.credits)

    def plan_sweep(self) -> Plan:
        return plan_sweep(qbo=self.qbo, pool=self.pool, today=self.today(), credits=self.credits)

    def client_for_customer(self, customer_id: str) -> Customer:
        return _customer(self.qbo.get_customer(customer_id=customer_id))

    def open_credits(self) -> tuple[list[OpenCredit], list[str]]:
        inbox = self.inbox()
        credits = [OpenCredit(c.name, f"#{k.number}", k.kind, k.number, k.date, k.remaining, k.currency)
                   for c in inbox.clients for k in c.credits]
        return credits, [c.name for c in inbox.clients if c.error]

    def last_sync(self) -> None:
        return None  # a person runs ConnectBooster's syncs: the bot sees none
