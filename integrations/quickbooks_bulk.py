"""QuickBooks reads for many customers at once: what planning a sweep and opening the inbox need.

Each read takes up to BULK_CHUNK customers per query (`CustomerRef IN ('1', '2', ...)`), paged by `ORDERBY Id` (a
chunk matching more than 1,000 rows costs one request per page), so 300 clients cost a few requests per kind of
document instead of three or more each. `UnappliedAmt` is not queryable: payments are read by customer and the
unapplied ones kept here, exactly as `list_credits` does for one customer. Results are by customer id, in the order
the one-customer reads give (`list_open_invoices`, `list_credits`), so a client's plan is the same either way.
"""
from __future__ import annotations

from collections.abc import Iterable

from integrations.quickbooks_models import (
    CREDIT_MEMO,
    Credit,
    Customer,
    Invoice,
    credit_from_memo,
    credit_from_payment,
    quote,
    to_customer,
    to_invoice,
)
from integrations.quickbooks_reads import BULK_CHUNK, QuickBooksReads, credit_order, invoice_order, used_up_from


class QuickBooksBulkReads(QuickBooksReads):
    """Reads of many customers' documents in few requests (one per chunk of 100 customers and per page)."""

    def customers(self, *, ids: Iterable[str]) -> dict[str, Customer]:
        """Customers by Id (`Id IN`), 100 per request; missing ids are absent."""
        return {r["Id"]: to_customer(r, self._currency) for r in self._by_ids("Customer", list(ids))}

    def active_customers(self) -> list[Customer]:
        """Every active customer, sub-customers included (one request per 1,000): who is whose parent."""
        return [to_customer(r, self._currency) for r in self._query_all("Customer", "Active = true")]

    def open_invoices_for(self, *, customer_ids: Iterable[str]) -> dict[str, list[Invoice]]:
        """Each customer's invoices with a balance, oldest first (as `list_open_invoices`)."""
        rows = self._by_customers("Invoice", customer_ids, "Balance > '0'")
        found = _grouped(i for r in rows if (i := to_invoice(r, self._currency)).balance > 0)
        return {cid: sorted(invoices, key=invoice_order) for cid, invoices in found.items()}

    def open_credit_memos_for(self, *, customer_ids: Iterable[str]) -> dict[str, list[Credit]]:
        """Each customer's credit memos with credit left, oldest first."""
        rows = self._by_customers("CreditMemo", customer_ids, "Balance > '0'")
        memos = (c for r in rows if (c := credit_from_memo(r, self._currency)).remaining > 0)
        return {cid: sorted(found, key=credit_order) for cid, found in _grouped(memos).items()}

    def unapplied_payments_for(self, *, customer_ids: Iterable[str]) -> dict[str, list[Credit]]:
        """Each customer's payments with an unapplied amount, oldest first (every payment is read: see above)."""
        rows = self._by_customers("Payment", customer_ids)
        payments = (c for r in rows if (c := credit_from_payment(r, self._currency)).remaining > 0)
        return {cid: sorted(found, key=credit_order) for cid, found in _grouped(payments).items()}

    def used_up_credits_for(self, *, customer_ids: Iterable[str], since: str) -> dict[str, list[Credit]]:
        """Each customer's credits fully applied on or after `since` (as `used_up_credits`), from the payments dated
        since then only (`TxnDate >=`, not the whole history) and the credit memos they link (`Id IN`)."""
        payments = self._by_customers("Payment", customer_ids, f"TxnDate >= {quote(since)}")
        memo_ids = sorted({link.get("TxnId") for p in payments for line in p.get("Line", [])
                           for link in line.get("LinkedTxn", [])
                           if link.get("TxnType") == "CreditMemo" and link.get("TxnId")})
        memos = self.get_credits(kind=CREDIT_MEMO, ids=memo_ids) if memo_ids else {}
        by_customer: dict[str, list[dict]] = {}
        for p in payments:
            by_customer.setdefault(str((p.get("CustomerRef") or {}).get("value", "")), []).append(p)
        used = {}
        for cid, theirs in by_customer.items():
            linked = {m.id: m for m in memos.values() if m.customer_id == cid}
            found = used_up_from(theirs, linked, since, self._currency)
            if found:
                used[cid] = found
        return used

    def used_up_credits(self, *, customer_id: str, since: str) -> list[Credit]:
        """One customer's credits fully applied on or after `since` (YYYY-MM-DD): see `used_up_from`."""
        return self.used_up_credits_for(customer_ids=[customer_id], since=since).get(str(customer_id), [])

    def _by_customers(self, entity: str, customer_ids: Iterable[str], condition: str = "") -> list[dict]:
        """Every row of `entity` whose CustomerRef is one of these ids (and meets `condition`), chunk by chunk."""
        wanted = list(dict.fromkeys(str(i) for i in customer_ids if str(i)))
        rows: list[dict] = []
        for n in range(0, len(wanted), BULK_CHUNK):
            where = f"CustomerRef IN ({', '.join(quote(i) for i in wanted[n:n + BULK_CHUNK])})"
            rows += self._query_all(entity, f"{where} AND {condition}" if condition else where)
        return rows


def _grouped(records: Iterable) -> dict[str, list]:
    found: dict[str, list] = {}
    for record in records:
        found.setdefault(str(record.customer_id), []).append(record)
    return found
