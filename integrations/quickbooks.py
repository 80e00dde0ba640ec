"""QuickBooks Online Accounting API client: customers, open invoices, credits, and applying credits.

Plain `requests` over an injected Session. Every call sends `minorversion=75` and passes the client-side
RateLimiter; every write sends the caller's `requestid`, so QuickBooks replays the first answer instead of
writing twice, which makes writes as safe to retry as reads. Errors are the typed hierarchy in
`integrations.errors`, each with the fault code, HTTP status and Intuit's `intuit_tid`.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import quote as quote_path

import requests

from integrations.errors import ConflictError, IntegrationError, NotFoundError, TransientError
from integrations.http import RateLimiter, RetryPolicy, describe
from integrations.quickbooks_auth import TokenProvider
from integrations.quickbooks_models import (
    CREDIT_MEMO, UNAPPLIED_PAYMENT, Credit, Customer, Invoice, PaymentResult, apostrophe_variants, check_amount,
    check_request_id, clean_line, credit_from_memo, credit_from_payment, dumps, error_from_response, invoice_line,
    linked_ids, money, natural_key, quote, ref, second_request_id, to_customer, to_invoice,
)

__all__ = ["QuickBooksClient", "Customer", "Invoice", "Credit", "PaymentResult", "TokenProvider"]

log = logging.getLogger(__name__)

SERVICE = "quickbooks"
MINOR_VERSION = "75"
MAX_PAGE = 1000
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                   requests.exceptions.ContentDecodingError)


class QuickBooksClient:
    """One company's (realm's) Accounting API."""

    def __init__(
        self,
        *,
        session: requests.Session,
        base_url: str,
        realm_id: str,
        tokens: TokenProvider,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: float = 30.0,
        page_size: int = MAX_PAGE,
        home_currency: str = "USD",
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}")
        self.realm_id = realm_id
        self._session = session
        self._base = f"{base_url.rstrip('/')}/v3/company/{quote_path(realm_id, safe='')}"
        self._tokens = tokens
        self._retry = retry or RetryPolicy()
        self._limiter = limiter or RateLimiter()
        self._timeout = timeout
        self._page_size = page_size
        self._currency = home_currency  # records without CurrencyRef (multicurrency off) are in it
        self._local = threading.local()
        self._reads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qbo-read")  # see list_credits

    @property
    def last_intuit_tid(self) -> str | None:
        """The `intuit_tid` of this thread's last response."""
        return getattr(self._local, "intuit_tid", None)

    # ---- reads -------------------------------------------------------------------------------------

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
        rows = self._query_all("Invoice", f"CustomerRef = {quote(customer_id)} AND Balance > '0'", "TxnDate")
        invoices = [to_invoice(r, self._currency) for r in rows]
        invoices = [i for i in invoices if i.balance > 0]
        return sorted(invoices, key=lambda i: (i.txn_date, natural_key(i.number), natural_key(i.id)))

    def list_credits(self, *, customer_id: str) -> list[Credit]:
        """Credit memos with credit left and payments with an unapplied amount, oldest first."""
        # UnappliedAmt is not queryable: fetch the customer's payments and keep the unapplied ones here.
        # Both queries at once: one round trip instead of two before the picker can show (bench/picker.py).
        payments_f = self._reads.submit(self.payments_for_customer, customer_id=customer_id)
        memos = self._query_all("CreditMemo", f"CustomerRef = {quote(customer_id)} AND Balance > '0'")
        payments = payments_f.result()
        credits = [credit_from_memo(m, self._currency) for m in memos]
        credits += [credit_from_payment(p, self._currency) for p in payments]
        credits = [c for c in credits if c.remaining > 0]
        return sorted(credits, key=lambda c: (c.txn_date, c.kind, natural_key(c.id)))

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
            log.warning("QuickBooks has %d invoices numbered %s; using the oldest (Id %s)",
                        len(invoices), number, invoices[0].id)
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

    # ---- writes ------------------------------------------------------------------------------------

    def apply_credit_memo(
        self, *, customer_id: str, invoice_id: str, credit_memo_id: str, amount: Decimal, request_id: str,
        txn_date: str | None = None, note: str = "",
    ) -> PaymentResult:
        """A $0 Payment with an Invoice line and a CreditMemo line of the same amount."""
        check_amount(amount)
        body: dict[str, Any] = {"CustomerRef": {"value": customer_id}, "TotalAmt": Decimal("0")}
        if txn_date:
            body["TxnDate"] = txn_date
        if note:
            body["PrivateNote"] = note[:4000]
        body["Line"] = [
            invoice_line(invoice_id, amount),
            {"Amount": amount, "LinkedTxn": [{"TxnId": credit_memo_id, "TxnType": "CreditMemo"}]},
        ]
        result = self._post_payment(body, request_id)
        log.info("QuickBooks: applied credit memo %s to invoice %s (%s): payment %s requestid=%s intuit_tid=%s",
                 credit_memo_id, invoice_id, amount, result.payment_id, request_id, result.intuit_tid)
        return result

    def apply_unapplied_payment(
        self, *, payment_id: str, invoice_id: str, amount: Decimal, request_id: str, note: str = "",
    ) -> PaymentResult:
        """Sparse update of the Payment: every existing line plus the invoice line; TotalAmt kept.

        A line already paying this invoice grows by `amount` instead of gaining a twin (one line per
        invoice, as QuickBooks shows it); `remove_invoice_line` then removes that whole line.
        """
        check_amount(amount)

        def build(payment: dict) -> dict:
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
            return body

        result = self._update_payment(payment_id, request_id, build)
        log.info("QuickBooks: applied payment %s to invoice %s (%s) requestid=%s intuit_tid=%s",
                 payment_id, invoice_id, amount, request_id, result.intuit_tid)
        return result

    def remove_invoice_line(self, *, payment_id: str, invoice_id: str, request_id: str) -> PaymentResult:
        """Undo an unapplied-payment application: keep every line but the invoice's (no write if it is gone)."""

        def build(payment: dict) -> dict | None:
            lines = [clean_line(line) for line in payment.get("Line") or []]
            kept = [line for line in lines if invoice_id not in linked_ids(line, "Invoice")]
            return None if len(kept) == len(lines) else self._sparse(payment, kept)

        result = self._update_payment(payment_id, request_id, build)
        log.info("QuickBooks: removed invoice %s from payment %s requestid=%s intuit_tid=%s",
                 invoice_id, payment_id, request_id, result.intuit_tid)
        return result

    def delete_payment(self, *, payment_id: str, request_id: str) -> None:
        """Delete a Payment (undo of a credit-memo application); already gone is success."""

        def build(payment: dict) -> dict | None:
            if str(payment.get("status", "")).lower() == "deleted":
                return None
            return {"Id": payment_id, "SyncToken": str(payment.get("SyncToken", ""))}

        try:
            self._update_payment(payment_id, request_id, build, operation="delete")
        except NotFoundError:
            log.info("QuickBooks: payment %s is already gone (requestid=%s)", payment_id, request_id)
            return
        log.info("QuickBooks: deleted payment %s requestid=%s intuit_tid=%s",
                 payment_id, request_id, self.last_intuit_tid)

    # ---- helpers -----------------------------------------------------------------------------------

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
                return self._post_payment(body, rid, operation=operation)
            except ConflictError as exc:
                if attempt == 2:
                    raise
                log.info("QuickBooks payment %s was stale (intuit_tid=%s): re-reading once", payment_id, exc.intuit_tid)
        raise AssertionError("unreachable")

    def _post_payment(self, body: dict, request_id: str, operation: str | None = None) -> PaymentResult:
        check_request_id(request_id)
        params = {"operation": operation} if operation else None
        payload = self._call("POST", "payment", params=params, body=body, request_id=request_id)
        return self._result(payload.get("Payment") or {})

    def _result(self, payment: dict) -> PaymentResult:
        return PaymentResult(
            payment_id=str(payment.get("Id", "")), sync_token=str(payment.get("SyncToken", "")),
            intuit_tid=self.last_intuit_tid, payment=payment,
        )

    def _get(self, entity: str, entity_id: str) -> dict:
        return self._call("GET", f"{entity}/{quote_path(str(entity_id), safe='')}")

    def _query_all(self, entity: str, where: str, orderby: str | None = None) -> list[dict]:
        """Every row of a query, page by page until a short page; deduplicated by Id."""
        rows: dict[str, dict] = {}
        start = 1
        while True:
            statement = (f"SELECT * FROM {entity} WHERE {where}" + (f" ORDERBY {orderby}" if orderby else "")
                         + f" STARTPOSITION {start} MAXRESULTS {self._page_size}")
            page = self._call("GET", "query", params={"query": statement}).get("QueryResponse", {}).get(entity, [])
            for row in page:
                rows.setdefault(str(row["Id"]), row)
            if len(page) < self._page_size:
                return list(rows.values())
            start += self._page_size

    # ---- transport ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
              request_id: str | None = None) -> dict:
        """One logical request: rate-limited, retried per the RetryPolicy, one refresh-and-retry on 401."""
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        if request_id:
            query["requestid"] = request_id
        data = dumps(body).encode() if body is not None else None
        refreshed: list[bool] = []

        def attempt() -> dict:
            token = self._tokens.access_token()
            response = self._send(method, path, query, data, token, request_id)
            if response.status_code == 401 and not refreshed:
                log.info("QuickBooks answered 401 (intuit_tid=%s): refreshing the access token once",
                         response.headers.get("intuit_tid"))
                token = self._tokens.refreshed_after(token)
                refreshed.append(True)  # one refresh per logical request, however many retries
                response = self._send(method, path, query, data, token, request_id)
            return error_from_response(response, method=method, path=path)

        try:
            return self._retry.call(attempt, idempotent=True)  # writes too: the requestid makes them idempotent
        except IntegrationError as exc:
            log.warning("QuickBooks %s %s failed (requestid=%s): %s", method, path, request_id, describe(exc))
            raise

    def _send(self, method: str, path: str, query: dict, data: bytes | None, token: str,
              request_id: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._limiter.slot():  # counted until the answer: see RateLimiter
                response = self._session.request(method, f"{self._base}/{path}", params=query, data=data,
                                                 headers=headers, timeout=self._timeout)
        except _NETWORK_ERRORS as exc:
            self._local.intuit_tid = None
            # The outcome of a write is unknown here: retrying with the same requestid is what makes it safe.
            raise TransientError(f"QuickBooks {method} /{path} got no answer ({type(exc).__name__})",
                                 service=SERVICE, details={"requestid": request_id} if request_id else None) from None
        tid = self._local.intuit_tid = response.headers.get("intuit_tid")
        if request_id:
            log.info("QuickBooks %s /%s requestid=%s -> HTTP %s intuit_tid=%s qbo-version=%s", method, path,
                     request_id, response.status_code, tid, response.headers.get("qbo-version"))
        return response

