"""The credit inbox: every ConnectBooster organization with open credits, and why each credit still shows.

The contract has no "all credits" endpoint, so the inbox lists organizations (an empty search matches every
name), reads each one's open credits in parallel, and for those with credits reads ConnectBooster invoices and
QuickBooks credits and invoices, joined by `join_client` exactly as the picker joins them. Reads are submitted
in flat rounds (never a task that waits on another task of the same pool, which could deadlock it).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from data.jobs import stamp
from integrations.errors import IntegrationError
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, join_client

CAN_APPLY = "unapplied"                 # QuickBooks still shows credit left: apply it
RESYNC_ONLY = APPLIED_WAITING_SYNC      # QuickBooks used it up; ConnectBooster has not synced
PENDING_PAYMENT = "pending_payment"     # the oldest open invoice has a portal payment waiting to sync
NO_OPEN_INVOICE = "no_open_invoice"     # nothing to apply it to


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


@dataclass
class Inbox:
    clients: list[InboxClient]
    read_at: str

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
        return cls(clients=clients, read_at=data["read_at"])


def diagnose(view: ClientView) -> list[InboxCredit]:
    """Pure: each ConnectBooster credit of a joined client view, with the reason it still shows."""
    oldest = view.invoices[0] if view.invoices else None
    out = []
    for c in view.credits:
        if c.cb_id is None:  # new in QuickBooks: ConnectBooster does not show it, so it is not in the inbox
            continue
        if c.diagnosis == APPLIED_WAITING_SYNC:
            diagnosis = RESYNC_ONLY
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


def build_inbox(*, qbo, cb, pool: ThreadPoolExecutor, now: datetime | None = None) -> Inbox:
    """Read both systems and diagnose every open ConnectBooster credit (raises if organizations can't be listed)."""
    orgs = cb.search_organizations(text="")
    credit_reads = {o.id: pool.submit(cb.list_credits, org_id=o.id, status="open") for o in orgs}
    clients: list[InboxClient] = []
    pending = []
    for org in orgs:
        try:
            cb_credits = credit_reads[org.id].result()
        except IntegrationError as e:  # one organization failing must not hide the others
            clients.append(InboxClient(org.id, org.name, org.qbo_customer_id, error=_failure(e)))
            continue
        if not cb_credits:
            continue
        if not org.qbo_customer_id:
            clients.append(InboxClient(org.id, org.name, None, error="not linked to a QuickBooks customer"))
            continue
        customer = org.qbo_customer_id
        reads = {"cb_invoices": pool.submit(cb.list_invoices, org_id=org.id, status="open"),
                 "qbo_credits": pool.submit(qbo.list_credits, customer_id=customer),
                 "qbo_invoices": pool.submit(qbo.list_open_invoices, customer_id=customer)}
        pending.append((org, cb_credits, reads))
    for org, cb_credits, reads in pending:
        try:
            got = {name: f.result() for name, f in reads.items()}
        except IntegrationError as e:
            clients.append(InboxClient(org.id, org.name, org.qbo_customer_id, error=_failure(e)))
            continue
        view = join_client(org, org.qbo_customer_id, cb_credits=cb_credits, **got)
        credits = diagnose(view)
        if credits:
            clients.append(InboxClient(org.id, org.name, org.qbo_customer_id, credits))
    clients.sort(key=lambda c: (c.name.casefold(), c.org_id))
    return Inbox(clients=clients, read_at=stamp(now or datetime.now(UTC)))
