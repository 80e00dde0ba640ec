"""/batch, unsupported paths and a token for another realm (real-world.md 6.4, 6.5)."""
from __future__ import annotations

import pytest

from sandbox import seed
from sandbox.qbo_emulator import QBOEmulator
from tests.sandbox.qbo.helpers import CLIENT_ID, CLIENT_SECRET, QBO, cm_payment


def batch(qbo: QBO, items: list[dict]):
    return qbo.http.post(f"{qbo.emu.api_base}/batch", params={"minorversion": 75}, json={"BatchItemRequest": items},
                         headers=qbo._headers(), timeout=10)


def _json(body: dict) -> dict:
    import json
    return json.loads(json.dumps(body, default=str))


def test_batch_per_item_faults_next_to_successes(emu, qbo):
    # 6.5: items are independent; a failed item is {"bId", "Fault"} among the successes, HTTP 200.
    r = batch(qbo, [
        {"bId": "b1", "operation": "create", "Payment": _json(cm_payment(5))},
        {"bId": "b2", "operation": "create", "Payment": _json(cm_payment(50))},  # more than the credit left
        {"bId": "b3", "Query": "SELECT * FROM Invoice WHERE Id IN ('130', '120')"},
    ])
    assert r.status_code == 200 and "time" in r.json()
    items = {i["bId"]: i for i in r.json()["BatchItemResponse"]}
    assert items["b1"]["Payment"]["TotalAmt"] == 0
    assert items["b2"]["Fault"]["type"] == "ValidationFault" and items["b2"]["Fault"]["Error"][0]["code"] == "6000"
    assert {i["Id"] for i in items["b3"]["QueryResponse"]["Invoice"]} == {"120", "130"}
    assert emu.ledger.get("Invoice", "130")["Balance"] == 115


def test_batch_unsupported_item_and_void_delete(emu, qbo):
    p = qbo.payment(cm_payment(5)).json()["Payment"]
    r = batch(qbo, [{"bId": "c1", "operation": "create", "Customer": {"DisplayName": "X"}},
                    {"bId": "c2", "operation": "delete", "Payment": {"Id": p["Id"], "SyncToken": p["SyncToken"]}}])
    items = {i["bId"]: i for i in r.json()["BatchItemResponse"]}
    assert items["c1"]["Fault"]["Error"][0]["code"] == "500"
    assert items["c2"]["Payment"]["status"] == "Deleted" and emu.ledger.get("Invoice", "130")["Balance"] == 120


def test_batch_over_30_items_is_1040(emu, qbo):
    r = batch(qbo, [{"bId": f"q{n}", "Query": "SELECT * FROM Customer"} for n in range(31)])
    assert r.status_code == 400
    err = r.json()["Fault"]["Error"][0]
    assert err["code"] == "1040" and err["Message"] == "Batch size exceeds allowed limit"


def test_batch_items_count_toward_the_rate_limit(clock):
    # 6.5: whether a batch counts as 1 or N is unverified; the emulator counts N (the conservative reading).
    e = QBOEmulator(realm_id=seed.REALM_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock,
                    limits=(100, 20))
    e.start(port=0)
    try:
        qbo = QBO(e, e.mint_tokens()["access_token"])
        assert batch(qbo, [{"bId": f"q{n}", "Query": "SELECT * FROM Customer"} for n in range(15)]).status_code == 200
        assert batch(qbo, [{"bId": f"r{n}", "Query": "SELECT * FROM Customer"} for n in range(6)]).status_code == 429
        clock.advance(61)
        assert qbo.get("Invoice", "130").status_code == 200
    finally:
        e.stop()


@pytest.mark.parametrize("path", ["/v3/company/customer", "/v3/company/{realm}/bill/1", "/v3/company/{realm}/nothing"])
def test_unsupported_path_is_400_validation_fault_500(emu, qbo, path):
    # 6.4: HTTP 400, ValidationFault, code "500", "Unsupported Operation", "Operation ... is not supported."
    r = qbo.http.get(emu.base_url + path.format(realm=emu.realm_id), headers=qbo._headers(), timeout=10)
    assert r.status_code == 400 and r.headers["intuit_tid"]
    fault = r.json()["Fault"]
    err = fault["Error"][0]
    assert fault["type"] == "ValidationFault" and err["code"] == "500" and err["Message"] == "Unsupported Operation"
    assert err["Detail"].startswith("Operation ") and err["Detail"].endswith(" is not supported.")
    assert "time" in r.json()


def test_token_for_another_realm_is_401_authentication_fault(emu, qbo):
    # Issue 11 item 7: Intuit reproduced a 401 AuthenticationFault (3200 style), not 403/3100.
    r = qbo.http.get(f"{emu.base_url}/v3/company/123/invoice/130", headers=qbo._headers(), timeout=10)
    assert r.status_code == 401
    err = r.json()["fault"]["error"][0]
    assert err["code"] == "3200" and "AuthenticationFailed" in err["message"]
    assert r.json()["fault"]["type"] == "AUTHENTICATION"
