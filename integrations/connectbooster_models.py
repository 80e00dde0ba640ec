"""What the ConnectBooster client returns: frozen dataclasses parsed from the contract's JSON (money as Decimal)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

QBO = "quickbooks_online"
MONEY_KEYS = ("total_balance", "total_past_due", "balance", "amount", "remaining_amount", "total")


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0"))


def _qbo_ref(raw: dict) -> dict | None:
    return next((r for r in raw.get("external_refs") or () if r.get("integration") == QBO), None)


def _with_decimals(d: dict | None) -> dict | None:
    """A copy of a small nested dict whose money strings became Decimals."""
    if d is None:
        return None
    out: dict = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out[key] = _with_decimals(value)
        elif key in MONEY_KEYS and isinstance(value, str):
            out[key] = _money(value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    qbo_customer_id: str | None
    balance: dict  # total_balance, total_past_due (Decimal), oldest_invoice_date, open_invoice_count, currency
    last_synced_at: str | None

    @classmethod
    def parse(cls, raw: dict) -> Organization:
        ref = _qbo_ref(raw)
        return cls(int(raw["id"]), str(raw["name"]), ref["id"] if ref else None,
                   _with_decimals(raw.get("balance") or {}) or {}, raw.get("last_synced_at"))


@dataclass(frozen=True)
class CBCredit:
    id: int
    organization_id: int
    kind: str  # credit_memo | unapplied_payment
    number: str
    date: str
    amount: Decimal
    remaining_amount: Decimal
    currency: str
    status: str  # open | applied
    qbo_id: str | None
    qbo_type: str | None  # CreditMemo | Payment
    last_synced_at: str | None

    @classmethod
    def parse(cls, raw: dict) -> CBCredit:
        ref = _qbo_ref(raw)
        return cls(int(raw["id"]), int(raw["organization_id"]), raw["kind"], str(raw["number"]), raw["date"],
                   _money(raw["amount"]), _money(raw["remaining_amount"]), raw["currency"], raw["status"],
                   ref["id"] if ref else None, ref["type"] if ref else None, raw.get("last_synced_at"))


@dataclass(frozen=True)
class CBInvoice:
    id: int
    number: str
    organization_id: int
    transaction_date: str
    due_date: str | None
    total: Decimal
    balance: Decimal
    currency: str
    status: str  # open | partially_paid | paid | void
    past_due: bool
    pending_payment: bool
    qbo_id: str | None
    last_synced_at: str | None
    po_number: str | None = None

    @classmethod
    def parse(cls, raw: dict) -> CBInvoice:
        ref = _qbo_ref(raw)
        return cls(int(raw["id"]), str(raw["number"]), int(raw["organization_id"]), raw["transaction_date"],
                   raw.get("due_date"), _money(raw["total"]), _money(raw["balance"]), raw["currency"],
                   raw["status"], bool(raw.get("past_due")), bool(raw.get("pending_payment")),
                   ref["id"] if ref else None, raw.get("last_synced_at"), raw.get("po_number"))


@dataclass(frozen=True)
class CBPayment:
    id: int
    invoice_id: int
    amount: Decimal
    currency: str
    status: str  # pending_sync | complete | failed | dismissed
    organization_id: int | None = None
    date: str | None = None
    message: str | None = None
    last_synced_at: str | None = None

    @classmethod
    def parse(cls, raw: dict) -> CBPayment:
        org = raw.get("organization_id")
        return cls(int(raw["id"]), int(raw["invoice_id"]), _money(raw["amount"]), raw["currency"], raw["status"],
                   int(org) if org is not None else None, raw.get("date"), raw.get("message"),
                   raw.get("last_synced_at"))


@dataclass(frozen=True)
class EntityResync:
    id: int
    entity_type: str
    entity_id: int
    status: str  # pending | active | finished | failed
    error: str | None
    result: dict | None  # {"changed", "before": {"balance": Decimal}, "after": {"balance": Decimal}}
    requested_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")

    @classmethod
    def parse(cls, raw: dict) -> EntityResync:
        return cls(int(raw["id"]), raw["entity_type"], int(raw["entity_id"]), raw["status"], raw.get("error"),
                   _with_decimals(raw.get("result")), raw.get("requested_at"), raw.get("started_at"),
                   raw.get("finished_at"))


@dataclass(frozen=True)
class Integration:
    id: str
    category: str  # accounting | psa
    name: str
    primary: bool
    enabled: bool
    connection_status: str
    last_sync: dict | None

    @classmethod
    def parse(cls, raw: dict) -> Integration:
        return cls(raw["id"], raw["category"], raw["name"], bool(raw.get("primary")), bool(raw.get("enabled")),
                   raw.get("connection_status", ""), raw.get("last_sync"))


@dataclass(frozen=True)
class SyncStage:
    integration_id: str
    status: str
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True)
class SyncRun:
    id: int
    integration_id: str
    status: str  # pending | active | finished | failed
    trigger: str  # manual | scheduled
    sync_from: str
    requested_at: str
    started_at: str | None
    finished_at: str | None
    stages: tuple[SyncStage, ...]
    counts: dict
    error: str | None
    attached: bool = False  # True when start_sync joined a run already in progress (after a 409)

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")

    @classmethod
    def parse(cls, raw: dict, *, attached: bool = False) -> SyncRun:
        stages = tuple(SyncStage(s["integration_id"], s["status"], s.get("started_at"), s.get("finished_at"))
                       for s in raw.get("stages") or ())
        return cls(int(raw["id"]), raw["integration_id"], raw["status"], raw["trigger"], raw["sync_from"],
                   raw["requested_at"], raw.get("started_at"), raw.get("finished_at"), stages,
                   dict(raw.get("counts") or {}), raw.get("error"), attached)


@dataclass(frozen=True)
class SyncDetail:
    record_type: str  # invoice | payment | credit
    record_id: int
    number: str | None
    action: str  # created | updated | applied | unchanged | error
    source_integration: str
    message: str | None

    @classmethod
    def parse(cls, raw: dict) -> SyncDetail:
        return cls(raw["record_type"], int(raw["record_id"]), raw.get("number"), raw["action"],
                   raw.get("source_integration", ""), raw.get("message"))
