"""workflow.validation.validate as a table: every refusal (field and message) and the defaults; the picker's
preselection (oldest invoice, default amount) that a submission without changes sends back."""
from __future__ import annotations

from decimal import Decimal

import pytest

from messages.blocks.picker import picker_view
from workflow.lookup import APPLIED_WAITING_SYNC, NOT_IN_CONNECTBOOSTER, ClientView, CreditOption, InvoiceOption
from workflow.validation import InvalidRequest, validate


def client() -> ClientView:
    """One client: a $10 credit memo, a $25 unapplied payment, a used-up credit, a CAD credit; four invoices."""
    credits = [
        CreditOption("credit_memo:150", "credit_memo", "150", "1039", "2026-10-01", Decimal("10.00"), cb_id=11261),
        CreditOption("unapplied_payment:171", "unapplied_payment", "171", "171", "2026-08-20", Decimal("25.00"),
                     cb_id=11262),
        CreditOption("credit_memo:155", "credit_memo", "155", "1055", "2026-10-09", Decimal("0"), cb_id=11267,
                     cb_remaining=Decimal("40.00"), diagnosis=APPLIED_WAITING_SYNC),
        CreditOption("credit_memo:156", "credit_memo", "156", "1056", "2026-10-10", Decimal("30.00"), currency="CAD",
                     diagnosis=NOT_IN_CONNECTBOOSTER),
    ]
    invoices = [  # oldest first, as list_open_invoices returns them
        InvoiceOption("120", "10031", "2026-08-14", "2026-09-13", Decimal("85.00"), Decimal("85.00"), cb_id=9031),
        InvoiceOption("125", "10035", "2026-09-01", None, Decimal("8.00"), Decimal("4.50")),
        InvoiceOption("130", "10040", "2026-09-20", "2026-10-20", Decimal("120.00"), Decimal("120.00"), cb_id=9040),
        InvoiceOption("180", "10081", "2026-09-10", "2026-10-10", Decimal("90.00"), Decimal("90.00"),
                      pending_payment=True),
    ]
    return ClientView(org_id=501, name="Atomar's Best Tackle", qbo_customer_id="58", credits=credits,
                      invoices=invoices)


CM, UP = "credit_memo:150", "unapplied_payment:171"


@pytest.mark.parametrize(("credit", "invoice", "amount", "field", "message"), [
    (None, "130", "5", "credit", "Choose one of this client's credits."),
    ("credit_memo:999", "130", "5", "credit", "Choose one of this client's credits."),
    ("credit_memo:155", "130", "5", "credit", "Credit 11267 is already fully applied in QuickBooks (remaining $0.00); "
                                              "ConnectBooster only needs a resync and sync: use “Resync only”."),
    (CM, None, "5", "invoice", "Choose one of this client's open invoices."),
    (CM, "999", "5", "invoice", "Choose one of this client's open invoices."),
    ("credit_memo:156", "130", "5", "invoice", "Invoice 10040 is in USD but the credit is in CAD; a credit applies "
                                              "only to an invoice in the same currency."),
    (CM, "180", "5", "invoice", "Invoice 10081 has a ConnectBooster payment waiting to sync. Applying a credit now "
                                "would make that payment fail to sync; wait for the next sync or pick another invoice."),
    (CM, "130", "abc", "amount", "abc is not an amount. Enter digits with up to 2 decimals, like 10.00."),
    (CM, "130", "-1", "amount", "The amount must be positive; you entered -1."),
    (CM, "130", "0.00", "amount", "The amount must be more than $0.00; you entered 0.00."),
    (CM, "130", "1.234", "amount", "Amounts have at most 2 decimals; you entered 1.234."),
    (CM, "130", "10.01", "amount", "$10.01 is more than the credit's remaining $10.00."),
    (UP, "125", "5", "amount", "$5.00 is more than invoice 10035's open balance of $4.50."),
])
def test_refusals(credit, invoice, amount, field, message):
    with pytest.raises(InvalidRequest) as refused:
        validate(client(), credit_key=credit, invoice_id=invoice, amount_text=amount)
    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(("credit", "invoice", "amount", "expected"), [
    (CM, "130", None, "10.00"),     # no amount: the smaller of credit and balance, as Receive Payment applies
    (CM, "130", "", "10.00"),
    (CM, "130", "   ", "10.00"),
    (UP, "125", None, "4.50"),      # the invoice balance is the smaller
    (UP, "130", None, "25.00"),
    (CM, "130", "$7.5", "7.50"),    # typed amounts are parsed (tests/unit/test_money.py has the grammar)
    (CM, "130", "10", "10.00"),     # exactly the remaining credit is allowed
    (UP, "125", "4.50", "4.50"),    # exactly the open balance is allowed
])
def test_accepted_amounts(credit, invoice, amount, expected):
    sel = validate(client(), credit_key=credit, invoice_id=invoice, amount_text=amount)
    assert (sel.credit.key, sel.invoice.qbo_id, sel.amount) == (credit, invoice, Decimal(expected))


def test_the_picker_preselects_the_oldest_invoice_and_the_default_amount():
    view = picker_view(client(), "draft-1")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["credit"]["element"]["initial_option"]["value"] == CM   # first usable credit
    assert blocks["invoice"]["element"]["initial_option"]["value"] == "120"  # the oldest open invoice
    assert blocks["amount"]["element"]["initial_value"] == "10.00"          # min($10.00 credit, $85.00 balance)
    credit_values = [o["value"] for o in blocks["credit"]["element"]["options"]]
    assert "credit_memo:155" not in credit_values  # used up in QuickBooks: "Resync only", not a request
    sel = validate(client(), credit_key=CM, invoice_id="120", amount_text=blocks["amount"]["element"]["initial_value"])
    assert (sel.invoice.number, sel.amount) == ("10031", Decimal("10.00"))
