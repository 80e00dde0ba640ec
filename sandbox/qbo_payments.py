"""Payment request bodies: known fields, money parsing, and create / sparse / full-update semantics (§1.1, §1.6).

Pure functions; the ledger does the referential and accounting checks afterwards.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.qbo_wire import required, unsupported

# Fields QBO knows on a Payment. Unknown ones are refused (2010), as QBO's JSON binding does.
READ_ONLY = {"Id", "SyncToken", "sparse", "domain", "status", "UnappliedAmt", "MetaData", "LinkedTxn"}
WRITABLE = {"CustomerRef", "TotalAmt", "TxnDate", "PrivateNote", "Line", "DepositToAccountRef",
            "PaymentMethodRef", "PaymentRefNum", "CurrencyRef", "ExchangeRate", "ProcessPayment",
            "ARAccountRef", "TxnSource", "CreditCardPayment", "TransactionLocationType", "ProjectRef",
            "TaxExemptionRef", "TxnStatus"}
LINE_FIELDS = {"Id", "LineNum", "Amount", "LinkedTxn", "LineEx", "Description", "DetailType"}
LINK_FIELDS = {"TxnId", "TxnType", "TxnLineId"}
# Writable fields kept from the old version when a full update omits them. Intuit says omitted writable
# fields are set to NULL; a NULL TxnDate would default to today, which is not worth emulating (unverified).
KEEP_ON_FULL_UPDATE = {"TxnDate", "DepositToAccountRef"}


def money(value: Any, name: str) -> Decimal:
    """A money field as an exact Decimal (JSON numbers and numeric strings; never bool)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise unsupported(f"{name}: not a number: {value!r}")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise unsupported(f"{name}: not a number: {value!r}") from None
    if not d.is_finite():
        raise unsupported(f"{name}: not a number: {value!r}")
    return d


def _ref_value(ref: Any, name: str) -> str:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    if isinstance(ref, (str, int)) and not isinstance(ref, bool) and str(ref):
        return str(ref)
    raise required(f"{name}.value")


def check_fields(body: Any) -> dict:
    """Refuse what QBO's binding would refuse: non-objects and unknown properties (2010)."""
    if not isinstance(body, dict):
        raise unsupported("Payment: the request body must be a JSON object")
    for key in body:
        if key not in WRITABLE and key not in READ_ONLY:
            raise unsupported(f"{key}: Unrecognized field \"{key}\" in Payment")
    return body


def normalize_lines(raw: Any) -> list[dict]:
    """Payment lines reduced to {Amount, LinkedTxn[{TxnId, TxnType}]}; LineEx is read-only noise."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise unsupported("Line: must be an array")
    lines = []
    for n, line in enumerate(raw):
        if not isinstance(line, dict):
            raise unsupported(f"Line[{n}]: must be an object")
        for key in line:
            if key not in LINE_FIELDS:
                raise unsupported(f"{key}: Unrecognized field \"{key}\" in Line")
        if "Amount" not in line:
            raise required("Line.Amount")
        links = line.get("LinkedTxn")
        if not isinstance(links, list) or not links:
            raise required("Line.LinkedTxn")
        clean = []
        for link in links:
            if not isinstance(link, dict) or not link.get("TxnId") or not link.get("TxnType"):
                raise required("Line.LinkedTxn.TxnId/TxnType")
            for key in link:
                if key not in LINK_FIELDS:
                    raise unsupported(f"{key}: Unrecognized field \"{key}\" in LinkedTxn")
            clean.append({"TxnId": str(link["TxnId"]), "TxnType": str(link["TxnType"])})
        lines.append({"Amount": money(line["Amount"], "Line.Amount"), "LinkedTxn": clean})
    return lines


def _txn_date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise unsupported(f"TxnDate: not a date: {value!r}") from None


def merged(old: dict | None, body: dict, today: str) -> dict:
    """The Payment's writable fields after this request: create, sparse update or full update.

    Lines are ALL or NONE: a sent `Line` replaces every line; an omitted one is kept only by a sparse
    update. A full update nulls what it omits, so `TotalAmt` omitted becomes 0 (Intuit's example, §1.6).
    """
    sparse = body.get("sparse") is True
    if old is None:
        out: dict = {}
        if "CustomerRef" not in body:
            raise required("CustomerRef")
        if "TotalAmt" not in body:
            raise required("TotalAmt")
    elif sparse:
        out = {k: v for k, v in old.items() if k in WRITABLE}
    else:
        if "CustomerRef" not in body:
            raise required("CustomerRef")
        out = {k: v for k, v in old.items() if k in KEEP_ON_FULL_UPDATE}
    for key in WRITABLE:
        if key in body:
            out[key] = body[key]
    out["CustomerRef"] = {"value": _ref_value(out.get("CustomerRef"), "CustomerRef")}
    out["TotalAmt"] = money(out["TotalAmt"], "TotalAmt") if out.get("TotalAmt") is not None else Decimal("0")
    out["Line"] = normalize_lines(out.get("Line")) if "Line" in body else (old or {}).get("Line", [])
    if old is not None and not sparse and "Line" not in body:
        out["Line"] = []
    out["TxnDate"] = _txn_date(out["TxnDate"]) if out.get("TxnDate") else today
    if out.get("PrivateNote") is not None and len(str(out["PrivateNote"])) > 4000:
        raise unsupported("PrivateNote: longer than 4000 characters")
    return {k: v for k, v in out.items() if v is not None}
