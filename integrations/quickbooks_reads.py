"""QuickBooks reads: customers, invoices and credits one by one or in bulk, typed Payments, and reconcile reads.

Reconcile reads answer "did my earlier write land?" without writing: before repeating a write
whose outcome is unknown (no answer, 5xx, a kill, Retry hours later), look first; found -> continue as applied.
"""
from __future__ import annotations

import logging
from decimal import Decimal

from integrations.quickbooks_models import (
    CREDIT_MEMO,
    UNAPPLIED_PAYMENT,
    Credit,
    Customer,
    Invoice,
    PaymentResult,
    apostrophe_variants,
    credit_from_memo,
    credit_from_payment,
    natural_key,
    quote,
    to_customer,
    to_invoice,
)
from integrations.quickbooks_payments import (
    Payment,
    is_credit_memo_application,
    is_payment_application,
    to_payment,
)
from integrations.quickbooks_transport import QuickBooksTransport

log = logging.getLogger("integrations.quickbooks")

BULK_CHUNK = 100  # ids per `Id IN (...)` query: one request each


class QuickBooksReads(QuickBooksTransport):
    """Every read the bot makes."""

    def find_customers(self, *, name: str, exact: bool = False) -> list[Customer]:
        """Customers by DisplayName: exact match, or a partial match trying straight and curly apostrophes."""
        name = name.strip()
        if not name:
            return []
        found: dict[str, Customer] = {}
        for variant in [name] if exact else apostrophe_variants(name):
            where = f"DisplayName = {quote(variant)}" if exact else f"DisplayName LIKE {quote('%' + variant + '%')}"
            for row in self._query_all("Customer", where):
                found.setdefault(str(row["Id"]), to_customer(row, self._currency))
        return sorted(found.values(), key=lambda c: (c.display_name.casefold(), natural_key(c.id)))

    def get_customer(self, *, customer_id: str) -> Customer:
        return to_customer(self._get("customer", customer_id)["Customer"], self._currency)

    def list_open_invoices(self, *, customer_id: str) -> list[Invoice]:
        """Invoices with a balance, oldest first (TxnDate, then DocNumber), every page."""
        rows = self._query_all("Invoice", f"CustomerRef = {quote(customer_id)} AND Balance > '0'")
        invoices = [to_invoice(r, self._currency) for r in rows]
        return sorted((i for i in invoices if i.balance > 0), key=invoice_order)

    def list_credits(self, *, customer_id: str) -> list[Credit]:
        """Credit memos with credit left and payments with an unapplied amount, oldest first."""
        # UnappliedAmt is not queryable: fetch the customer's payments and keep the unapplied ones here.
        # Both queries at once: one round trip instead of two before the picker can show (bench/picker.py).
        payments_f = self._reads.submit(self.payments_for_customer, customer_id=customer_id)
        memos = self._query_all("CreditMemo", f"CustomerRef = {quote(customer_id)} AND Balance > '0'")
        payments = payments_f.result()
        credits = [credit_from_memo(m, self._currency) for m in memos]
        credits += [credit_from_payment(p, self._currency) for p in payments]
        return sorted((c for c in credits if c.remaining > 0), key=credit_order)

    def payments_for_customer(self, *, customer_id: str) -> list[dict]:
        """Every Payment of a customer, parsed (Decimal money); e.g. to find which one used a credit memo."""
        return self._query_all("Payment", f"CustomerRef = {quote(customer_id)}")

    def get_invoice(self, *, invoice_id: str) -> Invoice:
        return to_invoice(self._get("invoice", invoice_id)["Invoice"], self._currency)

    def find_invoice_by_number(self, *, number: str) -> Invoice | None:
        """The invoice with this DocNumber ("#10040" is a DocNumber; writes need its Id)."""
        number = number.strip().lstrip("#")
        rows = self._query_all("Invoice", f"DocNumber = {quote(number)}")
        invoices = sorted((to_invoice(r, self._currency) for r in rows), key=lambda i: (i.txn_date, natural_key(i.id)))
        if len(invoices) > 1:  # QuickBooks allows duplicate DocNumbers when the preference is off
            log.warning("QuickBooks has %d invoices with one DocNumber; using the oldest", len(invoices))
        return invoices[0] if invoices else None

    def get_credit(self, *, kind: str, credit_id: str) -> Credit:
        """Re-read a credit memo or a payment by Id."""
        if kind == CREDIT_MEMO:
            return credit_from_memo(self._get("creditmemo", credit_id)["CreditMemo"], self._currency)
        if kind == UNAPPLIED_PAYMENT:
            return credit_from_payment(self.get_payment(payment_id=credit_id), self._currency)
        raise ValueError(f"unknown credit kind {kind!r}")

    def get_payment(self, *, payment_id: str) -> dict:
        return self._get("payment", payment_id)["Payment"]

    # ---- bulk reads (sweeps) -------------------------------------------------------------------------

    def get_invoices(self, *, ids: list[str]) -> dict[str, Invoice]:
        """Invoices by Id, `SELECT * FROM Invoice WHERE Id IN (...)` in one request per 100 ids; missing ids absent."""
        return {r["Id"]: to_invoice(r, self._currency) for r in self._by_ids("Invoice", ids)}

    def get_credits(self, *, kind: str, ids: list[str]) -> dict[str, Credit]:
        """Credit memos or payments by Id, in bulk like get_invoices; missing ids are absent."""
        if kind == CREDIT_MEMO:
            return {r["Id"]: credit_from_memo(r, self._currency) for r in self._by_ids("CreditMemo", ids)}
        if kind == UNAPPLIED_PAYMENT:
            return {r["Id"]: credit_from_payment(r, self._currency) for r in self._by_ids("Payment", ids)}
        raise ValueError(f"unknown credit kind {kind!r}")

    def _by_ids(self, entity: str, ids: list[str]) -> list[dict]:
        wanted = list(dict.fromkeys(str(i) for i in ids if str(i)))
        rows: list[dict] = []
        for n in range(0, len(wanted), BULK_CHUNK):
            chunk = wanted[n:n + BULK_CHUNK]
            # One page holds the whole chunk, so no row can be skipped; ORDERBY Id keeps every paged query ordered.
            statement = (f"SELECT * FROM {entity} WHERE Id IN ({', '.join(quote(i) for i in chunk)}) "
                         f"ORDERBY Id STARTPOSITION 1 MAXRESULTS {len(chunk)}")
            page = self._call("GET", "query", params={"query": statement}).get("QueryResponse", {}).get(entity, [])
            rows += [dict(r, Id=str(r["Id"])) for r in page]
        return rows

    # ---- typed payments -----------------------------------------------------------------------------

    def payment(self, payment_id: str) -> Payment:
        """One Payment, typed (lines with their LinkedTxn)."""
        return to_payment(self.get_payment(payment_id=payment_id), self._currency)

    def customer_payments(self, *, customer_id: str) -> list[Payment]:
        """Every live Payment of a customer, typed."""
        return [to_payment(p, self._currency) for p in self.payments_for_customer(customer_id=customer_id)]

    def applied_invoice_for_credit(self, *, customer_id: str, kind: str, credit_id: str) -> Invoice | None:
        """Which invoice this credit was applied to: for a credit memo the Payment linking it, for a payment its
        invoice line (the first one, in line order); None when QuickBooks shows no such application."""
        if kind == CREDIT_MEMO:
            found = [p for p in self.customer_payments(customer_id=customer_id)
                     if not p.deleted and p.applied_to("CreditMemo", credit_id) > 0 and p.invoice_ids()]
            invoice_ids = found[0].invoice_ids() if found else []
        elif kind == UNAPPLIED_PAYMENT:
            invoice_ids = self.payment(credit_id).invoice_ids()
        else:
            raise ValueError(f"unknown credit kind {kind!r}")
        return self.get_invoice(invoice_id=invoice_ids[0]) if invoice_ids else None

    # ---- reconcile reads ----------------------------------------------------------------------------

    def find_credit_memo_application(self, *, customer_id: str, credit_memo_id: str, invoice_id: str,
                                     amount: Decimal, marker: str) -> PaymentResult | None:
        """The job's own $0 Payment if it landed: live, linking that credit memo and that invoice for `amount`,
        with `marker` (see write_marker; without a requestid it matches any attempt of the job) in PrivateNote.

        Use before repeating a write whose outcome is unknown: found -> continue as applied (store its
        payment_id) without writing; None -> write (once).
        """
        for row in self.payments_for_customer(customer_id=customer_id):
            if is_credit_memo_application(to_payment(row, self._currency), credit_memo_id=credit_memo_id,
                                          invoice_id=invoice_id, amount=amount, marker=marker):
                log.info("QuickBooks: found our earlier credit memo application (%s)", marker)
                return self._result(row)
        return None

    def find_payment_application(self, *, payment_id: str, invoice_id: str, amount: Decimal,
                                 marker: str) -> PaymentResult | None:
        """The unapplied payment if it already carries the job's application: an invoice line of at least
        `amount` and `marker` in its PrivateNote (both written by the same request).

        Use before repeating the sparse update: found -> continue as applied without writing; None -> write.
        """
        row = self.get_payment(payment_id=payment_id)
        if is_payment_application(to_payment(row, self._currency), invoice_id=invoice_id, amount=amount,
                                  marker=marker):
            log.info("QuickBooks: found our earlier payment application (%s)", marker)
            return self._result(row)
        return None

    def _result(self, payment: dict) -> PaymentResult:
        return PaymentResult(
            payment_id=str(payment.get("Id", "")), sync_token=str(payment.get("SyncToken", "")),
            intuit_tid=self.last_intuit_tid, payment=payment,
        )

    # ---- company-wide reads (guided mode: no ConnectBooster to list the credits) ----------------------

    def all_open_credits(self) -> list[Credit]:
        """Every credit memo with credit left and every payment with an unapplied amount, company-wide.

        UnappliedAmt is not queryable: every payment with money is read and filtered here."""
        memos = self._query_all("CreditMemo", "Balance > '0'")
        payments = self._query_all("Payment", "TotalAmt > '0'")
        credits = [credit_from_memo(m, self._currency) for m in memos]
        credits += [credit_from_payment(p, self._currency) for p in payments]
        return [c for c in credits if c.remaining > 0 and c.customer_id]


