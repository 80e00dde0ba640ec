"""ConnectBooster client for the project's REST contract (docs/connectbooster-api.md).

ConnectBooster publishes no public API: this client speaks the contract that the sandbox emulator serves and
that an MSP's gateway (partner/private API access, or an RPA service) must serve. Plain `requests` over an
injected Session; keyword-only arguments; parsed dataclasses out (money as Decimal), never a Response.

Every POST carries the caller's `Idempotency-Key`, so a POST that failed with a 5xx or timed out is retried
with the same key and the service answers the original result instead of acting twice. GETs are retried on
`TransientError`; 429 waits `Retry-After` through the RetryPolicy. Errors are `integrations.errors` types whose
`code` is the contract's error code and whose `details` are the service's; the API key never appears in them.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote

import requests

from integrations.connectbooster_models import (
    CBCredit,
    CBInvoice,
    CBPayment,
    EntityResync,
    Integration,
    Organization,
    SyncDetail,
    SyncRun,
    SyncStage,
)
from integrations.errors import (
    AuthError,
    ConflictError,
    IntegrationError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from integrations.http import RetryPolicy, describe

__all__ = ["ConnectBoosterClient", "ResyncFailedError", "Organization", "CBCredit", "CBInvoice", "CBPayment",
           "EntityResync", "Integration", "SyncStage", "SyncRun", "SyncDetail"]

log = logging.getLogger(__name__)
SERVICE = "connectbooster"
QBO = "quickbooks_online"
PAGE_SIZE = 100  # the contract's maximum
_BY_STATUS: dict[int, type[IntegrationError]] = {400: ValidationError, 401: AuthError, 403: AuthError,
                                                 404: NotFoundError, 409: ConflictError, 422: ValidationError,
                                                 429: RateLimitedError}
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                   requests.exceptions.ContentDecodingError)


class ResyncFailedError(IntegrationError):
    """ConnectBooster reported the entity resync as failed; `details` holds resync_id and its error."""


class ConnectBoosterClient:
    """One ConnectBooster tenant, through the contract's gateway."""

    def __init__(self, *, session: requests.Session, base_url: str, api_key: str,
                 retry: RetryPolicy | None = None, timeout: float = 15.0) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._pages = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cb-page")  # see _all

    def __repr__(self) -> str:  # never show the key
        return f"ConnectBoosterClient(base_url={self._base!r})"

    # organizations, credits, invoices, payments ----------------------------------------------------------
    def search_organizations(self, *, text: str) -> list[Organization]:
        """Organizations whose name contains `text` (case-insensitive), all pages."""
        return [Organization.parse(o) for o in self._all("/organizations", {"search": text})]

    def get_organization(self, *, org_id: int) -> Organization:
        return Organization.parse(self._get(f"/organizations/{int(org_id)}"))

    def list_credits(self, *, org_id: int, status: str = "open") -> list[CBCredit]:
        """The organization's credits (`open` or `applied`), all pages."""
        return [CBCredit.parse(c) for c in self._all(f"/organizations/{int(org_id)}/credits", {"status": status})]

    def get_credit(self, *, credit_id: int) -> CBCredit:
        return CBCredit.parse(self._get(f"/credits/{int(credit_id)}"))

    def list_invoices(self, *, org_id: int, status: str = "open", expected: int | None = None) -> list[CBInvoice]:
        """The organization's invoices (`open` also matches partially_paid), all pages; `expected` (e.g. the
        organization's open_invoice_count) lets every page be asked for at once."""
        return [CBInvoice.parse(i) for i in self._all(f"/organizations/{int(org_id)}/invoices", {"status": status},
                                                      expected=expected)]

    def get_invoice(self, *, invoice_id: int) -> CBInvoice:
        return CBInvoice.parse(self._get(f"/invoices/{int(invoice_id)}"))

    def find_invoices_by_number(self, *, number: str) -> list[CBInvoice]:
        return [CBInvoice.parse(i) for i in self._all("/invoices", {"number": str(number).strip()})]

    def pending_payments(self, *, invoice_id: int) -> list[CBPayment]:
        """Portal payments on this invoice not yet synced to the accounting package."""
        rows = self._all("/payments", {"invoice_id": int(invoice_id), "status": "pending_sync"})
        return [CBPayment.parse(p) for p in rows]

    # resync ----------------------------------------------------------------------------------------------
    def start_resync(self, *, invoice_id: int, idempotency_key: str) -> EntityResync:
        """Ask ConnectBooster to refresh this one invoice from the accounting package (202)."""
        raw = self._post(f"/entities/invoice/{int(invoice_id)}/resync", None, idempotency_key)
        return EntityResync.parse(raw)

    def get_resync(self, *, resync_id: int) -> EntityResync:
        return EntityResync.parse(self._get(f"/entity-resyncs/{int(resync_id)}"))

    def resync_invoice_and_wait(self, *, invoice_id: int, idempotency_key: str, timeout: float = 60.0,
                                poll: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                                clock: Callable[[], float] = time.monotonic) -> EntityResync:
        """Start (or, with the same key, rejoin) a resync and poll until it ends.

        Raises TransientError when it is still running after `timeout`, ResyncFailedError when it failed.
        """
        deadline = clock() + timeout
        resync = self.start_resync(invoice_id=invoice_id, idempotency_key=idempotency_key)
        while not resync.done:
            left = deadline - clock()
            if left <= 0:
                raise TransientError(f"ConnectBooster resync {resync.id} of invoice {invoice_id} still "
                                     f"{resync.status} after {timeout:g}s", service=SERVICE, code="timeout",
                                     details={"resync_id": resync.id, "status": resync.status})
            sleep(min(poll, left))
            resync = self.get_resync(resync_id=resync.id)
        if resync.status == "failed":
            raise ResyncFailedError(f"ConnectBooster resync {resync.id} of invoice {invoice_id} failed: "
                                    f"{resync.error or 'no reason given'}", service=SERVICE, code="resync_failed",
                                    details={"resync_id": resync.id, "error": resync.error})
        return resync

    # integrations and syncs ------------------------------------------------------------------------------
    def list_integrations(self) -> list[Integration]:
        return [Integration.parse(i) for i in self._all("/integrations", {})]

    def start_sync(self, *, integration_id: str = QBO, sync_from: date, idempotency_key: str) -> SyncRun:
        """Sync Now. If a run of that integration is already pending or active (409), join it: the run is
        returned with `attached=True`, and the caller must check whether its `sync_from` covers the change."""
        path = f"/integrations/{quote(integration_id, safe='')}/syncs"
        try:
            raw = self._post(path, {"sync_from": sync_from.isoformat()}, idempotency_key)
        except ConflictError as exc:
            existing = exc.details.get("existing_sync_id")
            if existing is None:
                raise
            log.info("sync of %s already running (%s); attaching", integration_id, existing)
            return replace(self.get_sync(sync_id=int(existing)), attached=True)
        return SyncRun.parse(raw)

    def get_sync(self, *, sync_id: int) -> SyncRun:
        return SyncRun.parse(self._get(f"/syncs/{int(sync_id)}"))

    def sync_history(self, *, integration_id: str = QBO, page_size: int = 10) -> list[SyncRun]:
        """The newest runs of that integration, newest first (one page)."""
        path = f"/integrations/{quote(integration_id, safe='')}/syncs"
        body = self._get(path, {"page": 1, "page_size": max(1, min(int(page_size), PAGE_SIZE))})
        return [SyncRun.parse(r) for r in body.get("data", [])]

    def sync_details(self, *, sync_id: int) -> list[SyncDetail]:
        """Every record the run processed, all pages."""
        return [SyncDetail.parse(d) for d in self._all(f"/syncs/{int(sync_id)}/details", {})]

    # plumbing --------------------------------------------------------------------------------------------
    def _get(self, path: str, params: dict | None = None) -> dict:
        return self._retry.call(lambda: self._send("GET", path, params=params), idempotent=True)

    def _post(self, path: str, body: dict | None, idempotency_key: str) -> dict:
        if not idempotency_key or len(idempotency_key) > 255:
            raise ValueError("idempotency_key is required (at most 255 characters)")
        # The key makes the POST safe to repeat: a retry is answered with the first attempt's result.
        return self._retry.call(lambda: self._send("POST", path, json_body=body, key=idempotency_key),
                                idempotent=True)

    def _all(self, path: str, params: dict, expected: int | None = None) -> list[dict]:
        """Every item of a paginated list. The pages known to exist (from `expected`, else from page 1's total)
        are fetched at once: a client with 500 invoices costs one round trip, not five (bench/picker.py)."""
        def page(n: int) -> list[dict]:
            return self._get(path, {**params, "page": n, "page_size": PAGE_SIZE}).get("data") or []

        ahead = max(1, -(-int(expected or 0) // PAGE_SIZE))
        futures = [self._pages.submit(page, n) for n in range(2, ahead + 1)]
        first = self._get(path, {**params, "page": 1, "page_size": PAGE_SIZE})
        items: list[dict] = list(first.get("data") or [])
        total, per_page = int(first.get("total", len(items))), max(1, len(items))
        for future in futures:
            items.extend(future.result())
        last = ahead
        rest = [self._pages.submit(page, n) for n in range(ahead + 1, -(-total // per_page) + 1)]
        for future in rest:
            items.extend(future.result())
        last += len(rest)
        while len(items) < total:  # the list grew while we read it: continue page by page
            last += 1
            data = page(last)
            if not data:
                break
            items.extend(data)
        return items

    def _send(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
              key: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        try:
            resp = self._session.request(method, self._base + path, params=params, json=json_body,
                                         headers=headers, timeout=self._timeout)
        except _NETWORK_ERRORS as exc:
            raise TransientError(f"ConnectBooster {method} {path} got no answer ({type(exc).__name__})",
                                 service=SERVICE, code="network") from None
        log.debug("connectbooster %s %s -> %s", method, path, resp.status_code)
        if 200 <= resp.status_code < 300:
            try:
                return resp.json()
            except ValueError:
                raise TransientError(f"ConnectBooster {method} {path} answered {resp.status_code} without JSON",
                                     service=SERVICE, status=resp.status_code, code="bad_response") from None
        exc = _error(method, path, resp)
        log.warning("connectbooster %s %s: %s", method, path.strip("/").split("/", 1)[0], exc.brief())
        log.debug("connectbooster %s", describe(exc))
        raise exc


def _error(method: str, path: str, resp: requests.Response) -> IntegrationError:
    """The typed error for a non-2xx answer, from the contract's envelope."""
    status = resp.status_code
    try:
        envelope = resp.json().get("error") or {}
    except (ValueError, AttributeError):
        envelope = {}
    code = envelope.get("code") or ("internal" if status >= 500 else f"http_{status}")
    message = f"ConnectBooster {method} {path}: {envelope.get('message') or resp.reason or 'error'}"
    details = envelope.get("details") if isinstance(envelope.get("details"), dict) else {}
    retry_after = None
    if status == 429:
        try:
            retry_after = float(resp.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None  # the policy's default wait
    cls = _BY_STATUS.get(status) or (TransientError if status >= 500 or status == 408 else IntegrationError)
    return cls(message, service=SERVICE, status=status, code=code, retry_after=retry_after, details=details)
