"""The QuickBooks client's transport: base URL, tokens, rate limiting, retries, paging, and company Preferences.

Every call sends `minorversion=75` and passes the client-side RateLimiter; errors are the typed hierarchy in
`integrations.errors`, each with the fault code, HTTP status and Intuit's `intuit_tid`.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as quote_path

import requests

from integrations.errors import IntegrationError, TransientError
from integrations.http import RateLimiter, RetryPolicy, describe
from integrations.quickbooks_auth import TokenProvider
from integrations.quickbooks_models import dumps, error_from_response, ref

log = logging.getLogger("integrations.quickbooks")

SERVICE = "quickbooks"
MINOR_VERSION = "75"
MAX_PAGE = 1000
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                   requests.exceptions.ContentDecodingError)


@dataclass(frozen=True)
class CompanyPreferences:
    """What the bot needs of QuickBooks' Preferences (real-world.md 6.1)."""

    multicurrency: bool
    home_currency: str
    book_close_date: str | None = None  # AccountingInfoPrefs.BookCloseDate: writes on or before it are refused


class QuickBooksTransport:
    """One company's (realm's) Accounting API: the HTTP side shared by the reads and the writes."""

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
        self._session = session
        self._base_url = base_url.rstrip("/")
        self.use_realm(realm_id)
        self._tokens = tokens
        self._retry = retry or RetryPolicy()
        self._limiter = limiter or RateLimiter()
        self._timeout = timeout
        self._page_size = page_size
        self._default_currency = home_currency  # until Preferences have been read
        self._prefs: CompanyPreferences | None = None
        self._prefs_lock = threading.Lock()
        self._local = threading.local()
        self._reads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qbo-read")  # see list_credits

    def use_realm(self, realm_id: str) -> None:
        """Work with this company (the first connection made from Slack names it)."""
        self.realm_id = realm_id
        self._base = f"{self._base_url}/v3/company/{quote_path(realm_id, safe='')}"

    @property
    def last_intuit_tid(self) -> str | None:
        """The `intuit_tid` of this thread's last response."""
        return getattr(self._local, "intuit_tid", None)

    @property
    def _currency(self) -> str:
        """The home currency: records without CurrencyRef are in it (Preferences once read, else the default)."""
        return self._prefs.home_currency if self._prefs else self._default_currency

    def preferences(self) -> CompanyPreferences:
        """MultiCurrencyEnabled and HomeCurrency, read once and cached (both can never change back, 6.1)."""
        with self._prefs_lock:  # one read even when several jobs write at once
            if self._prefs is None:
                prefs = self._call("GET", "preferences").get("Preferences") or {}
                currency = prefs.get("CurrencyPrefs") or {}
                self._prefs = CompanyPreferences(
                    multicurrency=currency.get("MultiCurrencyEnabled") is True,
                    home_currency=ref(currency.get("HomeCurrency")) or self._default_currency,
                    book_close_date=(prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate"))
                log.info("QuickBooks company %s: multicurrency=%s home currency %s", self.realm_id,
                         self._prefs.multicurrency, self._prefs.home_currency)
            return self._prefs

    def _get(self, entity: str, entity_id: str) -> dict:
        return self._call("GET", f"{entity}/{quote_path(str(entity_id), safe='')}")

    def _query_all(self, entity: str, where: str) -> list[dict]:
        """Every row of a query, page by page until a short page; deduplicated by Id.

        Paged by `ORDERBY Id`: without ORDERBY QuickBooks documents no order, so STARTPOSITION pages of the same
        query may skip or repeat rows (the emulator answers each page in a new order). Id alone, not "key, Id":
        Intuit documents one ORDERBY attribute and Id as sortable (ASC by default); several keys are only seen in
        public client code. Callers sort the rows themselves. Rows that leave or join the filter between two
        pages (a write elsewhere) can still shift a page: re-read by Id before acting on a row.
        """
        rows: dict[str, dict] = {}
        start = 1
        while True:
            statement = (f"SELECT * FROM {entity} WHERE {where} ORDERBY Id"
                         f" STARTPOSITION {start} MAXRESULTS {self._page_size}")
            page = self._call("GET", "query", params={"query": statement}).get("QueryResponse", {}).get(entity, [])
            for row in page:
                rows.setdefault(str(row["Id"]), row)
            if len(page) < self._page_size:
                return list(rows.values())
            start += self._page_size

    # ---- transport ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
              request_id: str | None = None, idempotent: bool = True) -> dict:
        """One logical request: rate-limited, retried per the RetryPolicy, one refresh-and-retry on 401.

        idempotent=False: a request without an answer (TransientError) is not repeated here; the caller
        reconciles first (a marked write whose requestid QuickBooks may not replay).
        """
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
            return self._retry.call(attempt, idempotent=idempotent)  # writes too, by default: the requestid
        except IntegrationError as exc:
            # Ids, codes and intuit_tid only at WARNING: the path names a document, the message may quote one.
            log.warning("QuickBooks %s %s failed (requestid=%s): %s", method, entity(path), request_id, exc.brief())
            log.debug("QuickBooks %s %s failed: %s", method, path, describe(exc))
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
            log.info("QuickBooks %s %s requestid=%s -> HTTP %s intuit_tid=%s qbo-version=%s", method, entity(path),
                     request_id, response.status_code, tid, response.headers.get("qbo-version"))
        return response


def entity(path: str) -> str:
    """The kind of record a path is about ("invoice/130" -> "invoice"): what a log line names instead of the id."""
    return path.split("/", 1)[0].split("?", 1)[0]