def invoice_order(invoice: Invoice) -> tuple:
    """Oldest first: TxnDate, then DocNumber, then Id (the order QuickBooks' Receive Payment lists them)."""
    return invoice.txn_date, natural_key(invoice.number), natural_key(invoice.id)


def credit_order(credit: Credit) -> tuple:
    return credit.txn_date, credit.kind, natural_key(credit.id)


def used_up_from(payments: list[dict], memos: dict[str, Credit], since: str, currency: str) -> list[Credit]:
    """One customer's credits fully applied on or after `since`: the credit memos (of `memos`, read by Id) a payment
    of that date linked and left empty, and payments once unapplied whose last change is that recent."""
    linked = {link.get("TxnId") for p in payments if (p.get("TxnDate") or "") >= since
              for line in p.get("Line", []) for link in line.get("LinkedTxn", [])
              if link.get("TxnType") == "CreditMemo" and link.get("TxnId")}
    used = [m for m in sorted(memos.values(), key=lambda m: (m.txn_date, m.id)) if m.id in linked and m.remaining == 0]
    for p in payments:
        credit = credit_from_payment(p, currency)
        updated = ((p.get("MetaData") or {}).get("LastUpdatedTime") or p.get("TxnDate") or "")[:10]
        # A $0 Payment (a credit memo's application) never held money of its own: not a used-up credit.
        if credit.remaining == 0 and credit.total > 0 and (p.get("TxnDate") or "") >= since and updated >= since \
                and len(p.get("Line", [])) > 1:
            used.append(credit)
    return used
