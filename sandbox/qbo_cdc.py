"""Change data capture: `GET /v3/company/{realm}/cdc?entities=Payment,Invoice&changedSince=<ISO date-time>`.

Intuit, "Change data capture operation" (developer.intuit.com .../learn/explore-the-quickbooks-online-api/
change-data-capture): "CDC operations can track changes within the last 30 days"; "Server responses can handle a
maximum of 1,000 objects. We suggest you query for shorter time periods"; full payloads; deleted objects come
back as `{"Id", "status": "Deleted", "MetaData"}` (real-world.md, month-end). Read here as 1,000 objects per
entity per call (real-world.md; the page's sentence could mean per response [UNVERIFIED]). Which objects a
capped answer keeps, and in which order, is not documented: the emulator keeps an arbitrary 1,000 (the query
RowOrder: shuffled unless `stable`), so a client that receives exactly 1,000 must narrow its window.

Too old a `changedSince`: "Operation cdc with changedSince date {date} which is older than fixed days is not
supported." (a real answer quoted in Wish-Org/QuickBooksSharp #19). Its code and HTTP status are [UNVERIFIED]:
the emulator answers 400 ValidationFault code "500" "Unsupported Operation", the code Intuit's error list gives
to "Operation XXX is not supported". Changes at or before `changedSince` (second-precision LastUpdatedTime)
are not returned [UNVERIFIED]: overlap windows by a few seconds and deduplicate.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.qbo_wire import QBOFault, required, stamp, to_datetime, unsupported

if TYPE_CHECKING:
    from sandbox.qbo_ledger import Ledger

MAX_OBJECTS = 1000
LOOK_BACK_SECONDS = 30 * 86400
CDC_ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")  # the emulated ones (Intuit: nearly all)


def too_old(since_text: str) -> QBOFault:
    """The refusal of a look-back beyond 30 days (wording sourced; code and status [UNVERIFIED], see above)."""
    return QBOFault("500", "Unsupported Operation",
                    f"Operation cdc with changedSince date {since_text} which is older than fixed days is not "
                    f"supported.")


def _entity(name: str) -> str:
    for entity in CDC_ENTITIES:
        if entity.lower() == name.lower():
            return entity
    raise unsupported(f"entities: {name} is not supported")


def _changed(ledger: Ledger, entity: str, since_epoch: float) -> list[dict]:
    rows = [r for r in ledger.list(entity) if to_datetime(r["MetaData"]["LastUpdatedTime"]).timestamp() > since_epoch]
    for t in ledger.tombstones:
        deleted = stamp(t["deleted_at"])
        if t["entity"] == entity and to_datetime(deleted).timestamp() > since_epoch:
            rows.append({"Id": t["Id"], "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime": deleted}})
    return rows


def change_data_capture(ledger: Ledger, entities_text: str, since_text: str, now: float) -> dict:
    """The CDCResponse body for one request (raises QBOFault)."""
    names = [n.strip() for n in entities_text.split(",") if n.strip()]
    if not names or not since_text:
        raise required("entities" if not names else "changedSince")
    try:
        since = to_datetime(since_text).timestamp()
    except ValueError:
        raise unsupported(f"changedSince: not a date-time: {since_text!r}") from None
    if since < now - LOOK_BACK_SECONDS:
        raise too_old(since_text)
    out = []
    for entity in [_entity(n) for n in names]:
        rows = ledger.row_order.arrange(("cdc", entity, since), _changed(ledger, entity, since))[:MAX_OBJECTS]
        out.append({entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
    return {"CDCResponse": [{"QueryResponse": out}]}
