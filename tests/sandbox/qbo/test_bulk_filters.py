"""The bulk filters a sweep planner needs (CustomerRef IN, Balance > '0', Id IN) and the one it cannot have
(UnappliedAmt: not queryable, answered as QuickBooks answers it)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.sandbox.qbo.helpers import fault


def found(qbo, statement: str, entity: str) -> set[str]:
    r = qbo.query(statement)
    assert r.status_code == 200, r.text
    return {row["Id"] for row in r.json(parse_float=Decimal)["QueryResponse"].get(entity, [])}


@pytest.mark.parametrize(("entity", "expected"), [
    ("Invoice", {"120", "130", "140", "141", "180", "181"}),
    ("CreditMemo", {"150", "154"}),
    ("Payment", {"171"}),
])
def test_customer_ref_in_on_every_transaction(qbo, entity, expected):
    assert found(qbo, f"SELECT * FROM {entity} WHERE CustomerRef IN ('58', '59', '63', '9999') ORDERBY Id",
                 entity) == expected


def test_customer_ref_in_combines_with_balance(qbo):
    statement = "SELECT * FROM Invoice WHERE CustomerRef IN ('58', '59') AND Balance > '0' ORDERBY Id"
    assert found(qbo, statement, "Invoice") == {"120", "130", "140"}  # 141 is paid by payment 171
    assert found(qbo, "SELECT * FROM CreditMemo WHERE CustomerRef IN ('58', '60') AND Balance > '0'",
                 "CreditMemo") == {"150", "151"}


def test_balance_filters_follow_applications(qbo, emu):
    emu.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 0, "TxnDate": "2026-10-02", "Line": [
        {"Amount": 10, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
        {"Amount": 10, "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}]}]})
    assert "150" not in found(qbo, "SELECT * FROM CreditMemo WHERE Balance > '0'", "CreditMemo")
    assert "130" in found(qbo, "SELECT * FROM Invoice WHERE Balance > '0' AND Balance < '111'", "Invoice")


@pytest.mark.parametrize(("entity", "ids", "expected"), [
    ("Invoice", "'130', '120', '999'", {"120", "130"}),
    ("CreditMemo", "'150', '151'", {"150", "151"}),
    ("Payment", "'171', '1'", {"171"}),
    ("Customer", "'58'", {"58"}),
])
def test_id_in_on_every_entity(qbo, entity, ids, expected):
    assert found(qbo, f"SELECT * FROM {entity} WHERE Id IN ({ids})", entity) == expected


@pytest.mark.parametrize("statement", [
    "SELECT * FROM Payment WHERE UnappliedAmt > '0'",
    "SELECT * FROM Payment WHERE CustomerRef IN ('59') AND UnappliedAmt > '0'",
    "SELECT * FROM Payment ORDERBY UnappliedAmt",
])
def test_unapplied_amt_is_not_queryable_whatever_the_clause(qbo, statement):
    # QuickBooks' answer, quoted in ruckus/quickbooks-ruby #258 ("Invalid query: QueryValidationError: property
    # 'UnappliedAmt' is not queryable"); the code 4001 is [UNVERIFIED].
    r = qbo.query(statement)
    assert r.status_code == 400 and r.json()["Fault"]["type"] == "ValidationFault"
    assert fault(r) == {"Message": "Invalid query", "code": "4001", "element": "",
                        "Detail": "QueryValidationError: property 'UnappliedAmt' is not queryable"}


def test_payment_has_no_balance_to_filter(qbo):
    r = qbo.query("SELECT * FROM Payment WHERE Balance > '0'")
    assert r.status_code == 400 and fault(r)["Detail"] == "QueryValidationError: property 'Balance' is not queryable"
