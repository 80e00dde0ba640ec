"""The credit inbox: every ConnectBooster organization with open credits, and why each credit still shows.

ConnectBooster's side (every organization, its open credits, the open invoices of those holding one) comes from the
directory's mirror (workflow/cb_mirror.py: kept between opens, brought up to date from the sync history);
QuickBooks is read for all of them at once (workflow/bulk.py: the credits ConnectBooster shows, by Id, and the
clients' open invoices), joined by `join_client` exactly as the picker joins them. Reads are submitted in flat
rounds (never a task that waits on another task of the same pool, which could deadlock it).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from data.jobs import stamp
from integrations.errors import IntegrationError
from workflow.bulk import Books, read_books, relatives_owing
from workflow.cb_mirror import Snapshot
from workflow.lookup import APPLIED_WAITING_SYNC, CLOSED_PERIOD, ClientView, cb_credit_ref, join_client
from workflow.periods import mark_closed

CAN_APPLY = "unapplied"                 # QuickBooks still shows credit left: apply it
RESYNC_ONLY = APPLIED_WAITING_SYNC      # QuickBooks used it up; ConnectBooster has not synced
PENDING_PAYMENT = "pending_payment"     # the oldest open invoice has a portal payment waiting to sync
NO_OPEN_INVOICE = "no_open_invoice"     # nothing to apply it to
IN_CLOSED_PERIOD = CLOSED_PERIOD        # QuickBooks would refuse its application (workflow/periods.py)


@dataclass
class InboxCredit:
    key: str                 # the picker's credit key ("credit_memo:150")
    cb_id: int | None
    kind: str
    number: str
    date: str
    cb_remaining: Decimal    # what ConnectBooster shows
    remaining: Decimal       # what QuickBooks has left (0 when used up)
    currency: str
    diagnosis: str
    oldest_invoice: str | None = None


@dataclass
class InboxClient:
    org_id: int
    name: str
    qbo_customer_id: str | None
    credits: list[InboxCredit] = field(default_factory=list)
    error: str | None = None  # the reads failed; shown instead of the credits
    note: str | None = None   # e.g. its credit could only go to a sub-customer's invoices: why the bot can't


@dataclass
class Inbox:
    clients: list[InboxClient]
    read_at: str
    books_closed_through: str | None = None  # QuickBooks' BookCloseDate when it was read

    @property
    def credit_count(self) -> int:
        return sum(len(c.credits) for c in self.clients)

    def client(self, org_id: int) -> InboxClient | None:
        return next((c for c in self.clients if c.org_id == org_id), None)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Inbox:
        clients = []
        for c in data["clients"]:
            credits = [InboxCredit(**{**k, "cb_remaining": Decimal(k["cb_remaining"]),
                                      "remaining": Decimal(k["remaining"])}) for k in c["credits"]]
            clients.append(InboxClient(**{**c, "credits": credits}))
        return cls(clients=clients, read_at=data["read_at"], books_closed_through=data.get("books_closed_through"))


def diagnose(view: ClientView) -> list[InboxCredit]:
    """Pure: each ConnectBooster credit of a joined client view, with the reason it still shows."""
    oldest = view.invoices[0] if view.invoices else None
    out = []
    for c in view.credits:
        if c.cb_id is None:  # new in QuickBooks: ConnectBooster does not show it, so it is not in the inbox
            continue
        if c.diagnosis == APPLIED_WAITING_SYNC:
            diagnosis = RESYNC_ONLY
        elif c.diagnosis == CLOSED_PERIOD:
            diagnosis = IN_CLOSED_PERIOD
        elif oldest is None:
            diagnosis = NO_OPEN_INVOICE
        elif oldest.pending_payment:
            diagnosis = PENDING_PAYMENT
        else:
            diagnosis = CAN_APPLY
        out.append(InboxCredit(key=c.key, cb_id=c.cb_id, kind=c.kind, number=c.number, date=c.date,
                               cb_remaining=c.cb_remaining if c.cb_remaining is not None else c.remaining,
                               remaining=c.remaining, currency=c.currency, diagnosis=diagnosis,
                               oldest_invoice=oldest.number if oldest else None))
    return out


def _failure(e: Exception) -> str:
    if isinstance(e, IntegrationError):
        return f"couldn't read {e.service or 'an integration'} ({type(e).__name__})"
    return str(e)


def _split(side: Snapshot) -> tuple[list[InboxClient], list[tuple]]:
    """(clients shown with an error, (organization, its open credits, its open invoices) of the others)."""
    clients: list[InboxClient] = []
    pending = []
    for org, cb_credits, cb_invoices, error in side.holders():
        if error is not None:  # one organization failing must not hide the others
            clients.append(InboxClient(org.id, org.name, org.qbo_customer_id, error=_failure(error)))
        elif not org.qbo_customer_id:
            clients.append(InboxClient(org.id, org.name, None, error="not linked to a QuickBooks customer"))
        else:
            pending.append((org, cb_credits, cb_invoices))
    return clients, pending


def inbox_books(qbo, pool: ThreadPoolExecutor, side: Snapshot) -> Books:
    """QuickBooks' copies of the credits ConnectBooster shows (the others are not in the inbox) and the open invoices
    of the clients holding them, in bulk."""
    pending = _split(side)[1]
    refs = [(*cb_credit_ref(c), org.qbo_customer_id) for org, theirs, _ in pending for c in theirs if c.qbo_id]
    # A client ConnectBooster shows with no open invoice likely has none in QuickBooks either: who else owes is
    # then asked (relatives_owing), read in the same round rather than after it.
    return read_books(qbo, pool, [org.qbo_customer_id for org, _, _ in pending], credit_ids=refs,
                      relatives=any(not invoices for _, _, invoices in pending))


def build_inbox(*, qbo, side: Snapshot, pool: ThreadPoolExecutor, now: datetime | None = None,
                today: date | None = None, books: Books | None = None) -> Inbox:
    """Diagnose every open ConnectBooster credit of `side` (the mirror's snapshot) against QuickBooks (`books`:
    already read for this side, else read now)."""
    now = now or datetime.now(UTC)
    clients, pending = _split(side)
    books = books if books is not None else inbox_books(qbo, pool, side)
    views = []
    for org, cb_credits, invoices in pending:
        try:
            if org.qbo_customer_id in books.failed:
                raise LookupError(books.failed[org.qbo_customer_id])
            view = join_client(org, org.qbo_customer_id, cb_credits=cb_credits, cb_invoices=invoices,
                               qbo_credits=books.credits.get(org.qbo_customer_id, []),
                               qbo_invoices=books.invoices.get(org.qbo_customer_id, []))
        except (IntegrationError, LookupError) as e:
            clients.append(InboxClient(org.id, org.name, org.qbo_customer_id, error=_failure(e)))
            continue
        views.append(mark_closed(view, books.closed_through, today or now.date()))
    notes = relatives_owing(qbo, [v.qbo_customer_id for v in views if not v.invoices and v.usable_credits],
                            books.everyone)
    for view in views:
        credits = diagnose(view)
        if credits:
            clients.append(InboxClient(view.org_id, view.name, view.qbo_customer_id, credits,
                                       note=notes.get(view.qbo_customer_id)))
    clients.sort(key=lambda c: (c.name.casefold(), c.org_id))
    return Inbox(clients=clients, read_at=stamp(now), books_closed_through=books.closed_through)
