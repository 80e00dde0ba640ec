"""workflow/periods.py as a table: which credits QuickBooks would refuse to apply once the books are closed, and how
the plan and the picker's checks treat them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from workflow.lookup import CLOSED_PERIOD, NOT_IN_CONNECTBOOSTER, UNAPPLIED, ClientView, CreditOption, InvoiceOption
from workflow.periods import mark_closed, refused_in_closed_books
from workflow.sweep import plan_client
from workflow.validation import InvalidRequest, validate

TODAY = date(2026, 11, 26)
MEMO, PAYMENT = "credit_memo", "unapplied_payment"


@pytest.mark.parametrize(("kind", "dated", "closed_through", "refused"), [
    (PAYMENT, "2026-08-20", "2026-10-15", True),    # the update of a Payment dated in the closed books
    (PAYMENT, "2026-10-15", "2026-10-15", True),    # on the closing date itself
    (PAYMENT, "2026-10-16", "2026-10-15", False),
    (MEMO, "2026-08-20", "2026-10-15", False),      # a new Payment dated today: allowed
    (MEMO, "2026-08-20", "2026-11-26", True),       # today itself is closed: every write is refused
    (PAYMENT, "2026-11-20", "2099-12-31", True),
    (PAYMENT, "2020-01-01", None, False),           # no closing date
])
def test_which_credits_quickbooks_would_refuse(kind, dated, closed_through, refused):
    assert refused_in_closed_books(kind, dated, closed_through, TODAY) is refused


def view() -> ClientView:
    credits = [CreditOption(f"{PAYMENT}:171", PAYMENT, "171", "171", "2026-08-20", Decimal("25")),
               CreditOption(f"{MEMO}:150", MEMO, "150", "1039", "2026-09-01", Decimal("10")),
               CreditOption(f"{PAYMENT}:172", PAYMENT, "172", "172", "2026-08-21", Decimal("5"),
                            diagnosis=NOT_IN_CONNECTBOOSTER)]
    invoices = [InvoiceOption("120", "10031", "2026-08-14", None, Decimal("85"), Decimal("85"))]
    return ClientView(org_id=1, name="Blue Heron Marine", qbo_customer_id="59", credits=credits, invoices=invoices)


def test_the_plan_goes_on_without_the_closed_payments():
    marked = mark_closed(view(), "2026-10-15", TODAY)
    assert [c.diagnosis for c in marked.credits] == [CLOSED_PERIOD, UNAPPLIED, CLOSED_PERIOD]
    assert [(i["qbo_credit_id"], i["amount"]) for i in plan_client(marked)] == [("150", "10")]
    assert [c.qbo_id for c in marked.usable_credits] == ["150"]


def test_a_closed_credit_is_refused_with_the_closing_date():
    marked = mark_closed(view(), "2026-10-15", TODAY)
    with pytest.raises(InvalidRequest, match=r"in a closed period \(books closed through 2026-10-15\)") as refused:
        validate(marked, credit_key=f"{PAYMENT}:171", invoice_id="120", amount_text="5")
    assert refused.value.field == "credit"
    assert validate(marked, credit_key=f"{MEMO}:150", invoice_id="120", amount_text=None).amount == Decimal("10")
