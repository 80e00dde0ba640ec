"""The large company as QuickBooks records, built in one pass (no write path, no deep copies).

Shapes are sandbox/qbo_seed.py's (customers, invoices, credit memos) and the ledger's own payment shape
(Ledger.save_payment), with the derived fields a history of writes would have left: Balance, RemainingCredit,
UnappliedAmt, customer Balance and BalanceWithJobs, a SyncToken bumped once per write that touched the record
and MetaData.LastUpdatedTime at the last of them. `Books` also carries the ledger's indexes: Σ applied per
document and each invoice's payments in order.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from sandbox.qbo_seed import customer, invoice_record, memo_record
from sandbox.qbo_wire import USD, day_epoch, stamp
from sandbox.seed_large import LargeCompany
from sandbox.seed_large.model import Client, Invoice, Memo, Payment

PAYMENT_HOUR = 10  # payments are stamped mid-morning, as the default seed's are


@lru_cache(maxsize=4096)
def _stamp(day: date, hour: int = 9) -> str:
    return stamp(day_epoch(day.isoformat(), hour))


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@dataclass
class Books:
    """Records by entity and Id, plus the ledger's indexes (Ledger._applied and Ledger._links)."""

    docs: dict[str, dict[str, dict]] = field(default_factory=lambda: {e: {} for e in (
        "Customer", "Invoice", "CreditMemo", "Payment")})
    applied: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    links: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))


def _touch(rec: dict, when: str) -> None:
    """One more write touched this record (its SyncToken and LastUpdatedTime move on)."""
    rec["SyncToken"] = str(int(rec["SyncToken"]) + 1)
    rec["MetaData"]["LastUpdatedTime"] = max(rec["MetaData"]["LastUpdatedTime"], when)


def _customer(c: Client, balance: int, with_jobs: int, last: date) -> dict:
    rec = customer(c.id, c.name)
    rec["MetaData"] = {"CreateTime": _stamp(c.created), "LastUpdatedTime": _stamp(max(last, c.created))}
    rec["Balance"], rec["BalanceWithJobs"] = _money(balance), _money(with_jobs)
    if c.parent is not None:  # a sub-customer (QuickBooks calls them jobs too)
        rec.update(Job=True, ParentRef={"value": c.parent.id}, Level=1, FullyQualifiedName=c.full_name,
                   BillWithParent=c.bill_with_parent, CompanyName=c.parent.name)
    return rec


def _payment(p: Payment) -> dict:
    rec = {"Id": p.id, "SyncToken": "0", "domain": "QBO", "sparse": False, "DepositToAccountRef": {"value": "4"},
           "ProcessPayment": False, "CustomerRef": {"value": p.client.id, "name": p.client.name},
           "TotalAmt": _money(p.total), "TxnDate": p.txn.isoformat(),
           "Line": [{"Amount": _money(a), "LinkedTxn": [{"TxnId": d.id, "TxnType": _kind(d)}]} for d, a in p.lines],
           "UnappliedAmt": _money(p.unapplied), "CurrencyRef": dict(USD)}
    if p.ref:
        rec["PaymentRefNum"] = p.ref
    if p.note:
        rec["PrivateNote"] = p.note
    t = _stamp(p.txn, PAYMENT_HOUR)
    rec["MetaData"] = {"CreateTime": t, "LastUpdatedTime": t}
    return rec


def _kind(doc: Invoice | Memo) -> str:
    return "Invoice" if isinstance(doc, Invoice) else "CreditMemo"


def _documents(company: LargeCompany, books: Books) -> None:
    for c in company.clients:
        for i in c.invoices:
            books.docs["Invoice"][i.id] = invoice_record(i.id, i.doc, c.id, c.name, i.txn.isoformat(),
                                                         i.due.isoformat(), _money(i.total))
    for m in company.memos:
        rec = memo_record(m.id, m.doc, m.client.id, m.client.name, m.txn.isoformat(), _money(m.total))
        rec["PrivateNote"] = m.note
        books.docs["CreditMemo"][m.id] = rec


def _payments(company: LargeCompany, books: Books) -> None:
    """Payments in Id order (the order they were written), applying each line to what it links."""
    for p in sorted(company.payments, key=lambda p: int(p.id)):
        rec = books.docs["Payment"][p.id] = _payment(p)
        t = rec["MetaData"]["LastUpdatedTime"]
        for doc, amount in p.lines:
            kind = _kind(doc)
            target = books.docs[kind][doc.id]
            target["Balance"] -= _money(amount)
            if kind == "CreditMemo":
                target["RemainingCredit"] = target["Balance"]
            else:
                books.links[doc.id][p.id] = None
            books.applied[(kind, doc.id)] = books.applied.get((kind, doc.id), Decimal(0)) + _money(amount)
            _touch(target, t)


def _customers(company: LargeCompany, books: Books) -> None:
    """Balance = Σ invoice balances − Σ credit left − Σ unapplied; BalanceWithJobs adds the sub-customers'."""
    own: dict[int, int] = defaultdict(int)
    last: dict[int, date] = {}
    for c in company.clients:
        for i in c.invoices:
            own[id(c)] += i.open
        for p in c.payments:
            own[id(c)] -= p.unapplied
        last[id(c)] = max([i.txn for i in c.invoices] + [p.txn for p in c.payments] + [c.created])
    for m in company.memos:
        own[id(m.client)] -= m.left
        last[id(m.client)] = max(last[id(m.client)], m.txn)
    jobs: dict[int, int] = defaultdict(int)
    for c in company.clients:
        if c.parent is not None:
            jobs[id(c.parent)] += own[id(c)]
    for c in company.clients:
        books.docs["Customer"][c.id] = _customer(c, own[id(c)], own[id(c)] + jobs[id(c)], last[id(c)])


def build(company: LargeCompany) -> Books:
    """Every generated record, derived fields filled in (the help article's come from the default seed)."""
    books = Books()
    _documents(company, books)
    _payments(company, books)
    _customers(company, books)
    return books
