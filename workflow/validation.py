"""Checks made before anything is requested; each refusal names the problem and the figures."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from workflow.declined import Declined
from workflow.lookup import (
    APPLIED_WAITING_SYNC,
    CLOSED_PERIOD,
    ClientView,
    CreditOption,
    InvoiceOption,
    default_amount,
)
from workflow.money import AmountError, fmt, parse_amount


class InvalidRequest(Declined):
    """A request that cannot go ahead; `field` is the picker input it concerns (credit, invoice, amount)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Selection:
    credit: CreditOption
    invoice: InvoiceOption
    amount: Decimal


def validate(client: ClientView, *, credit_key: str | None, invoice_id: str | None, amount_text: str | None) -> Selection:
    """Return the checked selection or raise InvalidRequest."""
    credit = client.credit(credit_key or "")
    if credit is None:
        raise InvalidRequest("credit", "Choose one of this client's credits.")
    if credit.diagnosis == APPLIED_WAITING_SYNC:
        raise InvalidRequest("credit", f"Credit {credit.cb_id or credit.number} is already fully applied in QuickBooks "
                                f"(remaining {fmt(credit.remaining, credit.currency)}); ConnectBooster only needs a "
                                "resync and sync: use “Resync only”.")
    if credit.diagnosis == CLOSED_PERIOD:
        raise InvalidRequest("credit", f"Credit {credit.cb_id or credit.number} of {credit.date} is in a closed period "
                                       f"(books closed through {client.books_closed_through}): QuickBooks refuses to "
                                       "change it. Reopen the period in QuickBooks (or ask your accountant) first.")
    invoice = client.invoice(invoice_id or "")
    if invoice is None:
        raise InvalidRequest("invoice", "Choose one of this client's open invoices.")
    if invoice.currency != credit.currency:
        raise InvalidRequest("invoice", f"Invoice {invoice.number} is in {invoice.currency} but the credit is in "
                                 f"{credit.currency}; a credit applies only to an invoice in the same currency.")
    if invoice.pending_payment:
        raise InvalidRequest("invoice", f"Invoice {invoice.number} has a ConnectBooster payment waiting to sync. Applying "
                                 "a credit now would make that payment fail to sync; wait for the next sync or pick "
                                 "another invoice.")
    if amount_text is None or not amount_text.strip():
        amount = default_amount(credit, invoice)
    else:
        try:
            amount = parse_amount(amount_text)
        except AmountError as e:
            raise InvalidRequest("amount", str(e)) from None
    if amount > credit.remaining:
        raise InvalidRequest("amount", f"{fmt(amount, credit.currency)} is more than the credit's remaining "
                                f"{fmt(credit.remaining, credit.currency)}.")
    if amount > invoice.balance:
        raise InvalidRequest("amount", f"{fmt(amount, invoice.currency)} is more than invoice {invoice.number}'s open "
                                f"balance of {fmt(invoice.balance, invoice.currency)}.")
    return Selection(credit=credit, invoice=invoice, amount=amount)
