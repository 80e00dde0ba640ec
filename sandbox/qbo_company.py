"""The emulated company itself: Preferences, CompanyInfo, and the currency rules of Payments (real-world.md 6.1, 6.2).

Multicurrency is off by default, as in a new QuickBooks company; `multicurrency_records()` gives the records a
multicurrency company needs for the tests: a CAD customer with a CAD invoice, a CAD credit memo and a CAD
unapplied payment, each carrying an ExchangeRate (home-currency units per CAD).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.qbo_seed import customer, invoice_record, memo_record
from sandbox.qbo_wire import business, day_epoch, stamp

CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar", "EUR": "Euro", "GBP": "British Pound"}
BOOK_CLOSE_DATE = "2025-12-31"  # seeded as real companies have one (6.1); Ledger.close_books moves it

# The CAD company's extra records (ids chosen clear of sandbox/seed.py).
CAD_CUSTOMER = ("66", "Maple Leaf Marine Ltd")
CAD_INVOICE = ("210", "10210", "66", "2026-09-25", "2026-10-25", Decimal("100.00"), Decimal("0.74"))
CAD_CREDIT_MEMO = ("157", "1057", "66", "2026-10-02", Decimal("20.00"), Decimal("0.73"))
CAD_PAYMENT = ("173", "66", "2026-10-04", Decimal("30.00"), Decimal("0.72"))  # unapplied, no lines


def currency_ref(code: str) -> dict:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


class MulticurrencyError(ValueError):
    """Multicurrency cannot be switched off once on (real-world.md 6.1)."""


@dataclass
class Company:
    """Company-wide settings the API exposes read-only (Preferences change only through these methods)."""

    name: str = "Sandbox Marine Supply"
    home_currency: str = "USD"
    book_close_date: str | None = BOOK_CLOSE_DATE
    sync_token: int = 5
    updated_at: float = field(default_factory=lambda: day_epoch("2026-01-05"))
    _multicurrency: bool = False
    clock: Callable[[], float] | None = None  # the emulator's clock: when Preferences last changed

    @property
    def multicurrency(self) -> bool:
        return self._multicurrency

    @multicurrency.setter
    def multicurrency(self, on: bool) -> None:
        if on:
            self.enable_multicurrency()
        elif self._multicurrency:
            # Intuit: multicurrency "cannot be disabled once it's been enabled" (manage-multiple-currencies).
            raise MulticurrencyError("multicurrency cannot be turned off once it has been turned on")

    def enable_multicurrency(self, now: float | None = None) -> None:
        """Turn multicurrency on (from QuickBooks' UI, any time; idempotent); Preferences change with it."""
        if not self._multicurrency:
            self._multicurrency = True
            self._bump(now)

    def disable_multicurrency(self) -> None:
        """Always refused once on (real-world.md 6.1): there is no way back in QuickBooks."""
        self.multicurrency = False

    def set_book_close_date(self, through: str | None, now: float | None = None) -> None:
        """The closing date (Preferences.AccountingInfoPrefs.BookCloseDate) a user sets in QuickBooks."""
        if through != self.book_close_date:
            self.book_close_date = through
            self._bump(now)

    def _bump(self, now: float | None) -> None:
        self.sync_token += 1
        if now is None and self.clock is not None:
            now = self.clock()
        if now is not None:
            self.updated_at = now

    def preferences(self) -> dict:
        """The Preferences object in the documented shape (6.1; one object, Id "1", no notion of ids)."""
        meta = {"CreateTime": stamp(day_epoch("2026-01-05")), "LastUpdatedTime": stamp(self.updated_at)}
        accounting = {"TrackDepartments": False, "ClassTrackingPerTxn": False, "CustomerTerminology": "Customers"}
        if self.book_close_date:  # only properties with values are returned (spec §2)
            accounting = {"BookCloseDate": self.book_close_date, **accounting}
        return {
            "AccountingInfoPrefs": accounting,
            "SalesFormsPrefs": {"AutoApplyCredit": True, "AutoApplyPayments": True, "AllowDeposit": False,
                                "AllowDiscount": False},
            "CurrencyPrefs": {"MultiCurrencyEnabled": self._multicurrency,
                              "HomeCurrency": {"value": self.home_currency}},
            "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""}]},
            "Id": "1", "SyncToken": str(self.sync_token), "domain": "QBO", "sparse": False, "MetaData": meta,
        }

    def company_info(self, realm_id: str) -> dict:
        """CompanyInfo as documented (6.1): no currency or time zone field here."""
        addr = {"Id": "1", "Line1": "2500 Garcia Ave", "City": "Mountain View", "Country": "US",
                "CountrySubDivisionCode": "CA", "PostalCode": "94043"}
        meta = {"CreateTime": stamp(day_epoch("2026-01-05")), "LastUpdatedTime": stamp(day_epoch("2026-01-05"))}
        return {
            "Id": "1", "SyncToken": "4", "domain": "QBO", "sparse": False, "CompanyName": self.name,
            "LegalName": self.name, "CompanyAddr": dict(addr), "CustomerCommunicationAddr": dict(addr),
            "LegalAddr": dict(addr), "PrimaryPhone": {"FreeFormNumber": "(650)944-4444"},
            "CompanyStartDate": "2026-01-05", "FiscalYearStartMonth": "January", "Country": "US",
            "Email": {"Address": "donotreply@intuit.com"}, "WebAddr": {}, "SupportedLanguages": "en",
            "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                          {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
                          {"Name": "PayrollFeature", "Value": "false"}],
            "MetaData": meta,
        }

    def payment_currency(self, body: dict, customer_currency: str) -> tuple[dict, Decimal | None]:
        """The CurrencyRef and ExchangeRate a Payment write records, or a refusal (6.2).

        Checked on the request body (create and update alike): the reference says CurrencyRef "must be
        defined if multicurrency is enabled"; whether a sparse update that omits it is refused is unverified,
        and we refuse it so a client that forgets it anywhere is caught.
        """
        sent = body.get("CurrencyRef")
        code = sent.get("value") if isinstance(sent, dict) else (sent if isinstance(sent, str) else None)
        if not self._multicurrency:
            if code not in (None, self.home_currency):
                # Invented text (real message unknown): a single-currency company knows only its home currency.
                raise business(f"The currency {code} does not match the customer's currency {customer_currency}.")
            return currency_ref(self.home_currency), None
        if not code:
            # Invented text (real message unknown, real-world.md 6.2): CurrencyRef is required here.
            raise business("CurrencyRef is required: multicurrency is enabled for this company.")
        if code != customer_currency:
            # Invented text (real message unknown): one currency per customer.
            raise business(f"The currency {code} does not match the customer's currency {customer_currency}.")
        # Omitted ExchangeRate is recorded as 1 without an error, as Intuit does (silently wrong for CAD).
        rate = _rate(body.get("ExchangeRate"))
        return currency_ref(code), rate


def _rate(value: Any) -> Decimal:
    if value is None:
        return Decimal(1)
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        raise business(f"ExchangeRate is not a number: {value!r}") from None  # invented text
    if not rate.is_finite() or rate <= 0:
        raise business(f"ExchangeRate must be positive: {value!r}")  # invented text
    return rate


def multicurrency_records() -> list[tuple[str, dict]]:
    """(entity, record) for the CAD customer, invoice and credit memo (the CAD payment is written by the ledger)."""
    cid, name = CAD_CUSTOMER
    cust = customer(cid, name)
    cust["CurrencyRef"] = currency_ref("CAD")
    iid, doc, icid, txn, due, total, irate = CAD_INVOICE
    inv = invoice_record(iid, doc, icid, name, txn, due, total)
    inv["CurrencyRef"], inv["ExchangeRate"] = currency_ref("CAD"), irate
    mid, mdoc, mcid, mtxn, mtotal, mrate = CAD_CREDIT_MEMO
    memo = memo_record(mid, mdoc, mcid, name, mtxn, mtotal)
    memo["CurrencyRef"], memo["ExchangeRate"] = currency_ref("CAD"), mrate
    return [("Customer", cust), ("Invoice", inv), ("CreditMemo", memo)]
