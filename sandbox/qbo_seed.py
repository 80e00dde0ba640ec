"""API-shaped QBO records built from sandbox/seed.py (payments are written by the ledger's own create logic)."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from sandbox import seed
from sandbox.qbo_wire import USD, day_epoch, stamp

CUSTOMERS_CREATED = "2026-01-05"


def _meta(day: str) -> dict:
    t = stamp(day_epoch(day))
    return {"CreateTime": t, "LastUpdatedTime": t}


def _sales_lines(amount: Decimal, item: str) -> list[dict]:
    return [
        {"Id": "1", "LineNum": 1, "Amount": amount, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"name": item, "value": "1"}, "Qty": 1, "UnitPrice": amount,
                                 "TaxCodeRef": {"value": "NON"}}},
        {"DetailType": "SubTotalLineDetail", "Amount": amount, "SubTotalLineDetail": {}},
    ]


def customer(cid: str, name: str) -> dict:
    return {
        "Id": cid, "SyncToken": "0", "domain": "QBO", "sparse": False, "DisplayName": name,
        "FullyQualifiedName": name, "CompanyName": name, "PrintOnCheckName": name, "Active": True,
        "Job": False, "Balance": Decimal("0"), "BalanceWithJobs": Decimal("0"), "Taxable": False,
        "PreferredDeliveryMethod": "Print", "CurrencyRef": dict(USD), "MetaData": _meta(CUSTOMERS_CREATED),
    }


def invoice_record(iid: str, doc: str, cid: str, name: str, txn: str, due: str, total: Decimal) -> dict:
    """An open Invoice in the home currency (callers may set CurrencyRef/ExchangeRate)."""
    return {
        "Id": iid, "SyncToken": "0", "domain": "QBO", "sparse": False, "DocNumber": doc,
        "TxnDate": txn, "DueDate": due, "TotalAmt": total, "Balance": total, "Deposit": Decimal("0"),
        "CustomerRef": {"name": name, "value": cid}, "CurrencyRef": dict(USD),
        "Line": _sales_lines(total, "Managed Services"), "ApplyTaxAfterDiscount": False,
        "EmailStatus": "NotSet", "PrintStatus": "NeedToPrint", "MetaData": _meta(txn),
    }


def memo_record(mid: str, doc: str, cid: str, name: str, txn: str, total: Decimal) -> dict:
    """A CreditMemo with all its credit left, in the home currency."""
    return {
        "Id": mid, "SyncToken": "0", "domain": "QBO", "sparse": False, "DocNumber": doc,
        "TxnDate": txn, "TotalAmt": total, "Balance": total, "RemainingCredit": total,
        "CustomerRef": {"name": name, "value": cid}, "CurrencyRef": dict(USD),
        "Line": _sales_lines(total, "Service Credit"), "EmailStatus": "NotSet",
        "PrintStatus": "NeedToPrint", "MetaData": _meta(txn),
    }


def build() -> Iterator[tuple[str, dict]]:
    """(entity, record) for every seeded customer, invoice and credit memo, balances at face value."""
    names = seed.CUSTOMERS
    for cid, name in names.items():
        yield "Customer", customer(cid, name)
    for iid, doc, cid, txn, due, total in seed.INVOICES:
        yield "Invoice", invoice_record(iid, doc, cid, names[cid], txn, due, total)
    for mid, doc, cid, txn, total in seed.CREDIT_MEMOS:
        yield "CreditMemo", memo_record(mid, doc, cid, names[cid], txn, total)
