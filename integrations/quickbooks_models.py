"""QuickBooks Online records as the bot sees them, and the pure helpers around the JSON.

Money is `Decimal` end to end: responses are parsed with `parse_float=Decimal` and request bodies are
serialized from `Decimal` without ever passing through a float.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from integrations.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)

CREDIT_MEMO = "credit_memo"
UNAPPLIED_PAYMENT = "unapplied_payment"
CREDIT_KINDS = (CREDIT_MEMO, UNAPPLIED_PAYMENT)
APOSTROPHES = ("'", "\u2019")  # QuickBooks stores whichever the user typed; queries match exactly


@dataclass(frozen=True)
class Customer:
    id: str
    display_name: str
    currency: str
    balance: Decimal
    active: bool
    parent_id: str | None = None  # ParentRef: a sub-customer's (Job: true) parent customer


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    customer_id: str
    txn_date: str
    due_date: str | None
    total: Decimal
    balance: Decimal
    currency: str
    sync_token: str
    exchange_rate: Decimal | None = None  # home-currency units per unit of `currency` (multicurrency only)


@dataclass(frozen=True)
class Credit:
    kind: str  # "credit_memo" | "unapplied_payment"
    id: str
    number: str  # DocNumber for credit memos; PaymentRefNum or the Id for payments
    customer_id: str
    txn_date: str
    total: Decimal
    remaining: Decimal
    currency: str
    sync_token: str
    exchange_rate: Decimal | None = None  # home-currency units per unit of `currency` (multicurrency only)


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    sync_token: str
    intuit_tid: str | None
    payment: dict  # parsed Payment (Decimal money)


def loads(text: str | bytes) -> Any:
    """Parse QuickBooks JSON with every number as Decimal (Ids and SyncTokens are strings already)."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def dumps(body: Any) -> str:
    """Serialize a request body; Decimal amounts become exact JSON numbers (floats are refused)."""
    if isinstance(body, float):
        raise TypeError("money must be Decimal, not float")
    if isinstance(body, Decimal):
        return format(body, "f")
    if isinstance(body, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in body.items()) + "}"
    if isinstance(body, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in body) + "]"
    return json.dumps(body)


def quote(value: str) -> str:
    """A query string literal: backslashes escaped first, then apostrophes (`O'Brien` -> 'O\\'Brien')."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def apostrophe_variants(name: str) -> list[str]:
    """The name as given, then with every apostrophe straight, then every apostrophe curly (deduplicated)."""
    variants = [name, name.replace("\u2019", "'"), name.replace("'", "\u2019")]
    return list(dict.fromkeys(variants))


def money(value: Any) -> Decimal:
    """A Decimal from a parsed amount (missing -> 0)."""
    if value is None:
        return Decimal("0")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def ref(value: Any) -> str:
    """The `value` of a QuickBooks reference (`{"value": "58", "name": ...}`) as a string."""
    return str(value.get("value", "")) if isinstance(value, dict) else ""


def natural_key(text: str) -> tuple:
    """Sort DocNumbers the way people read them: 10040 after 9999, 'A-2' before 'A-10'."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text or "") if p)


def to_customer(data: dict, home_currency: str) -> Customer:
    return Customer(
        id=str(data["Id"]),
        display_name=data.get("DisplayName", ""),
        currency=ref(data.get("CurrencyRef")) or home_currency,
        balance=money(data.get("Balance")),
        active=bool(data.get("Active", True)),
        parent_id=(ref(data.get("ParentRef")) or None) if data.get("Job") is True else None,
    )


def to_invoice(data: dict, home_currency: str) -> Invoice:
    return Invoice(
        id=str(data["Id"]),
        number=str(data.get("DocNumber") or data["Id"]),
        customer_id=ref(data.get("CustomerRef")),
        txn_date=data.get("TxnDate", ""),
        due_date=data.get("DueDate"),
        total=money(data.get("TotalAmt")),
        balance=money(data.get("Balance")),
        currency=ref(data.get("CurrencyRef")) or home_currency,
        sync_token=str(data.get("SyncToken", "")),
        exchange_rate=_rate(data),
    )


def credit_from_memo(data: dict, home_currency: str) -> Credit:
    remaining = data.get("RemainingCredit", data.get("Balance"))
    return Credit(
        kind=CREDIT_MEMO,
        id=str(data["Id"]),
        number=str(data.get("DocNumber") or data["Id"]),
        customer_id=ref(data.get("CustomerRef")),
        txn_date=data.get("TxnDate", ""),
        total=money(data.get("TotalAmt")),
        remaining=money(remaining),
        currency=ref(data.get("CurrencyRef")) or home_currency,
        sync_token=str(data.get("SyncToken", "")),
        exchange_rate=_rate(data),
    )


