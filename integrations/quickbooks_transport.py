"""The QuickBooks client's transport: base URL, tokens, rate limiting, retries, paging, and company Preferences.

Every call sends `minorversion=75` and passes the client-side RateLimiter; errors are the typed hierarchy in
`integrations.errors`, each with the fault code, HTTP status and Intuit's `intuit_tid`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as quote_path

import requests

from integrations.errors import IntegrationError, TransientError, ValidationError
from integrations.http import RateLimiter, RetryPolicy, describe
from integrations.quickbooks_auth import TokenProvider
from integrations.quickbooks_models import dumps, error_from_response, ref

log = logging.getLogger("integrations.quickbooks")

SERVICE = "quickbooks"
MINOR_VERSION = "75"
MAX_PAGE = 1000
# Preferences are reused this long: multicurrency can be switched on and the closing date moved at any time (6.1).
PREFS_TTL = 300.0
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
        prefs_ttl: float = PREFS_TTL,
        prefs_clock: Callable[[], float] = time.monotonic,
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
        self._prefs_read_at: float | None = None  # None: read them at the next use
        self._prefs_ttl, self._prefs_clock = prefs_ttl, prefs_clock
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
        """MultiCurrencyEnabled, HomeCurrency and BookCloseDate, reused for PREFS_TTL seconds.

        Multicurrency can be switched on (never off) and the closing date moved at any time (real-world.md 6.1): a
        write QuickBooks refuses for either reason makes the next use read them again (`forget_preferences`)."""
        with self._prefs_lock:  # one read even when several jobs write at once
            now = self._prefs_clock()
            if self._prefs is None or self._prefs_read_at is None or now - self._prefs_read_at >= self._prefs_ttl:
                prefs = self._call("GET", "preferences").get("Preferences") or {}
                currency = prefs.get("CurrencyPrefs") or {}
                read = CompanyPreferences(
                    multicurrency=currency.get("MultiCurrencyEnabled") is True,
                    home_currency=ref(currency.get("HomeCurrency")) or self._default_currency,
                    book_close_date=(prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate"))
                if read != self._prefs:
                    log.info("QuickBooks company %s: multicurrency=%s home currency %s, books closed through %s",
                             self.realm_id, read.multicurrency, read.home_currency, read.book_close_date or "-")
                self._prefs, self._prefs_read_at = read, now
            return self._prefs

    def forget_preferences(self) -> None:
        """Read Preferences again at their next use (a write was refused for a reason they hold)."""
        with self._prefs_lock:
            self._prefs_read_at = None

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


def refused_by_preferences(exc: IntegrationError) -> bool:
    """A write refusal that Preferences explain: a closed period (6210, BookCloseDate) or a currency rule
    (CurrencyRef required or not allowed: multicurrency switched on). Intuit's wording of the currency refusals is
    not documented: any 6000-family refusal that speaks of a currency counts."""
    if exc.code == "6210":
        return True
    return isinstance(exc, ValidationError) and "currenc" in f"{exc.message} {exc.details}".lower()


def entity(path: str) -> str:
    """The kind of record a path is about ("invoice/130" -> "invoice"): what a log line names instead of the id."""
    return path.split("/", 1)[0].split("?", 1)[0]
