"""The contract's routes (relative to `/api/v1`), as plain functions `(emulator, request, **args) -> (status, body)`.

Every handler runs under the emulator's lock after due transitions were played; refusals raise `ApiError`,
which the emulator turns into the contract's envelope `{"error": {"code", "message", "details"}}`.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Map, Rule

from sandbox.cb_records import fold
from sandbox.cb_sync import INTEGRATIONS

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Request

    from sandbox.cb_emulator import ConnectBoosterEmulator

CODES = {401: "unauthorized", 404: "not_found", 409: "conflict", 422: "validation_error", 429: "rate_limited",
         500: "internal", 503: "unavailable"}
INVOICE_STATUSES = {"open": ("open", "partially_paid"), "partially_paid": ("partially_paid",), "paid": ("paid",),
                    "void": ("void",)}
PAYMENT_STATUSES = ("pending_sync", "complete", "failed", "dismissed")


class ApiError(Exception):
    """A refusal in the contract's terms."""

    def __init__(self, status: int, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or {}

    def body(self) -> dict:
        return {"error": {"code": CODES.get(self.status, "internal"), "message": self.message,
                          "details": self.details}}


def _int_arg(request: Request, name: str, default: int | None = None, lo: int = 1, hi: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be an integer", {"field": name, "value": raw}) from None
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ApiError(422, f"{name} must be {bounds}", {"field": name, "value": raw})
    return value


def _choice(request: Request, name: str, allowed: Iterable[str]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    allowed = list(allowed)
    if raw not in allowed:
        raise ApiError(422, f"{name} must be one of {', '.join(allowed)}", {"field": name, "value": raw})
    return raw


def paginate(request: Request, items: list, render: Callable[[Any], dict]) -> tuple[int, dict]:
    page = _int_arg(request, "page", 1)
    size = _int_arg(request, "page_size", 30, hi=100)
    chunk = items[(page - 1) * size: page * size]
    return 200, {"data": [render(i) for i in chunk], "page": page, "page_size": size, "total": len(items)}


def _get(mapping: dict, key: Any, what: str) -> Any:
    if key not in mapping:
        raise ApiError(404, f"{what} {key} not found", {"id": key})
    return mapping[key]


# organizations, credits, invoices, payments ---------------------------------------------------------------
def organizations(emu: ConnectBoosterEmulator, request: Request) -> tuple[int, dict]:
    text = fold(request.args.get("search", "").strip())
    orgs = sorted((o for o in emu.state.orgs.values() if text in fold(o.name)), key=lambda o: (fold(o.name), o.id))
    return paginate(request, orgs, emu.state.org_json)


def organization(emu, request, org_id: int):
    return 200, emu.state.org_json(_get(emu.state.orgs, org_id, "organization"))


def org_credits(emu, request, org_id: int):
    _get(emu.state.orgs, org_id, "organization")
    status = _choice(request, "status", ("open", "applied"))
    credits = [c for c in emu.state.credits.values() if c.org_id == org_id and status in (None, c.status)]
    return paginate(request, sorted(credits, key=lambda c: (c.date, c.id)), emu.state.credit_json)


def credit(emu, request, credit_id: int):
    return 200, emu.state.credit_json(_get(emu.state.credits, credit_id, "credit"))


def _invoice_list(emu, request, org_id: int | None):
    status = _choice(request, "status", INVOICE_STATUSES)
    number = request.args.get("number")
    keep = INVOICE_STATUSES[status] if status else None
    invoices = [i for i in emu.state.invoices.values()
                if (org_id is None or i.org_id == org_id) and (number is None or i.number == number.strip())
                and (keep is None or i.status in keep)]
    invoices.sort(key=lambda i: (i.transaction_date, i.number, i.id))  # oldest first, as QuickBooks applies
    return paginate(request, invoices, emu.state.invoice_json)


def org_invoices(emu, request, org_id: int):
    _get(emu.state.orgs, org_id, "organization")
    return _invoice_list(emu, request, org_id)


def invoices(emu, request):
    org_id = _int_arg(request, "organization_id")
    return _invoice_list(emu, request, org_id)


def invoice(emu, request, invoice_id: int):
    return 200, emu.state.invoice_json(_get(emu.state.invoices, invoice_id, "invoice"))


def payments(emu, request):
    invoice_id = _int_arg(request, "invoice_id")
    status = _choice(request, "status", PAYMENT_STATUSES)
    rows = [p for p in emu.state.payments.values()
            if invoice_id in (None, p.invoice_id) and status in (None, p.status)]
    return paginate(request, sorted(rows, key=lambda p: p.id), emu.state.payment_json)


def payment(emu, request, payment_id: int):
    return 200, emu.state.payment_json(_get(emu.state.payments, payment_id, "payment"))


# resyncs -------------------------------------------------------------------------------------------------
def start_resync(emu, request, entity_type: str, entity_id: int):
    if entity_type != "invoice":
        raise ApiError(404, f"entity type {entity_type} cannot be resynced here; only invoice",
                       {"entity_type": entity_type})
    _get(emu.state.invoices, entity_id, "invoice")
    fail = emu.faults.take_behaviour("resync", request.method, emu.relative(request.path)) is not None
    return 202, emu.engine.start_resync(entity_id, emu.clock(), fail=fail).json()


def resync(emu, request, resync_id: int):
    return 200, _get(emu.engine.resyncs, resync_id, "entity resync").json()


# integrations and syncs ----------------------------------------------------------------------------------
def integrations(emu, request):
    return paginate(request, list(INTEGRATIONS), emu.engine.integration_json)


def integration(emu, request, integration_id: str):
    _get(INTEGRATIONS, integration_id, "integration")
    return 200, emu.engine.integration_json(integration_id)


def _sync_from(request: Request, today: date) -> date:
    raw = request.get_data(as_text=True).strip()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise ApiError(422, "the body must be JSON", {"field": "body"}) from None
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object", {"field": "body"})
    value = body.get("sync_from")
    if value is None:
        return today - timedelta(days=1)  # the UI's default: one day back
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        chosen = date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "sync_from must be a date YYYY-MM-DD", {"field": "sync_from", "value": value}) from None
    return check_sync_from(chosen, today)


def check_sync_from(chosen: date, today: date) -> date:
    """A sync-from date the API (or the portal's date field) accepts: not in the future."""
    if chosen > today:
        raise ApiError(422, "sync_from cannot be in the future", {"field": "sync_from", "value": chosen.isoformat(),
                                                                  "today": today.isoformat()})
    return chosen


def start_sync(emu, request, integration_id: str):
    _get(INTEGRATIONS, integration_id, "integration")
    if not INTEGRATIONS[integration_id]["enabled"]:
        raise ApiError(422, f"integration {integration_id} is not enabled", {"integration_id": integration_id})
    sync_from = _sync_from(request, emu.state.today())
    return 202, emu.begin_sync(integration_id, "manual", sync_from, request.method, emu.relative(request.path))


def sync_history(emu, request, integration_id: str):
    _get(INTEGRATIONS, integration_id, "integration")
    runs = sorted((r for r in emu.engine.runs.values() if r.integration_id == integration_id),
                  key=lambda r: r.id, reverse=True)
    return paginate(request, runs, lambda r: r.json())


def sync(emu, request, sync_id: int):
    return 200, _get(emu.engine.runs, sync_id, "sync").json()


def sync_details(emu, request, sync_id: int):
    return paginate(request, _get(emu.engine.runs, sync_id, "sync").details, dict)


ROUTES = Map([
    Rule("/organizations", endpoint=organizations, methods=["GET"]),
    Rule("/organizations/<int:org_id>", endpoint=organization, methods=["GET"]),
    Rule("/organizations/<int:org_id>/credits", endpoint=org_credits, methods=["GET"]),
    Rule("/organizations/<int:org_id>/invoices", endpoint=org_invoices, methods=["GET"]),
    Rule("/credits/<int:credit_id>", endpoint=credit, methods=["GET"]),
    Rule("/invoices", endpoint=invoices, methods=["GET"]),
    Rule("/invoices/<int:invoice_id>", endpoint=invoice, methods=["GET"]),
    Rule("/payments", endpoint=payments, methods=["GET"]),
    Rule("/payments/<int:payment_id>", endpoint=payment, methods=["GET"]),
    Rule("/entities/<entity_type>/<int:entity_id>/resync", endpoint=start_resync, methods=["POST"]),
    Rule("/entity-resyncs/<int:resync_id>", endpoint=resync, methods=["GET"]),
    Rule("/integrations", endpoint=integrations, methods=["GET"]),
    Rule("/integrations/<integration_id>", endpoint=integration, methods=["GET"]),
    Rule("/integrations/<integration_id>/syncs", endpoint=start_sync, methods=["POST"]),
    Rule("/integrations/<integration_id>/syncs", endpoint=sync_history, methods=["GET"]),
    Rule("/syncs/<int:sync_id>", endpoint=sync, methods=["GET"]),
    Rule("/syncs/<int:sync_id>/details", endpoint=sync_details, methods=["GET"]),
], strict_slashes=False)

__all__ = ["ApiError", "ROUTES"]