def credit_from_payment(data: dict, home_currency: str) -> Credit:
    return Credit(
        kind=UNAPPLIED_PAYMENT,
        id=str(data["Id"]),
        number=str(data.get("PaymentRefNum") or data["Id"]),
        customer_id=ref(data.get("CustomerRef")),
        txn_date=data.get("TxnDate", ""),
        total=money(data.get("TotalAmt")),
        remaining=money(data.get("UnappliedAmt")),
        currency=ref(data.get("CurrencyRef")) or home_currency,
        sync_token=str(data.get("SyncToken", "")),
        exchange_rate=_rate(data),
    )


def _rate(data: dict) -> Decimal | None:
    rate = data.get("ExchangeRate")
    return money(rate) if rate is not None else None


def linked_ids(line: dict, txn_type: str) -> list[str]:
    """The TxnIds a Payment line links of one type ("Invoice", "CreditMemo")."""
    return [str(t.get("TxnId")) for t in line.get("LinkedTxn") or [] if t.get("TxnType") == txn_type]


def clean_line(line: dict) -> dict:
    """A Payment line fit to send back: everything but the undocumented, unstable `LineEx`."""
    return {k: v for k, v in line.items() if k != "LineEx"}


def invoice_line(invoice_id: str, amount: Decimal) -> dict:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}


def check_amount(amount: Decimal) -> None:
    """Amounts are positive Decimals (a float here would already have lost cents)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, got {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")


def check_request_id(request_id: str) -> None:
    if not request_id or len(request_id) > 50:
        raise ValueError("request_id is required and at most 50 characters (QuickBooks' limit)")


def second_request_id(request_id: str) -> str:
    """The requestid of the one retry after a 5010: deterministic, distinct, within 50 characters."""
    return f"{request_id[:47]}-r2"


# ---- responses to results or typed errors ---------------------------------------------------------

RATE_LIMIT_DEFAULT_SECONDS = 60.0  # Intuit: "wait 60 seconds before retrying"
_AUTH_CODES = {"100", "120", "3100", "3200"}


def fault_of(payload: Any) -> tuple[str | None, str]:
    """(code, message) of a Fault, in the service shape (`Fault.Error`) or the gateway's (`fault.error`)."""
    if not isinstance(payload, dict):
        return None, ""
    fault = payload.get("Fault") or payload.get("fault")
    if not isinstance(fault, dict):
        return None, ""
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = str(first.get("code", "")).strip() or None
    if code and code.isdigit():
        code = str(int(code))  # the gateway writes 003001
    message = first.get("Message") or first.get("message") or fault.get("type") or ""
    detail = first.get("Detail") or first.get("detail") or ""
    return code, f"{message}: {detail}" if detail and detail != message else str(message)


def retry_after(header: str | None) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date), else Intuit's 60 s."""
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
                return max(0.0, when.timestamp() - datetime.now(UTC).timestamp())
            except (TypeError, ValueError):
                pass
    return RATE_LIMIT_DEFAULT_SECONDS


def error_from_response(response: Any, *, method: str, path: str) -> dict:
    """The parsed body of a success, or raise the typed error the status and fault code call for."""
    status = response.status_code
    tid = response.headers.get("intuit_tid")
    try:
        payload = loads(response.content) if response.content else {}
    except ValueError:
        payload = None
    code, message = fault_of(payload)
    where = f"QuickBooks {method} /{path.split('?')[0]}"
    kwargs = {"service": "quickbooks", "status": status, "code": code, "intuit_tid": tid}
    if status == 429 or code == "3001":
        raise RateLimitedError(f"{where} was throttled", retry_after=retry_after(response.headers.get("Retry-After")),
                               **kwargs)
    if 200 <= status < 300 and code is None:
        if not isinstance(payload, dict):
            raise TransientError(f"{where} answered with an unreadable body", **kwargs)
        return payload
    if status in (401, 403) or code in _AUTH_CODES:
        raise AuthError(f"{where} was refused: {message or 'not authorized'}", **kwargs)
    if status >= 500:
        raise TransientError(f"{where} failed on Intuit's side: {message or 'no fault detail'}", **kwargs)
    if code == "610" or status == 404:
        raise NotFoundError(f"{where}: {message or 'not found'}", **kwargs)
    if code == "5010" or status == 409:
        raise ConflictError(f"{where}: {message or 'stale object'}", **kwargs)
    raise ValidationError(f"{where} was refused: {message or 'no fault detail'}", **kwargs)
