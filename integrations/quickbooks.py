"""QuickBooks Online Accounting API client: customers, open invoices, credits, and applying credits.

Plain `requests` over an injected Session (transport in quickbooks_transport.py, reads in quickbooks_reads.py).
Every write sends the caller's `requestid`, so QuickBooks replays the first answer instead of writing twice
when it honours it. Intuit documents no replay window, so a write that carries a marker in its note
(`note=write_marker(job_id, request_id)`) is never repeated blindly: when its outcome is unknown (no answer,
5xx) or a repeat is refused (6000, e.g. a spent credit memo), the client looks for its own write first and
returns it if it landed. Payments always carry TxnDate (the caller's company date) and, in a multicurrency
company, the customer's CurrencyRef plus the linked credit's ExchangeRate when it is not the home currency.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from integrations.errors import (
    ConflictError,
    NotFoundError,
    TransientError,
    ValidationError,
)
from integrations.quickbooks_auth import TokenProvider
from integrations.quickbooks_changes import QuickBooksChanges
from integrations.quickbooks_models import (
    CREDIT_MEMO,
    UNAPPLIED_PAYMENT,
    Credit,
    Customer,
    Invoice,
    PaymentResult,
    check_amount,
    check_request_id,
    clean_line,
    invoice_line,
    linked_ids,
    money,
    ref,
    second_request_id,
)
from integrations.quickbooks_payments import (
    LinkedTxn,
    Payment,
    PaymentLine,
    find_marker,
    is_payment_application,
    to_payment,
    write_marker,
)
from integrations.quickbooks_transport import CompanyPreferences, refused_by_preferences

__all__ = [
    "CREDIT_MEMO",
    "UNAPPLIED_PAYMENT",
    "CompanyPreferences",
    "Credit",
    "Customer",
    "Invoice",
    "LinkedTxn",
    "Payment",
    "PaymentLine",
    "PaymentResult",
    "QuickBooksClient",
    "TokenProvider",
    "find_marker",
    "write_marker",
]

log = logging.getLogger(__name__)


class QuickBooksClient(QuickBooksChanges):
    """One company's (realm's) Accounting API."""

    # ---- writes ------------------------------------------------------------------------------------

    def apply_credit_memo(
        self, *, customer_id: str, invoice_id: str, credit_memo_id: str, amount: Decimal, request_id: str,
        txn_date: str | None = None, note: str = "", currency: str | None = None,
        exchange_rate: Decimal | None = None,
    ) -> PaymentResult:
        """A $0 Payment with an Invoice line and a CreditMemo line of the same amount.

        txn_date: the team's date (YYYY-MM-DD); always send it (an omitted one is dated by Intuit's server
        clock). currency/exchange_rate: the credit memo's, when the caller has just read it; otherwise, in
        a multicurrency company, the credit memo is read here. A marker in `note` makes an unknown outcome
        reconciled (find_credit_memo_application) instead of written again.
        """
        check_amount(amount)
        if not txn_date:
            log.warning("QuickBooks: applying a credit memo without txn_date: Intuit will date it by its own "
                        "server clock (requestid=%s)", request_id)
        body: dict[str, Any] = {"CustomerRef": {"value": customer_id}, "TotalAmt": Decimal(0)}
        if txn_date:
            body["TxnDate"] = txn_date
        if note:
            body["PrivateNote"] = note[:4000]
        body.update(self._currency_fields(currency, exchange_rate, lambda: self.get_credit(
            kind=CREDIT_MEMO, credit_id=credit_memo_id)))
        body["Line"] = [
            invoice_line(invoice_id, amount),
            {"Amount": amount, "LinkedTxn": [{"TxnId": credit_memo_id, "TxnType": "CreditMemo"}]},
        ]
        marker = _job_marker(note)
        if marker is None:
            result = self._post_payment(body, request_id)
        else:
            result = self._write_reconciled(
                lambda: self._post_payment(body, request_id, idempotent=False),
                lambda: self.find_credit_memo_application(customer_id=customer_id, credit_memo_id=credit_memo_id,
                                                          invoice_id=invoice_id, amount=amount, marker=marker))
        log.info("QuickBooks: credit memo applied requestid=%s intuit_tid=%s", request_id, result.intuit_tid)
        return result

    def apply_unapplied_payment(
        self, *, payment_id: str, invoice_id: str, amount: Decimal, request_id: str, note: str = "",
        txn_date: str | None = None,
    ) -> PaymentResult:
        """Sparse update of the Payment: every existing line plus the invoice line; TotalAmt kept.

        A line already paying this invoice grows by `amount` instead of gaining a twin (one line per
        invoice, as QuickBooks shows it); `remove_invoice_line` then removes that whole line. txn_date is
        accepted for symmetry but never sent: the payment keeps the date it was received on. With a marker
        in `note`, a payment that already carries it and the line is returned as is (no second line).
        """
        check_amount(amount)
        marker = _job_marker(note)

        def build(payment: dict) -> dict | None:
            if marker and is_payment_application(to_payment(payment), invoice_id=invoice_id, amount=amount,
                                                 marker=marker):
                return None  # our earlier write landed (its answer was lost): nothing to write
            lines = [clean_line(line) for line in payment.get("Line") or []]
            for line in lines:  # one line per invoice, as QuickBooks itself shows it
                if linked_ids(line, "Invoice") == [invoice_id] and len(line.get("LinkedTxn") or []) == 1:
                    line["Amount"] = money(line.get("Amount")) + amount
                    break
            else:
                lines.append(invoice_line(invoice_id, amount))
            body = self._sparse(payment, lines)
            if note:  # appended: the memo may hold the finance team's own words
                body["PrivateNote"] = "\n".join(filter(None, [payment.get("PrivateNote"), note]))[-4000:]
            body.update(self._currency_fields(ref(payment.get("CurrencyRef")) or None, _rate(payment),
                                              lambda: self.get_invoice(invoice_id=invoice_id)))
            return body

        if marker is None:
            result = self._update_payment(payment_id, request_id, build)
        else:
            result = self._write_reconciled(
                lambda: self._update_payment(payment_id, request_id, build, idempotent=False),
                lambda: self.find_payment_application(payment_id=payment_id, invoice_id=invoice_id, amount=amount,
                                                      marker=marker))
        log.info("QuickBooks: unapplied payment applied requestid=%s intuit_tid=%s", request_id, result.intuit_tid)
        return result

    def remove_invoice_line(self, *, payment_id: str, invoice_id: str, request_id: str,
                            txn_date: str | None = None) -> PaymentResult:
        """Undo an unapplied-payment application: keep every line but the invoice's (no write if it is gone).

        Safe to repeat without replay: a line already gone means no write. txn_date is accepted but never
        sent (the payment keeps its own date).
        """

        def build(payment: dict) -> dict | None:
            lines = [clean_line(line) for line in payment.get("Line") or []]
            kept = [line for line in lines if invoice_id not in linked_ids(line, "Invoice")]
            if len(kept) == len(lines):
                return None
            body = self._sparse(payment, kept)
            body.update(self._currency_fields(ref(payment.get("CurrencyRef")) or None, _rate(payment), None))
            return body

        result = self._update_payment(payment_id, request_id, build)
        log.info("QuickBooks: payment line removed requestid=%s intuit_tid=%s", request_id, result.intuit_tid)
        return result

    def delete_payment(self, *, payment_id: str, request_id: str, txn_date: str | None = None) -> None:
        """Delete a Payment (undo of a credit-memo application); already gone is success, so a repeat is safe.

        txn_date is accepted for symmetry with the other writes; a delete carries no date.
        """

        def build(payment: dict) -> dict | None:
            if str(payment.get("status", "")).lower() == "deleted":
                return None
            return {"Id": payment_id, "SyncToken": str(payment.get("SyncToken", ""))}

        try:
            self._update_payment(payment_id, request_id, build, operation="delete")
        except NotFoundError:
            log.info("QuickBooks: the payment is already gone (requestid=%s)", request_id)
            return
        log.info("QuickBooks: payment deleted requestid=%s intuit_tid=%s", request_id, self.last_intuit_tid)

    # ---- helpers -----------------------------------------------------------------------------------

    def _currency_fields(self, currency: str | None, rate: Decimal | None,
                         read_credit: Callable[[], Credit | Invoice] | None) -> dict:
        """CurrencyRef (multicurrency on: required, 6.2) and ExchangeRate (foreign currency: omitted means 1)."""
        prefs = self.preferences()
        if not prefs.multicurrency:
            return {}
        if (currency is None or (currency != prefs.home_currency and rate is None)) and read_credit is not None:
            doc = read_credit()
            currency, rate = currency or doc.currency, rate if rate is not None else doc.exchange_rate
        currency = currency or prefs.home_currency
        fields: dict[str, Any] = {"CurrencyRef": {"value": currency}}
        if currency != prefs.home_currency and rate is not None:
            fields["ExchangeRate"] = rate
        return fields

    def _write_reconciled(self, write: Callable[[], PaymentResult],
                          find: Callable[[], PaymentResult | None]) -> PaymentResult:
        """Write; never repeat it before looking for it. An unknown outcome (no answer, 5xx) or a refusal
        (6000: e.g. the credit is already spent, by our own first write) leads to `find`; found -> that is
        the result, not found -> write again (unknown outcome) or raise (refusal)."""
        attempts = max(1, self._retry.attempts)
        for attempt in range(1, attempts + 1):
            try:
                return write()
            except ValidationError:
                found = find()
                if found is not None:
                    return found
                raise
            except TransientError as exc:
                log.warning("QuickBooks write outcome unknown (%s): looking for it before writing again",
                            exc.brief())
                found = find()
                if found is not None:
                    return found
                if attempt == attempts:
                    raise
                self._retry.sleep(self._retry.backoff(attempt))
        raise AssertionError("unreachable")

    @staticmethod
    def _sparse(payment: dict, lines: list[dict]) -> dict:
        # TotalAmt and CustomerRef are sent defensively: an update without TotalAmt may zero the cash.
        return {
            "Id": str(payment["Id"]), "SyncToken": str(payment.get("SyncToken", "")), "sparse": True,
            "CustomerRef": {"value": ref(payment.get("CustomerRef"))}, "TotalAmt": money(payment.get("TotalAmt")),
            "Line": lines,
        }

    def _update_payment(
        self, payment_id: str, request_id: str, build: Callable[[dict], dict | None], operation: str | None = None,
        *, idempotent: bool = True,
    ) -> PaymentResult:
        """Read, build, write; on a stale SyncToken (5010) read once more and write once more."""
        check_request_id(request_id)
        for attempt in (1, 2):
            payment = self.get_payment(payment_id=payment_id)
            body = build(payment)
            if body is None:
                return self._result(payment)
            # QuickBooks replays a requestid's first answer (the 5010 too): the second try needs its own id,
            # derived so that a resumed job replays it as well.
            rid = request_id if attempt == 1 else second_request_id(request_id)
            try:
                return self._post_payment(body, rid, operation=operation, idempotent=idempotent)
            except ConflictError as exc:
                if attempt == 2:
                    raise
                log.info("QuickBooks payment was stale (intuit_tid=%s): re-reading once", exc.intuit_tid)
        raise AssertionError("unreachable")

    def _post_payment(self, body: dict, request_id: str, operation: str | None = None, *,
                      idempotent: bool = True) -> PaymentResult:
        check_request_id(request_id)
        params = {"operation": operation} if operation else None
        try:
            payload = self._call("POST", "payment", params=params, body=body, request_id=request_id,
                                 idempotent=idempotent)
        except ValidationError as exc:
            if refused_by_preferences(exc):  # the books were closed or multicurrency switched on meanwhile
                self.forget_preferences()
            raise
        return self._result(payload.get("Payment") or {})


def _job_marker(note: str) -> str | None:
    """The job-level marker of a note (any attempt of the job: a Retry has a new requestid), or None."""
    found = find_marker(note)
    return write_marker(found.job_id) if found else None


def _rate(payment: dict) -> Decimal | None:
    rate = payment.get("ExchangeRate")
    return money(rate) if rate is not None else None
