"""Wire format shared by the QBO emulator modules: times, Decimal-exact JSON, and Intuit's fault bodies."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

# The company's clock: Intuit stamps MetaData and `time` in the company's zone (Pacific in its samples).
# A fixed -07:00 keeps the emulator deterministic (no tzdata needed); clients must parse offsets anyway.
COMPANY_TZ = timezone(timedelta(hours=-7))
USD = {"value": "USD", "name": "United States Dollar"}


def stamp(epoch: float) -> str:
    """MetaData time, e.g. 2026-10-01T10:26:03-07:00."""
    return datetime.fromtimestamp(epoch, COMPANY_TZ).isoformat(timespec="seconds")


def stamp_ms(epoch: float) -> str:
    """Response `time`, e.g. 2026-10-01T10:26:03.668-07:00."""
    return datetime.fromtimestamp(epoch, COMPANY_TZ).isoformat(timespec="milliseconds")


def company_day(epoch: float) -> str:
    """The company's calendar date for an instant (default TxnDate)."""
    return datetime.fromtimestamp(epoch, COMPANY_TZ).date().isoformat()


def to_datetime(text: str) -> datetime:
    """An ISO date or date-time; naive ones are in the company's zone."""
    d = datetime.fromisoformat(text)
    return d if d.tzinfo else d.replace(tzinfo=COMPANY_TZ)


def day_epoch(day: str, hour: int = 9) -> float:
    """An instant on a company calendar day (seed MetaData times)."""
    d = datetime.fromisoformat(day).replace(hour=hour, tzinfo=COMPANY_TZ)
    return d.timestamp()


def clone(o):
    """A fast deep copy for JSON-shaped data (dict/list/str/Decimal/bool/None)."""
    if isinstance(o, dict):
        return {k: clone(v) for k, v in o.items()}
    if isinstance(o, list):
        return [clone(v) for v in o]
    return o


def name_value(name: str, value: str) -> dict:
    """One entry of the undocumented LineEx.any list (spec §1.3)."""
    return {"name": "{http://schema.intuit.com/finance/v3}NameValue", "nil": False,
            "value": {"Name": name, "Value": value}, "declaredType": "com.intuit.schema.finance.v3.NameValue",
            "scope": "javax.xml.bind.JAXBElement$GlobalScope", "globalScope": True, "typeSubstituted": False}


def _enc(o: Any, out: list[str]) -> None:
    if isinstance(o, dict):
        out.append("{")
        first = True
        for k, v in o.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(k))
            out.append(":")
            _enc(v, out)
        out.append("}")
    elif isinstance(o, (list, tuple)):
        out.append("[")
        for i, v in enumerate(o):
            if i:
                out.append(",")
            _enc(v, out)
        out.append("]")
    elif isinstance(o, Decimal):
        # A JSON number with the Decimal's exact digits (json.dumps would need float and round).
        out.append(f"{o:f}")
    else:
        out.append(json.dumps(o))


def dumps(o: Any) -> bytes:
    """JSON with Decimals as exact JSON numbers."""
    out: list[str] = []
    _enc(o, out)
    return "".join(out).encode()


def loads(data: bytes) -> Any:
    """JSON with every non-integer number as Decimal (QBO money is 15 digits, never float)."""
    return json.loads(data, parse_float=Decimal)


class QBOFault(Exception):
    """A service fault: HTTP status + Intuit's `Fault` body (code is a string, as Intuit sends it)."""

    def __init__(self, code: str, message: str, detail: str, *, status: int = 400,
                 type: str = "ValidationFault", element: str = "") -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail = code, message, detail
        self.status, self.type, self.element = status, type, element

    def body(self, now: float) -> dict:
        err = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Fault": {"Error": [err], "type": self.type}, "time": stamp_ms(now)}


def gateway_body(message: str, detail: str, code: str, type: str, now: float) -> dict:
    """The API gateway's own envelope (401/403/429): lower-case keys, epoch-millis `time` (spec 4.3)."""
    return {
        "warnings": None, "intuitObject": None,
        "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": None}], "type": type},
        "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": None, "requestId": None, "time": int(now * 1000), "status": None,
        "cdcresponse": [],
    }


# Factories for the faults the emulator raises (messages verbatim where the spec sources them).
def stale(entity: str) -> QBOFault:
    return QBOFault("5010", "Stale Object Error",
                    "Stale Object Error : You and root were working on this at the same time. root finished "
                    "before you did, so your work was not saved.", element=entity)


def not_found(detail: str = "Another user has deleted this transaction.") -> QBOFault:
    return QBOFault("610", "Object Not Found", f"Object Not Found : {detail}")


def business(detail: str) -> QBOFault:
    return QBOFault("6000", "A business validation error has occurred while processing your request",
                    f"Business Validation Error: {detail}")


def period_closed(through: str) -> QBOFault:
    # Message per S11; the detail wording is not sourced.
    return QBOFault("6210", "Account Period Closed",
                    f"Account Period Closed: the books are closed through {through}; "
                    f"transactions dated on or before it cannot be added, changed or deleted.")


def required(param: str) -> QBOFault:
    return QBOFault("2020", "Required param missing, need to supply the required value for the API",
                    f"Required parameter {param} is missing in the request")


def invalid_ref(detail: str) -> QBOFault:
    return QBOFault("2500", "Invalid Reference Id", f"Invalid Reference Id : {detail}")


def unsupported(detail: str) -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property", f"Property Name:{detail}")


def parse_error(detail: str) -> QBOFault:
    return QBOFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def invalid_query(detail: str) -> QBOFault:
    return QBOFault("4001", "Invalid query", f"QueryValidationError: {detail}")
