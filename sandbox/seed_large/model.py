"""The large company's records while they are generated: plain objects, money in whole cents, dates as `date`.

Ids and document numbers are given at the end, in date order, as QuickBooks gives them (sandbox/seed_large/ids.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class Habits:
    """How a client is billed and pays: drawn once per client, so its history looks like one client's."""

    start: int  # first billed month (0 = 2023-12)
    end: int  # last billed month (below 35: the client left)
    cadence: int  # 1 monthly, 3 quarterly, 0 now and then
    base: int  # cents of a usual invoice
    terms: int  # days to the due date
    installments: int  # payments per invoice (1: pays in full)
    delay: tuple[int, int]  # days from invoice to first payment, low and high
    spacing: int  # days between installments


@dataclass(slots=True, eq=False)
class Client:
    name: str
    created: date
    habits: Habits | None  # None: never billed directly (a parent whose branches get the invoices)
    parent: Client | None = None
    bill_with_parent: bool = False
    id: str = ""
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        """QuickBooks' FullyQualifiedName: "Parent:Child" for a sub-customer."""
        return f"{self.parent.name}:{self.name}" if self.parent else self.name


@dataclass(slots=True, eq=False)
class Invoice:
    client: Client
    txn: date
    due: date
    total: int
    open: int  # cents still owed, kept up to date while payments are generated
    id: str = ""
    doc: str = ""


@dataclass(slots=True, eq=False)
class Memo:
    client: Client
    txn: date
    total: int
    left: int  # cents of credit not applied yet
    note: str
    id: str = ""
    doc: str = ""


@dataclass(slots=True, eq=False)
class Payment:
    client: Client
    txn: date
    total: int
    lines: list[tuple[Invoice | Memo, int]]
    ref: str | None = None
    note: str | None = None
    id: str = ""

    @property
    def unapplied(self) -> int:
        """QuickBooks' UnappliedAmt: TotalAmt − Σ invoice lines + Σ credit-memo lines."""
        return self.total - sum(a if isinstance(d, Invoice) else -a for d, a in self.lines)


def pay(client: Client, when: date, total: int, lines: list[tuple[Invoice | Memo, int]], *,
        ref: str | None = None, note: str | None = None) -> Payment:
    """A payment that also updates what its lines link (invoice `open`, memo `left`) and the client's list."""
    for doc, amount in lines:
        if isinstance(doc, Invoice):
            doc.open -= amount
        else:
            doc.left -= amount
        if (doc.open if isinstance(doc, Invoice) else doc.left) < 0:
            raise ValueError(f"generator bug: {doc} over-applied")
    p = Payment(client, when, total, lines, ref, note)
    client.payments.append(p)
    return p
