"""A parent customer's credit and its sub-customer's invoices (QuickBooks `Job: true`, ParentRef): QuickBooks' API
links a credit only to invoices of the same customer (the emulator refuses "another customer's" document), so the
bot never plans nor offers that, and says why where people look: the sweep's thread and the inbox."""
from decimal import Decimal

import pytest

from sandbox.qbo_wire import QBOFault
from tests.scenarios.sweeps import planned, propose
from tests.scenarios.test_closed_periods import inbox, thread_texts
from tests.scenarios.test_guided_sweep import GUIDED

PARENT = "O\u2019Malley\u2019s Marina"
BRANCH = f"{PARENT} \u2013 Dock 2"
WHY = (f"{PARENT}: no open invoice of its own; its sub-customer {BRANCH} has open invoices. QuickBooks' API applies "
       f"a credit only to invoices of the same customer, so the bot cannot apply it there; apply it in QuickBooks "
       f"itself (Receive Payment for {PARENT})")


def with_a_branch(world) -> str:
    """O'Malley's own invoice paid off (its $15.00 credit memo stays), and a branch billed with it owing $40.00."""
    ledger = world.qbo.ledger
    ledger.create_payment({"CustomerRef": {"value": "61"}, "TotalAmt": 75, "TxnDate": "2026-11-01",
                           "Line": [{"Amount": 75, "LinkedTxn": [{"TxnId": "160", "TxnType": "Invoice"}]}]})
    branch = ledger.create_customer(BRANCH)["Id"]
    ledger.update_document("Customer", branch, Job=True, ParentRef={"value": "61", "name": PARENT}, Level=1,
                           BillWithParent=True, FullyQualifiedName=f"{PARENT}:{BRANCH}")
    return ledger.create_invoice(branch, "40.00", txn_date="2026-11-02", doc_number="10062")["Id"]


@pytest.mark.parametrize("settings", [{}, GUIDED], ids=["api", "guided"])
def test_the_sweep_leaves_the_parents_credit_and_says_why(make_world, clock, settings):
    w = make_world(settings=settings, overrides={"now": clock.now})
    invoice = with_a_branch(w)
    message = propose(w)
    assert not [i for i in planned(w) if i[0] in (PARENT, BRANCH)]
    assert WHY in thread_texts(w, message)
    assert w.invoice_balance(invoice) == Decimal("40.00") and w.payments_on(invoice) == []


@pytest.mark.parametrize("settings", [{}, GUIDED], ids=["api", "guided"])
def test_the_inbox_says_why_the_parents_credit_stays(make_world, clock, settings):
    w = make_world(settings=settings, overrides={"now": clock.now})
    with_a_branch(w)
    text = str(inbox(w)["blocks"])  # O'Malley's is on the first page in both orders (by name; oldest credit first)
    shown = text[text.index(f"*{PARENT}*"):]
    assert f":information_source: no open invoice of its own; its sub-customer {BRANCH} has open invoices" in shown


def test_quickbooks_refuses_the_parents_credit_on_the_branchs_invoice(make_world):
    """What the bot avoids: the emulator (as QuickBooks' API, quickbooks-api.md) refuses a Payment for the parent
    that links the branch's invoice."""
    w = make_world()
    invoice = with_a_branch(w)
    with pytest.raises(QBOFault, match="belongs to another customer"):
        w.qbo.ledger.create_payment({"CustomerRef": {"value": "61"}, "TotalAmt": 0, "TxnDate": "2026-11-26", "Line": [
            {"Amount": 15, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]},
            {"Amount": 15, "LinkedTxn": [{"TxnId": "152", "TxnType": "CreditMemo"}]}]})
