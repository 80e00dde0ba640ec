"""More clients for load and hostile-input tests: customers, one invoice and one credit memo each.

Pass `add_clients(names)` as `Sandbox(prepare=...)`: the records are in the ledger before ConnectBooster's
first sync, so every new client shows an organizational credit from the start.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from sandbox.qbo_seed import _meta, _sales_lines, customer
from sandbox.qbo_wire import USD

FIRST_ID = 5000  # well above the seed's ids (and its next payment id, which is moved past ours)
INVOICE_TOTAL, CREDIT_TOTAL = Decimal("100.00"), Decimal("10.00")


def client_ids(n: int) -> dict[str, str]:
    """Ids of the n-th added client (0-based): customer, invoice, credit memo, invoice DocNumber."""
    base = FIRST_ID + 3 * n
    return {"customer": str(base), "invoice": str(base + 1), "credit_memo": str(base + 2),
            "invoice_number": str(40000 + n), "credit_number": str(4000 + n)}


def _doc(entity: str, ids: dict, name: str) -> dict:
    total = INVOICE_TOTAL if entity == "Invoice" else CREDIT_TOTAL
    rec = {"Id": ids["invoice" if entity == "Invoice" else "credit_memo"], "SyncToken": "0", "domain": "QBO",
           "sparse": False, "TxnDate": "2026-10-15", "TotalAmt": total, "Balance": total,
           "DocNumber": ids["invoice_number" if entity == "Invoice" else "credit_number"],
           "CustomerRef": {"name": name, "value": ids["customer"]}, "CurrencyRef": dict(USD),
           "Line": _sales_lines(total, "Managed Services" if entity == "Invoice" else "Service Credit"),
           "EmailStatus": "NotSet", "PrintStatus": "NeedToPrint", "MetaData": _meta("2026-10-15")}
    if entity == "Invoice":
        rec.update(DueDate="2026-11-14", Deposit=Decimal("0"), ApplyTaxAfterDiscount=False)
    else:
        rec["RemainingCredit"] = total
    return rec


def add_clients(names: Iterable[str]) -> Callable[[object], None]:
    """A `prepare(ledger)` hook adding one client per name ($100.00 invoice, $10.00 credit memo)."""
    names = list(names)

    def prepare(ledger) -> None:
        records = []
        for n, name in enumerate(names):
            ids = client_ids(n)
            cust = customer(ids["customer"], name)
            cust["Balance"] = cust["BalanceWithJobs"] = INVOICE_TOTAL - CREDIT_TOTAL
            records += [("Customer", cust), ("Invoice", _doc("Invoice", ids, name)),
                        ("CreditMemo", _doc("CreditMemo", ids, name))]
        ledger.add_records(records)

    return prepare
