"""The settings of new-credit detection and approval by amount, parsed apart from config.py's rest.

    QBO_WEBHOOK_VERIFIER_TOKEN  Intuit's verifier token: turns on POST /quickbooks/webhooks (HTTP mode)
    QBO_CDC_POLL_SECONDS        change data capture every N seconds (default 300; 0 turns polling off)
    PROPOSALS_CHANNEL           where proposals are posted (default NOTIFY_CHANNEL)
    AUTO_APPLY_MAX              a new credit at or under this amount is applied without a click (default 0: off)
    DUAL_APPROVAL_ABOVE         above this amount two different approvers are needed (default empty: off)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
DEFAULT_CDC_SECONDS = 300.0


def _amount(name: str, raw: str, problems: list[str]) -> Decimal | None:
    """A non-negative amount with at most 2 decimals, or None (empty or refused: the problem is listed)."""
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.append(f"{name} must be an amount like 250 or 250.00, got {raw!r}")
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        problems.append(f"{name} must be an amount of at least 0 with at most 2 decimals, got {raw!r}")
        return None
    return value


def parse_new_credits(get: Callable[..., str], problems: list[str]) -> dict:
    """The Settings fields of this feature from the environment (`get(name, default)`); problems appended."""
    raw = get("QBO_CDC_POLL_SECONDS")
    poll = DEFAULT_CDC_SECONDS
    if raw:
        try:
            poll = float(raw)
        except ValueError:
            problems.append(f"QBO_CDC_POLL_SECONDS must be a number of seconds (0 turns polling off), got {raw!r}")
        else:
            if poll < 0:
                problems.append(f"QBO_CDC_POLL_SECONDS must be 0 (off) or more, got {raw!r}")
    channel = get("PROPOSALS_CHANNEL")
    if channel and not _CHANNEL_ID.match(channel):
        problems.append(f"PROPOSALS_CHANNEL must be a channel id (like C0123ABCD), got {channel!r}")
    auto = _amount("AUTO_APPLY_MAX", get("AUTO_APPLY_MAX"), problems) or Decimal("0")
    dual = _amount("DUAL_APPROVAL_ABOVE", get("DUAL_APPROVAL_ABOVE"), problems)
    if dual is not None and auto > dual:
        problems.append(f"AUTO_APPLY_MAX ({auto}) is above DUAL_APPROVAL_ABOVE ({dual}): a credit that needs two "
                        "approvers can't be applied without any; lower AUTO_APPLY_MAX")
    return {"qbo_webhook_verifier_token": get("QBO_WEBHOOK_VERIFIER_TOKEN"), "qbo_cdc_poll_seconds": poll,
            "proposals_channel": channel, "auto_apply_max": auto, "dual_approval_above": dual}
