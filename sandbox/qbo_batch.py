"""POST /v3/company/{realm}/batch (real-world.md 6.5, quickbooks-api.md §4.4).

    {"BatchItemRequest": [{"bId": "b1", "operation": "create", "Payment": {...}},
                          {"bId": "b2", "Query": "SELECT * FROM Invoice WHERE Id IN ('130')"}]}
 -> {"BatchItemResponse": [{"bId": "b1", "Payment": {...}}, {"bId": "b2", "QueryResponse": {...}}], "time": ...}

At most 30 items (more: fault 1040 "Batch size exceeds allowed limit", for the whole request); items are
independent, so one item's Fault sits next to the others' successes and the HTTP status is 200 (implied by
Intuit's samples, unverified). Each item counts toward the rate limits (the emulator checks that before).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.qbo_wire import QBOFault, loads, required, unsupported

if TYPE_CHECKING:
    from sandbox.qbo_ledger import Ledger

MAX_ITEMS = 30


def batch_size(req: Any) -> int:
    """How many items a batch request carries (1 when unreadable: it is refused later anyway)."""
    try:
        items = loads(req.get_data() or b"{}").get("BatchItemRequest")
    except (ValueError, AttributeError):
        return 1
    return max(1, min(len(items), MAX_ITEMS + 1)) if isinstance(items, list) else 1


def too_large(count: int) -> QBOFault:
    # Code and message from Intuit's error-code list (real-world.md 6.5); the detail wording is ours.
    return QBOFault("1040", "Batch size exceeds allowed limit",
                    f"Batch size {count} exceeds the maximum of {MAX_ITEMS} items per batch request.")


def run_batch(ledger: Ledger, data: bytes) -> dict:
    """Every item's answer, in request order."""
    try:
        body = loads(data or b"null")
    except ValueError as e:
        raise unsupported(f"Failed to parse JSON request body: {e}") from None
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise required("BatchItemRequest")
    if len(items) > MAX_ITEMS:
        raise too_large(len(items))
    return {"BatchItemResponse": [_item(ledger, item) for item in items]}


def _item(ledger: Ledger, item: Any) -> dict:
    bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
    try:
        if not bid:
            raise required("bId")
        return {"bId": bid, **_run(ledger, item)}
    except QBOFault as f:
        err = {"Message": f.message, "Detail": f.detail, "code": f.code, "element": f.element}
        return {"bId": bid, "Fault": {"type": f.type, "Error": [err]}}


def _run(ledger: Ledger, item: dict) -> dict:
    if "Query" in item:
        return {"QueryResponse": ledger.query(str(item["Query"]))}
    operation = str(item.get("operation", "")).lower()
    if "Payment" not in item:
        entity = next((k for k in item if k not in ("bId", "operation", "optionsData")), "?")
        raise QBOFault("500", "Unsupported Operation", f"Operation {operation} {entity} is not supported.")
    payment = item["Payment"]
    if not isinstance(payment, dict):
        raise unsupported("Payment: must be an object")
    if operation == "delete":
        return {"Payment": ledger.delete_payment(payment)}
    if operation == "update" and str(item.get("optionsData", "")).lower() == "void":
        return {"Payment": ledger.void_payment(payment, wire=True)}
    if operation not in ("create", "update"):
        raise unsupported(f"operation={operation} is not supported")
    if operation == "create":
        payment = {k: v for k, v in payment.items() if k not in ("Id", "SyncToken")}
    return {"Payment": ledger.save_payment(payment, wire=True)}
