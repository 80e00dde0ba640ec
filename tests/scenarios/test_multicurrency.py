"""A multicurrency company (Intuit: CurrencyRef is required on a Payment once multicurrency is on).

The emulator's company has multicurrency on (home USD) and a CAD customer, Maple Leaf Marine Ltd, with a CAD
credit memo (#1057), a CAD unapplied payment (#173) and a CAD invoice (10210). It refuses a Payment for that
customer without CurrencyRef, so a bot that forgets it cannot reach "verified".
"""
from decimal import Decimal

import pytest

from tests.scenarios.world import APPROVER

CASES = [("credit_memo:157", "157"), ("unapplied_payment:173", "173")]


@pytest.fixture
def cad_world(make_world):
    return make_world(prepare=lambda ledger: ledger.enable_multicurrency())


@pytest.mark.parametrize("credit, credit_id", CASES, ids=["credit_memo", "unapplied_payment"])
def test_a_cad_credit_is_applied_in_cad(cad_world, credit, credit_id):
    world = cad_world
    job_id = world.request("Maple Leaf", credit=credit, invoice="10210", amount="10")
    parent = str(world.parent(job_id)["blocks"])
    assert "10.00 CAD" in parent and "$" not in parent.split("Amount")[1][:40]  # its own currency, not "$"
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    payments = world.payments_on("210")
    assert len(payments) == 1
    payment = payments[0]
    assert payment["CurrencyRef"]["value"] == "CAD"
    assert Decimal(str(payment.get("ExchangeRate", 1))) != 1  # a CAD payment booked at 1:1 would be silently wrong
    assert world.invoice_balance("210") == Decimal("90.00")
    if credit_id == "173":
        assert payment["Id"] == "173"  # the unapplied payment itself gained the line
    assert any("10.00 CAD" in t for t in world.thread(job_id))


def test_the_emulator_refuses_a_payment_without_currency_in_a_multicurrency_company(cad_world):
    # The documented rule the bot relies on (quickbooks-api / real-world.md 6.2), checked at the HTTP boundary.
    import requests

    qbo = cad_world.qbo
    token = qbo.mint_tokens()["access_token"]
    body = {"CustomerRef": {"value": "66"}, "TotalAmt": 0, "TxnDate": "2026-11-29",
            "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "210", "TxnType": "Invoice"}]},
                     {"Amount": 5, "LinkedTxn": [{"TxnId": "157", "TxnType": "CreditMemo"}]}]}
    r = requests.post(f"{qbo.base_url}/v3/company/{qbo.realm_id}/payment", json=body, timeout=5,
                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    assert r.status_code == 400 and r.json()["Fault"]["Error"][0]["code"] == "6000"
