"""Money: parse what a person typed into a Decimal amount, and format Decimals for Slack.

Refusals are `AmountError`s whose message names the problem and what was typed.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Digits with optional thousands separators in the right places, optional 1-2 (or more, refused later) decimals.
# re.ASCII: \d and \s are ASCII only, so "１０" (fullwidth) or "1٠5" (Arabic-Indic) never become 10 or 105.
_AMOUNT = re.compile(r"^\$?\s*(?P<num>(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+)$", re.ASCII)
_COMMA_CENTS = re.compile(r"\$?\d+,\d{1,2}", re.ASCII)
MAX_AMOUNT = Decimal("9999999999.99")  # QuickBooks stores 15 digits; no real credit comes near this


class AmountError(ValueError):
    """The typed amount is not a positive amount of money with at most 2 decimals."""


def parse_amount(text: str | None) -> Decimal:
    """'10', '10.5', '$1,234.56' -> Decimal; refuses negatives, zero, >2 decimals, NaN, exponents, '10,00'."""
    raw = (text or "").strip()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    if not raw:
        raise AmountError("Enter an amount, like 10.00.")
    if raw.startswith(("-", "$-")):
        raise AmountError(f"The amount must be positive; you entered {shown}.")
    if any(ch.isdigit() and not ch.isascii() for ch in raw):
        raise AmountError(f"Type the amount with the digits 0-9: {shown} has other digits.")
    match = _AMOUNT.match(raw)
    if not match:
        if _COMMA_CENTS.fullmatch(raw):
            raise AmountError(f"Use a dot for cents: {shown} is not an amount here (did you mean {raw.replace(',', '.')}?).")
        raise AmountError(f"{shown} is not an amount. Enter digits with up to 2 decimals, like 10.00.")
    try:
        amount = Decimal(match.group("num").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise AmountError(f"{shown} is not an amount.") from None
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise AmountError(f"Amounts have at most 2 decimals; you entered {shown}.")
    if amount <= 0:
        raise AmountError(f"The amount must be more than $0.00; you entered {shown}.")
    if amount > MAX_AMOUNT:
        raise AmountError(f"{shown} is larger than any credit could be.")
    return amount.quantize(Decimal("0.01"))


def to_decimal(value: object) -> Decimal:
    """A stored or API value ('110.00', 110.0, Decimal) as a 2-place Decimal."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt(amount: Decimal | str | None, currency: str = "USD") -> str:
    """$1,234.56 for USD; 1,234.56 CAD for other currencies; '—' for None."""
    if amount is None or amount == "":
        return "—"
    value = to_decimal(amount)
    sign = "-" if value < 0 else ""
    body = f"{abs(value):,.2f}"
    return f"{sign}${body}" if currency in ("USD", "", None) else f"{sign}{body} {currency}"
