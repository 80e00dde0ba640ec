"""workflow.sweep's planner as a table: small clients -> the (credit, invoice, amount) items QuickBooks'
Receive Payment would apply, oldest invoices first, never over-applying an invoice."""
from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, CreditOption, InvoiceOption
from workflow.sweep import Plan, item_values, plan_client


def cr(number: str, remaining: str, date: str = "2026-10-01", *, kind: str = "credit_memo", currency: str = "USD",
       diagnosis: str | None = None) -> CreditOption:
    extra = {"diagnosis": diagnosis} if diagnosis else {}
    return CreditOption(f"{kind}:{number}", kind, number, number, date, Decimal(remaining), cb_id=int(number) + 10000,
                        currency=currency, **extra)


def inv(number: str, balance: str, *, currency: str = "USD", pending: bool = False, total: str | None = None
        ) -> InvoiceOption:
    return InvoiceOption(number, number, "2026-09-01", None, Decimal(total or balance), Decimal(balance),
                         currency=currency, cb_id=int(number) + 9000, pending_payment=pending)


def view(credits: list, invoices: list) -> ClientView:
    return ClientView(org_id=501, name="Atomar's Best Tackle", qbo_customer_id="58", credits=credits,
                      invoices=invoices)


CASES = {  # name: (credits, invoices oldest first, expected [(credit, invoice, amount)])
    "credit smaller than the oldest invoice": ([cr("1", "10")], [inv("100", "85"), inv("101", "120")],
                                               [("1", "100", "10")]),
    "credit spreads over the next invoices": ([cr("1", "175")], [inv("100", "50"), inv("101", "50"),
                                                                 inv("102", "50"), inv("103", "50")],
                                              [("1", "100", "50"), ("1", "101", "50"), ("1", "102", "50"),
                                               ("1", "103", "25")]),
    "more credit than all invoices": ([cr("1", "100")], [inv("100", "30"), inv("101", "20")],
                                      [("1", "100", "30"), ("1", "101", "20")]),
    "pending ConnectBooster payment skipped": ([cr("1", "30")], [inv("100", "90", pending=True), inv("101", "45")],
                                               [("1", "101", "30")]),
    "other currency skipped": ([cr("1", "30")], [inv("100", "90", currency="CAD"), inv("101", "45")],
                               [("1", "101", "30")]),
    "credit in its own currency": ([cr("1", "30", currency="CAD")], [inv("100", "90"), inv("101", "45", currency="CAD")],
                                   [("1", "101", "30")]),
    "used-up and waiting-for-sync credits ignored": ([cr("1", "0"), cr("2", "40", diagnosis=APPLIED_WAITING_SYNC)],
                                                     [inv("100", "90")], []),
    "two credits share the running balances": ([cr("1", "60", "2026-10-01"), cr("2", "50", "2026-10-02")],
                                               [inv("100", "50"), inv("101", "40")],
                                               [("1", "100", "50"), ("1", "101", "10"), ("2", "101", "30")]),
    "older credit goes first": ([cr("2", "30", "2026-10-05"), cr("1", "30", "2026-09-01")], [inv("100", "40")],
                                [("1", "100", "30"), ("2", "100", "10")]),
    "no open invoice": ([cr("1", "30")], [], []),
    "no credit": ([], [inv("100", "40")], []),
    "zero-balance invoice skipped": ([cr("1", "30")], [inv("100", "0", total="40"), inv("101", "40")],
                                     [("1", "101", "30")]),
}


@pytest.mark.parametrize(("credits", "invoices", "expected"), CASES.values(), ids=CASES.keys())
def test_plan_client(credits, invoices, expected):
    items = plan_client(view(credits, invoices))
    assert [(i["credit_number"], i["invoice_number"], i["amount"]) for i in items] == \
        [(c, n, str(Decimal(a))) for c, n, a in expected]
    # Whatever the case: no invoice is over-applied and no credit spent beyond what remains.
    for number in {i["invoice_number"] for i in items}:
        start = next(x.balance for x in invoices if x.number == number)
        assert sum(Decimal(i["amount"]) for i in items if i["invoice_number"] == number) <= start
    for credit in credits:
        assert sum(Decimal(i["amount"]) for i in items if i["credit_number"] == credit.number) <= credit.remaining


def test_an_item_carries_what_the_job_needs():
    item = plan_client(view([cr("1", "175")], [inv("100", "50", total="80"), inv("101", "50")]))[1]
    assert item == {
        "client": "Atomar's Best Tackle", "org_id": 501, "qbo_customer_id": "58", "credit_kind": "credit_memo",
        "qbo_credit_id": "1", "cb_credit_id": 10001, "credit_number": "1", "credit_remaining_before": "125",
        "credit_date": "2026-10-01", "invoice_qbo_id": "101", "invoice_number": "101", "cb_invoice_id": 9101, "invoice_total": "50",
        "invoice_balance_before": "50", "amount": "50", "currency": "USD",
    }
    values = item_values({**item, "seq": 3})
    assert values["amount"] == Decimal("50") and values["credit_remaining_before"] == Decimal("125")
    assert (values["client_name"], values["cb_org_id"], values["batch_seq"]) == ("Atomar's Best Tackle", 501, 3)


def test_plan_total():
    plan = Plan(items=plan_client(view([cr("1", "75.50")], [inv("100", "50"), inv("101", "50")])))
    assert plan.total == Decimal("75.50") and Plan().total == Decimal("0")
