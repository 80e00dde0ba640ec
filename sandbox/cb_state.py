"""ConnectBooster's own copies of the accounting records, and how a sync or a resync refreshes them.

ConnectBooster never reads QuickBooks live: it keeps copies (organizations, invoices, credits) that change
only when `pull()` (a sync's accounting stage) or `refresh_invoice()` (a one-record resync) runs. The
QuickBooks side is the QBO emulator's ledger, read in-process (`ledger.changed_since(entity, since)`, which
filters in place, else `ledger.list(entity)`; `ledger.get(...)`).
Serializers here produce the contract's JSON shapes (money as 2-place strings, dates YYYY-MM-DD).

One organization per QuickBooks customer, sub-customers (`Job: true`) included, named by DisplayName, with
the customer's own Id as its one external ref; never rolled up under the parent, whatever `BillWithParent`
says. The contract links an organization to one accounting customer (the bot applies credits to that
customer's invoices), and a QuickBooks application links one credit and one invoice of the same customer
(quickbooks-api.md, "What matters most" 2; the ledger refuses others): a parent's organization that
also listed its branches' invoices would offer applications QuickBooks refuses. A parent holding a credit
while its branches hold the invoices therefore shows as a credit with no open invoice.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox import seed
from sandbox.cb_records import (  # noqa: F401  (QBO, rfc3339, utc_date re-exported for cb_sync and cb_emulator)
    FAILED_PAYMENT_MESSAGE,
    QBO,
    ZERO,
    Credit,
    Invoice,
    Org,
    Payment,
    dec,
    detail,
    money,
    rfc3339,
    updated_on,
    utc_date,
)
from sandbox.cb_records import (
    ref_value as _ref,
)


class CBState:
    """The copies, their ids, and the refresh rules. Not thread-safe: the emulator holds its lock."""

    def __init__(self, ledger: Any, clock: Callable[[], float], fixed_ids: dict[tuple[str, str], int] | None = None) -> None:
        """`fixed_ids`: (QuickBooks type, Id) -> our id for the records the help article names (seed.CB_IDS)."""
        self.ledger = ledger
        self.clock = clock
        self.orgs: dict[int, Org] = {}
        self.invoices: dict[int, Invoice] = {}
        self.credits: dict[int, Credit] = {}
        self.payments: dict[int, Payment] = {}
        self._by_qbo: dict[tuple[str, str], int] = {}  # (QuickBooks type, Id) -> our id
        self._next = {"Customer": 600, "Invoice": 9100, "Credit": 11300, "Payment": 8801}
        self._fixed = seed.CB_IDS if fixed_ids is None else fixed_ids
        # Every id given out or reserved, so a counter never hands out a fixed id not synced yet.
        self._taken: set[int] = set(self._fixed.values())
        self._org_invoices: dict[int, dict[int, Invoice]] = {}  # org id -> its invoices (balances are per org)

    # ids -----------------------------------------------------------------------------------------------
    def _new_id(self, qbo_type: str, qbo_id: str | None, counter: str) -> int:
        fixed = self._fixed.get((qbo_type, qbo_id)) if qbo_id is not None else None
        if fixed is not None:
            return fixed
        while self._next[counter] in self._taken:
            self._next[counter] += 1
        self._next[counter] += 1
        self._taken.add(self._next[counter] - 1)
        return self._next[counter] - 1

    def today(self) -> date:
        return utc_date(self.clock())

    # pulling from QuickBooks -----------------------------------------------------------------------------
    def _org_for(self, customer_id: str | None, now: float) -> Org:
        org_id = self._by_qbo.get(("Customer", str(customer_id)))
        if org_id is not None:
            return self.orgs[org_id]
        record = self.ledger.get("Customer", customer_id) if customer_id else None
        return self._upsert_org(record or {"Id": customer_id, "DisplayName": f"Customer {customer_id}"}, now)[0]

    def _upsert_org(self, rec: dict, now: float) -> tuple[Org, str]:
        key = ("Customer", str(rec["Id"]))
        currency = _ref(rec, "CurrencyRef") or seed.CURRENCY
        if key in self._by_qbo:
            org = self.orgs[self._by_qbo[key]]
            action = "unchanged" if org.name == rec.get("DisplayName", org.name) else "updated"
            org.name, org.currency, org.last_synced_at = rec.get("DisplayName", org.name), currency, now
            return org, action
        org = Org(self._new_id(*key, "Customer"), str(rec.get("DisplayName", "")), key[1], currency, now)
        self.orgs[org.id] = org
        self._by_qbo[key] = org.id
        return org, "created"

    def _upsert_invoice(self, rec: dict, now: float) -> tuple[Invoice, str]:
        key = ("Invoice", str(rec["Id"]))
        org = self._org_for(_ref(rec, "CustomerRef"), now)
        fields = dict(number=str(rec.get("DocNumber") or rec["Id"]), org_id=org.id,
                      transaction_date=str(rec.get("TxnDate", "")), due_date=rec.get("DueDate"),
                      total=dec(rec.get("TotalAmt")), balance=dec(rec.get("Balance")),
                      currency=_ref(rec, "CurrencyRef") or org.currency)
        org.last_synced_at = now
        if key in self._by_qbo:
            inv = self.invoices[self._by_qbo[key]]
            changed = any(getattr(inv, k) != v for k, v in fields.items())
            if inv.org_id != fields["org_id"]:  # moved to another customer in QuickBooks
                self._org_invoices[inv.org_id].pop(inv.id)
                self._org_invoices.setdefault(fields["org_id"], {})[inv.id] = inv
            for k, v in fields.items():
                setattr(inv, k, v)
            inv.last_synced_at = now
            return inv, "updated" if changed else "unchanged"
        inv = Invoice(id=self._new_id(*key, "Invoice"), qbo_id=key[1], last_synced_at=now, **fields)
        self.invoices[inv.id] = inv
        self._org_invoices.setdefault(inv.org_id, {})[inv.id] = inv
        self._by_qbo[key] = inv.id
        return inv, "created"

    def _upsert_credit(self, qbo_type: str, rec: dict, now: float) -> tuple[Credit | None, str]:
        key = (qbo_type, str(rec["Id"]))
        if qbo_type == "CreditMemo":
            remaining = dec(rec.get("RemainingCredit", rec.get("Balance")))
            kind, number = "credit_memo", str(rec.get("DocNumber") or rec["Id"])
        else:
            remaining = dec(rec.get("UnappliedAmt"))
            kind, number = "unapplied_payment", str(rec.get("PaymentRefNum") or rec["Id"])
        if key not in self._by_qbo:
            if remaining <= 0:
                return None, "unchanged"  # nothing to show: never an organizational credit
            org = self._org_for(_ref(rec, "CustomerRef"), now)
            credit = Credit(self._new_id(*key, "Credit"), org.id, kind, number, str(rec.get("TxnDate", "")),
                            dec(rec.get("TotalAmt")), remaining, _ref(rec, "CurrencyRef") or org.currency,
                            "open", qbo_type, key[1], now)
            self.credits[credit.id] = credit
            self._by_qbo[key] = credit.id
            org.last_synced_at = now
            return credit, "created"
        credit = self.credits[self._by_qbo[key]]
        before = (credit.remaining, credit.status)
        credit.remaining, credit.last_synced_at = remaining, now
        credit.status = "applied" if remaining <= 0 else "open"
        if before == (credit.remaining, credit.status):
            return credit, "unchanged"
        return credit, "applied" if credit.status == "applied" else "updated"

    def pull(self, since: date | None, now: float) -> tuple[list[dict], dict]:
        """Refresh every copy whose QuickBooks record changed on or after `since` (None: everything)."""

        def changed(entity: str) -> list[dict]:
            if hasattr(self.ledger, "changed_since"):  # filtered in place: no copy of what did not change
                rows = self.ledger.changed_since(entity, since)
            else:
                rows = [r for r in self.ledger.list(entity) if since is None or (updated_on(r) or date.min) >= since]
            return sorted(rows, key=lambda r: (len(str(r["Id"])), str(r["Id"])))

        details: list[dict] = []
        counts = {"invoices": 0, "payments": 0, "credits": 0, "companies": 0}
        for rec in changed("Customer"):
            self._upsert_org(rec, now)
            counts["companies"] += 1
        for rec in changed("Invoice"):
            inv, action = self._upsert_invoice(rec, now)
            details.append(detail("invoice", inv.id, inv.number, action))
            counts["invoices"] += 1
        for qbo_type in ("CreditMemo", "Payment"):
            for rec in changed(qbo_type):
                credit, action = self._upsert_credit(qbo_type, rec, now)
                if credit is not None:
                    details.append(detail("credit", credit.id, credit.number, action))
                    counts["credits"] += 1
        return details, counts

    def refresh_invoice(self, invoice_id: int, now: float) -> dict:
        """One-record resync: that invoice's balance and status from QuickBooks; credits untouched."""
        inv = self.invoices[invoice_id]
        rec = self.ledger.get("Invoice", inv.qbo_id) if inv.qbo_id else None
        if rec is None:
            raise LookupError(f"invoice {inv.number} was not found in QuickBooks Online")
        before = inv.balance
        self._upsert_invoice(rec, now)
        return {"changed": before != inv.balance, "before": {"balance": money(before)},
                "after": {"balance": money(inv.balance)}}

    def push_payments(self, now: float) -> list[dict]:
        """Write ConnectBooster's pending payments to QuickBooks; fail those whose invoice now owes less."""
        details = []
        for pay in sorted(self.payments.values(), key=lambda p: p.id):
            if pay.status != "pending_sync":
                continue
            inv = self.invoices[pay.invoice_id]
            rec = self.ledger.get("Invoice", inv.qbo_id) if inv.qbo_id else None
            pay.last_synced_at = now
            if rec is None:
                pay.status, pay.message = "failed", f"invoice {inv.number} was not found in QuickBooks Online"
            elif dec(rec.get("Balance")) < pay.amount:
                pay.status = "failed"
                pay.message = (f"Payment failed to sync: {FAILED_PAYMENT_MESSAGE} (invoice {inv.number} now owes "
                               f"{money(rec.get('Balance'))}, the payment was {money(pay.amount)})")
            else:
                pay.status, pay.message = self._write_payment(pay, inv, rec)
            ok = pay.status == "complete"
            details.append(detail("payment", pay.id, inv.number, "created" if ok else "error", pay.message))
        return details

    def _write_payment(self, pay: Payment, inv: Invoice, rec: dict) -> tuple[str, str]:
        body = {"CustomerRef": {"value": _ref(rec, "CustomerRef")}, "TotalAmt": pay.amount,
                "TxnDate": self.today().isoformat(), "PaymentRefNum": f"CB{pay.id}",
                "Line": [{"Amount": pay.amount, "LinkedTxn": [{"TxnId": inv.qbo_id, "TxnType": "Invoice"}]}]}
        try:
            created = self.ledger.create_payment(body)
        except Exception as exc:  # the ledger refused it: report it on the payment, as ConnectBooster would
            return "failed", f"Payment failed to sync: {exc}"
        pay.qbo_id = str(created.get("Id")) if isinstance(created, dict) and created.get("Id") else None
        return "complete", f"recorded in QuickBooks Online as payment {pay.qbo_id or '(new)'}"

    def add_pending_payment(self, invoice: Invoice, amount: Decimal, now: float) -> Payment:
        pay = Payment(self._new_id("", None, "Payment"), invoice.id, invoice.org_id, dec(amount),
                      invoice.currency, "pending_sync", utc_date(now).isoformat(), now)
        self.payments[pay.id] = pay
        return pay

    # the contract's shapes -------------------------------------------------------------------------------
    def open_invoices(self, org_id: int) -> list[Invoice]:
        return [i for i in self._org_invoices.get(org_id, {}).values() if i.status in ("open", "partially_paid")]

    def past_due(self, inv: Invoice) -> bool:
        return bool(inv.status in ("open", "partially_paid") and inv.due_date
                    and inv.due_date < self.today().isoformat())

    def org_json(self, org: Org) -> dict:
        open_ = self.open_invoices(org.id)
        return {
            "id": org.id, "name": org.name,
            "external_refs": [{"integration": QBO, "type": "Customer", "id": org.qbo_id}] if org.qbo_id else [],
            "balance": {
                "total_balance": money(sum((i.balance for i in open_), ZERO)),
                "total_past_due": money(sum((i.balance for i in open_ if self.past_due(i)), ZERO)),
                "oldest_invoice_date": min((i.transaction_date for i in open_), default=None),
                "open_invoice_count": len(open_),
                "currency": org.currency,
            },
            "last_synced_at": rfc3339(org.last_synced_at),
        }

    def invoice_json(self, inv: Invoice) -> dict:
        pending = any(p.invoice_id == inv.id and p.status == "pending_sync" for p in self.payments.values())
        return {
            "id": inv.id, "number": inv.number, "organization_id": inv.org_id,
            "transaction_date": inv.transaction_date, "due_date": inv.due_date, "po_number": inv.po_number,
            "total": money(inv.total), "balance": money(inv.balance), "currency": inv.currency,
            "status": inv.status, "past_due": self.past_due(inv), "pending_payment": pending,
            "external_refs": [{"integration": QBO, "type": "Invoice", "id": inv.qbo_id}] if inv.qbo_id else [],
            "last_synced_at": rfc3339(inv.last_synced_at),
        }

    def credit_json(self, c: Credit) -> dict:
        return {
            "id": c.id, "organization_id": c.org_id, "kind": c.kind, "number": c.number, "date": c.date,
            "amount": money(c.amount), "remaining_amount": money(c.remaining), "currency": c.currency,
            "status": c.status, "external_refs": [{"integration": QBO, "type": c.qbo_type, "id": c.qbo_id}],
            "last_synced_at": rfc3339(c.last_synced_at),
        }

    def payment_json(self, p: Payment) -> dict:
        inv = self.invoices[p.invoice_id]
        return {
            "id": p.id, "invoice_id": p.invoice_id, "invoice_number": inv.number, "organization_id": p.org_id,
            "amount": money(p.amount), "currency": p.currency, "status": p.status, "date": p.date,
            "created_at": rfc3339(p.created_at), "message": p.message, "last_synced_at": rfc3339(p.last_synced_at),
            "external_refs": [{"integration": QBO, "type": "Payment", "id": p.qbo_id}] if p.qbo_id else [],
        }
