"""ConnectBooster's records (its copies of accounting data) and the small formatting helpers they share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

QBO = "quickbooks_online"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FAILED_PAYMENT_MESSAGE = "a credit memo was applied, changing the amount due after the payment run"


def money(value: Any) -> str:
    """Decimal-ish -> '110.00'."""
    return f"{Decimal(str(value)).quantize(CENT):f}"


def dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0")).quantize(CENT)


def rfc3339(ts: float | None) -> str | None:
    """Epoch seconds -> '2026-11-26T13:53:23.120Z' (UTC)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def updated_on(record: dict) -> date | None:
    """The UTC date of a QuickBooks record's MetaData.LastUpdatedTime (QuickBooks writes local offsets)."""
    raw = (record.get("MetaData") or {}).get("LastUpdatedTime")
    if not raw:
        return None
    try:
        stamp = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return date.fromisoformat(str(raw)[:10])
    if stamp.tzinfo is None:
        return stamp.date()
    return stamp.astimezone(UTC).date()


def fold(text: str) -> str:
    """Case- and apostrophe-insensitive form for search (’ ‘ and ' are the same letter here)."""
    return text.replace("\u2019", "'").replace("\u2018", "'").casefold()


def ref_value(record: dict, key: str) -> str | None:
    """A QuickBooks reference's value (`CustomerRef`, `CurrencyRef`), or None."""
    ref = record.get(key) or {}
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") is not None else None


@dataclass
class Org:
    id: int
    name: str
    qbo_id: str | None
    currency: str
    last_synced_at: float | None


@dataclass
class Invoice:
    id: int
    number: str
    org_id: int
    transaction_date: str
    due_date: str | None
    total: Decimal
    balance: Decimal
    currency: str
    qbo_id: str | None
    last_synced_at: float | None
    po_number: str | None = None

    @property
    def status(self) -> str:
        if self.balance <= 0:
            return "paid"
        return "partially_paid" if self.balance < self.total else "open"


@dataclass
class Credit:
    id: int
    org_id: int
    kind: str  # credit_memo | unapplied_payment
    number: str
    date: str
    amount: Decimal
    remaining: Decimal
    currency: str
    status: str  # open | applied
    qbo_type: str
    qbo_id: str
    last_synced_at: float | None


@dataclass
class Payment:
    id: int
    invoice_id: int
    org_id: int
    amount: Decimal
    currency: str
    status: str  # pending_sync | complete | failed | dismissed
    date: str
    created_at: float
    message: str | None = None
    last_synced_at: float | None = None
    qbo_id: str | None = None


def detail(record_type: str, record_id: int, number: str | None, action: str, message: str | None = None,
           source: str = QBO) -> dict:
    return {"record_type": record_type, "record_id": record_id, "number": number, "action": action,
            "source_integration": source, "message": message}
