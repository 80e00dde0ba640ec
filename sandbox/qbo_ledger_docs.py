"""Customers, invoices and credit memos as QuickBooks' own screens change them; the closing date; change events.

A mixin of Ledger. Tests and the sandbox console create, change and delete these here (what a bookkeeper does in
QuickBooks, which the API the bot uses cannot do); payments are written by Ledger itself. Every change of the four
entities goes to `ledger.listeners` as a `Change` (the webhooks sender, sandbox/qbo_webhooks.py), and deletions
leave tombstones for change data capture (sandbox/qbo_cdc.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sandbox.qbo_company import currency_ref
from sandbox.qbo_seed import customer, invoice_record, memo_record
from sandbox.qbo_wire import business, period_closed, stamp

if TYPE_CHECKING:
    from sandbox.qbo_ledger import Ledger

# Read-only or derived on these entities (QuickBooks computes them, spec §1.4); update_document refuses them.
NOT_EDITABLE = {"Id", "SyncToken", "domain", "sparse", "MetaData", "Balance", "BalanceWithJobs", "RemainingCredit",
                "TotalAmt", "CustomerRef", "CurrencyRef", "LinkedTxn", "Line"}
ZERO = Decimal("0")
DELETABLE = ("Invoice", "CreditMemo")  # customers are made inactive instead (Active = false), never deleted


@dataclass(frozen=True)
class Change:
    """One change of a Customer, Invoice, CreditMemo or Payment, as webhooks name it."""

    entity: str
    id: str
    operation: str  # Create | Update | Delete | Void (the webhooks' operation names)
    at: float  # the emulator's clock
    derived: bool = False  # a balance QuickBooks recomputed because a payment changed, not an edit of the record


class LedgerDocuments:
    """Writes of non-payment records, the closing date, and the change feed."""

    # ---- change feed --------------------------------------------------------------------------------
    def _changed(self: Ledger, entity: str, doc_id: str, operation: str, now: float, derived: bool = False) -> None:
        change = Change(entity, str(doc_id), operation, now, derived)
        for listener in list(self.listeners):
            listener(change)  # listeners only queue (they run under the ledger's lock)

    # ---- records made in QuickBooks' UI -------------------------------------------------------------
    def create_customer(self: Ledger, name: str, *, currency: str | None = None,
                        customer_id: str | None = None) -> dict:
        """A new customer (DisplayName `name`), in the home currency unless `currency` is given."""
        with self._lock:
            now = self._clock()
            cid = customer_id or self._new_id()
            rec = customer(cid, name)
            rec["CurrencyRef"] = currency_ref(currency or self.company.home_currency)
            rec["MetaData"] = {"CreateTime": stamp(now), "LastUpdatedTime": stamp(now)}
            self._docs["Customer"][cid] = rec
            self._changed("Customer", cid, "Create", now)
            return self._render("Customer", rec)

    def create_invoice(self: Ledger, customer_id: str, total: Decimal | str, *, txn_date: str,
                       due_date: str | None = None, doc_number: str | None = None,
                       invoice_id: str | None = None) -> dict:
        """A new open invoice for `customer_id` (Balance = TotalAmt), in the customer's currency."""
        return self._create_txn("Invoice", customer_id, Decimal(str(total)), txn_date, doc_number, invoice_id,
                                due_date or txn_date)

    def create_credit_memo(self: Ledger, customer_id: str, total: Decimal | str, *, txn_date: str,
                           doc_number: str | None = None, memo_id: str | None = None) -> dict:
        """A new credit memo for `customer_id` with all its credit left."""
        return self._create_txn("CreditMemo", customer_id, Decimal(str(total)), txn_date, doc_number, memo_id, None)

    def receive_payment(self: Ledger, customer_id: str, total: Decimal | str, *, txn_date: str,
                        ref_number: str | None = None) -> dict:
        """Receive Payment with no invoice ticked: a Payment of `total` recorded as a credit (Intuit, Payment:
        "created with just an amount"; UnappliedAmt = TotalAmt, no lines), in the customer's currency."""
        body: dict = {"CustomerRef": {"value": str(customer_id)}, "TotalAmt": Decimal(str(total)), "TxnDate": txn_date}
        if ref_number:
            body["PaymentRefNum"] = ref_number
        return self.create_payment(body)

    def _create_txn(self: Ledger, entity: str, cid: str, total: Decimal, txn_date: str, doc_number: str | None,
                    doc_id: str | None, due: str | None) -> dict:
        with self._lock:
            cust = self._docs["Customer"][str(cid)]
            self._check_period(txn_date, None)
            now = self._clock()
            new_id = doc_id or self._new_id()
            number = doc_number or new_id
            name = cust["DisplayName"]
            rec = (invoice_record(new_id, number, cust["Id"], name, txn_date, due, total) if entity == "Invoice"
                   else memo_record(new_id, number, cust["Id"], name, txn_date, total))
            rec["CurrencyRef"] = dict(cust["CurrencyRef"])
            rec["MetaData"] = {"CreateTime": stamp(now), "LastUpdatedTime": stamp(now)}
            self._docs[entity][new_id] = rec
            self._changed(entity, new_id, "Create", now)
            self._refresh_customer(cust["Id"], now)
            self.version += 1
            return self._render(entity, rec)

    def update_document(self: Ledger, entity: str, doc_id: str, **fields: object) -> dict:
        """Change plain fields of a customer, invoice or credit memo (e.g. DueDate, PrivateNote, Active)."""
        bad = set(fields) & NOT_EDITABLE
        if bad or entity not in ("Customer",) + DELETABLE:
            raise ValueError(f"update_document: {sorted(bad) or entity} cannot be edited here")
        with self._lock:
            rec = self._docs[entity][str(doc_id)]
            if entity != "Customer":
                self._check_period(str(fields.get("TxnDate", rec["TxnDate"])), rec)
            now = self._clock()
            rec.update(fields)
            rec["SyncToken"] = str(int(rec["SyncToken"]) + 1)
            rec["MetaData"]["LastUpdatedTime"] = stamp(now)
            self._changed(entity, rec["Id"], "Update", now)
            self.version += 1
            return self._render(entity, rec)

    def delete_document(self: Ledger, entity: str, doc_id: str) -> dict:
        """Delete an invoice or credit memo no live payment links (CDC then reports it as Deleted)."""
        if entity not in DELETABLE:
            raise ValueError(f"delete_document: {entity} cannot be deleted (customers are made inactive)")
        with self._lock:
            rec = self._docs[entity][str(doc_id)]
            self._check_period(rec["TxnDate"], rec)
            if self._applied[(entity, rec["Id"])] != 0:
                # Invented text [UNVERIFIED]: what QuickBooks does to the payments of a deleted document is not modeled.
                raise business(f"The {entity} {rec['Id']} has payments applied; remove them first.")
            now = self._clock()
            del self._docs[entity][rec["Id"]]
            self._links.pop(rec["Id"], None)
            self.tombstones.append({"entity": entity, "Id": rec["Id"], "deleted_at": now})
            self._changed(entity, rec["Id"], "Delete", now)
            self._refresh_customer(rec["CustomerRef"]["value"], now)
            self.version += 1
            return {"status": "Deleted", "domain": "QBO", "Id": rec["Id"]}

    # ---- derived balances ---------------------------------------------------------------------------
    def _refresh_customer(self: Ledger, cid: str, now: float, *, bump: bool = True) -> None:
        """Customer.Balance = Σ invoice Balance − Σ credit-memo RemainingCredit − Σ payment UnappliedAmt (§1.4)."""
        cust = self._docs["Customer"][cid]
        total = sum((d["Balance"] for d in self._docs["Invoice"].values() if d["CustomerRef"]["value"] == cid),
                    ZERO)
        total -= sum((d["RemainingCredit"] for d in self._docs["CreditMemo"].values()
                      if d["CustomerRef"]["value"] == cid), ZERO)
        total -= sum((d["UnappliedAmt"] for d in self._docs["Payment"].values()
                      if d["CustomerRef"]["value"] == cid), ZERO)
        if total != cust["Balance"]:
            cust["Balance"] = cust["BalanceWithJobs"] = total
            if bump:
                cust["SyncToken"] = str(int(cust["SyncToken"]) + 1)
                cust["MetaData"]["LastUpdatedTime"] = stamp(now)
                self._changed("Customer", cid, "Update", now, derived=True)

    def _customer_ref(self: Ledger, cid: str) -> dict:
        """A CustomerRef with the customer's current name."""
        return {"value": cid, "name": self._docs["Customer"][cid]["DisplayName"]}

    # ---- closing date ---------------------------------------------------------------------------------
    def close_books(self: Ledger, through: str | None) -> None:
        """Set the closing date (YYYY-MM-DD; None: no closing date): writes dated on or before it answer 6210, and
        Preferences.AccountingInfoPrefs.BookCloseDate shows it (real-world.md 6.1, month-end)."""
        with self._lock:
            self._closed_through = through
            self.company.set_book_close_date(through, self._clock())

    def _check_period(self: Ledger, txn_date: str, old: dict | None) -> None:
        # Refused when the new date or the record's current one is in the closed period: moving an old payment out
        # of it is a change to the closed period too. Enforced as if a closing-date password were set (6.1: writes
        # "are refused when the company requires a password"; warning-only companies are [UNVERIFIED]).
        closed = self._closed_through
        if closed and (txn_date <= closed or (old is not None and old["TxnDate"] <= closed)):
            raise period_closed(closed)


Listener = Callable[[Change], None]
