"""parse_amount: what a person may type, and the exact refusal for everything else (ASCII digits only)."""
from decimal import Decimal

import pytest

from workflow.money import AmountError, fmt, parse_amount


@pytest.mark.parametrize("typed, amount", [
    ("10", "10.00"),
    ("10.5", "10.50"),
    ("  $1,234.56 ", "1234.56"),
    ("$ 7", "7.00"),
    (".5", "0.50"),
    ("1,000,000", "1000000.00"),
    ("10.500", "10.50"),          # a trailing zero is not a third decimal
    ("9999999999.99", "9999999999.99"),
])
def test_amounts_people_type(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed, message", [
    ("", "Enter an amount, like 10.00."),
    (None, "Enter an amount, like 10.00."),
    ("-5", "The amount must be positive; you entered -5."),
    ("$-5", "The amount must be positive; you entered $-5."),
    ("-$5", "The amount must be positive; you entered -$5."),
    ("0", "The amount must be more than $0.00; you entered 0."),
    ("10.005", "Amounts have at most 2 decimals; you entered 10.005."),
    ("10,00", "Use a dot for cents: 10,00 is not an amount here (did you mean 10.00?)."),
    ("1e3", "1e3 is not an amount. Enter digits with up to 2 decimals, like 10.00."),
    ("NaN", "NaN is not an amount."),
    ("12,34,567", "12,34,567 is not an amount."),
    ("10000000000", "10000000000 is larger than any credit could be."),
    # Unicode digits that Python's Decimal would happily read: refused, with the reason.
    ("\uff11\uff10", "Type the amount with the digits 0-9: \uff11\uff10 has other digits."),       # fullwidth 10
    ("1\u06605", "Type the amount with the digits 0-9: 1\u06605 has other digits."),            # Arabic-Indic zero
    ("\u0661\u0660", "Type the amount with the digits 0-9: \u0661\u0660 has other digits."),
    ("5\u00b2", "Type the amount with the digits 0-9: 5\u00b2 has other digits."),              # superscript two
    ("1\u00a0000", "is not an amount"),                                                         # no-break space
    ("x" * 60, "x" * 40 + "… is not an amount"),                                              # long input cut
])
def test_refusals_say_what_is_wrong(typed, message):
    with pytest.raises(AmountError) as refused:
        parse_amount(typed)
    assert message in str(refused.value)


@pytest.mark.parametrize("amount, currency, shown", [
    (Decimal("1234.5"), "USD", "$1,234.50"),
    ("-3", "USD", "-$3.00"),
    ("10", "CAD", "10.00 CAD"),
    (None, "USD", "—"),
])
def test_fmt(amount, currency, shown):
    assert fmt(amount, currency) == shown
