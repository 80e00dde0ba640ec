"""Typed QuickBooks Payments and the marker every bot write carries in PrivateNote.

Callers never parse raw Payment JSON: `to_payment()` turns it into a `Payment` of `PaymentLine`s, each with
its `LinkedTxn`s (the shape python-quickbooks uses: Payment.Line[PaymentLine{Amount, LinkedTxn[LinkedTxn]}]).

The marker makes a write recognisable later, even when QuickBooks did not replay its requestid:
    note = write_marker(job_id=12, request_id="ap-12-1-3f2a")   # "applycredit job 12 (requestid ap-12-1-3f2a)"
    find_marker(payment.private_note)                            # Marker(job_id="12", request_id="ap-12-1-3f2a")
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from integrations.quickbooks_models import money, ref

MARKER_PREFIX = "applycredit job"
_MARKER = re.compile(r"applycredit job (?P<job>[A-Za-z0-9_-]+)(?: \(requestid (?P<rid>[^()\s]+)\))?")


@dataclass(frozen=True)
class LinkedTxn:
    txn_id: str
    txn_type: str  # "Invoice", "CreditMemo", ...


@dataclass(frozen=True)
class PaymentLine:
    amount: Decimal
    linked: list[LinkedTxn] = field(default_factory=list)

    def links(self, txn_type: str) -> list[str]:
        """The TxnIds of one type this line links."""
        return [t.txn_id for t in self.linked if t.txn_type == txn_type]


@dataclass(frozen=True)
class Payment:
    id: str
    customer_id: str
    total: Decimal
    unapplied: Decimal
    lines: list[PaymentLine]
    private_note: str
    deleted: bool
    sync_token: str = ""
    txn_date: str = ""
    currency: str = ""
    exchange_rate: Decimal | None = None

    def applied_to(self, txn_type: str, txn_id: str) -> Decimal:
        """Σ Amount of the lines linking that transaction."""
        return sum((line.amount for line in self.lines if txn_id in line.links(txn_type)), Decimal(0))

    def invoice_ids(self) -> list[str]:
        """Invoices this payment pays, in line order, without repeats."""
        return list(dict.fromkeys(i for line in self.lines for i in line.links("Invoice")))


@dataclass(frozen=True)
class Marker:
    job_id: str
    request_id: str | None = None

    def matches(self, other: Marker) -> bool:
        """Same job, and the same requestid when this marker names one."""
        return self.job_id == other.job_id and (self.request_id is None or self.request_id == other.request_id)


def to_payment(data: dict, home_currency: str = "") -> Payment:
    """A typed Payment from its JSON (Decimal money; a deleted stub has no lines)."""
    lines = [PaymentLine(amount=money(line.get("Amount")),
                         linked=[LinkedTxn(str(t.get("TxnId", "")), str(t.get("TxnType", "")))
                                 for t in line.get("LinkedTxn") or []])
             for line in data.get("Line") or []]
    rate = data.get("ExchangeRate")
    return Payment(
        id=str(data.get("Id", "")), customer_id=ref(data.get("CustomerRef")), total=money(data.get("TotalAmt")),
        unapplied=money(data.get("UnappliedAmt")), lines=lines, private_note=str(data.get("PrivateNote") or ""),
        deleted=str(data.get("status", "")).lower() == "deleted", sync_token=str(data.get("SyncToken", "")),
        txn_date=str(data.get("TxnDate", "")), currency=ref(data.get("CurrencyRef")) or home_currency,
        exchange_rate=money(rate) if rate is not None else None,
    )


def write_marker(job_id: int | str, request_id: str | None = None) -> str:
    """The PrivateNote marker of a bot write; without request_id it names the job only (matches any attempt)."""
    text = f"{MARKER_PREFIX} {job_id}"
    return f"{text} (requestid {request_id})" if request_id else text


def find_markers(text: str | None) -> list[Marker]:
    """Every marker in a PrivateNote (an unapplied payment's note collects one per application)."""
    return [Marker(m.group("job"), m.group("rid")) for m in _MARKER.finditer(text or "")]


def find_marker(text: str | None) -> Marker | None:
    """The first marker in a note, or None."""
    found = find_markers(text)
    return found[0] if found else None


def carries(payment: Payment, marker: str | Marker) -> bool:
    """Whether the payment's note holds a marker matching `marker` (a note text or a Marker)."""
    wanted = marker if isinstance(marker, Marker) else find_marker(marker)
    return wanted is not None and any(wanted.matches(m) for m in find_markers(payment.private_note))


def is_credit_memo_application(payment: Payment, *, credit_memo_id: str, invoice_id: str, amount: Decimal,
                               marker: str | Marker) -> bool:
    """The bot's $0 Payment: live, TotalAmt 0, links that credit memo and that invoice for `amount`, marked."""
    return (not payment.deleted and payment.total == 0 and carries(payment, marker)
            and payment.applied_to("CreditMemo", credit_memo_id) == amount
            and payment.applied_to("Invoice", invoice_id) == amount)


def is_payment_application(payment: Payment, *, invoice_id: str, amount: Decimal, marker: str | Marker) -> bool:
    """The unapplied payment carries the job's marker and applies at least `amount` to the invoice.

    At least, not exactly: a line already paying that invoice grows by the amount (one line per invoice).
    The marker is written in the same request as the line, so together they identify the job's write.
    """
    return not payment.deleted and carries(payment, marker) and payment.applied_to("Invoice", invoice_id) >= amount
