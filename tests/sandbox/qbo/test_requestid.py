"""requestid replay (spec §3): one write per requestid, even across a lost response or a deletion."""
from __future__ import annotations

import threading
import uuid

import pytest
import requests

from tests.sandbox.qbo.helpers import cm_payment, fault


def test_same_body_twice_writes_once(emu, qbo):
    rid = str(uuid.uuid4())
    first = qbo.payment(cm_payment(5), requestid=rid)
    second = qbo.payment(cm_payment(5), requestid=rid)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # replayed verbatim, `time` included
    assert first.headers["intuit_tid"] != second.headers["intuit_tid"]
    assert len(emu.ledger.list("Payment")) == 2 and emu.ledger.version == 1
    assert emu.ledger.get("Invoice", "130")["Balance"] == 115


def test_retry_after_drop_after_commit_returns_the_payment(emu, qbo):
    rid = str(uuid.uuid4())
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(cm_payment(10), requestid=rid)
    r = qbo.payment(cm_payment(10), requestid=rid)
    assert r.status_code == 200
    pid = r.json()["Payment"]["Id"]
    assert [p["Id"] for p in emu.ledger.list("Payment")] == ["171", pid]
    assert emu.ledger.get("Invoice", "130")["Balance"] == 110


def test_replay_outlives_deletion(emu, qbo):
    rid = str(uuid.uuid4())
    p = qbo.payment(cm_payment(10), requestid=rid).json()["Payment"]
    assert qbo.payment({"Id": p["Id"], "SyncToken": p["SyncToken"]}, operation="delete").status_code == 200
    again = qbo.payment(cm_payment(10), requestid=rid)
    assert again.status_code == 200 and again.json()["Payment"]["Id"] == p["Id"]
    assert emu.ledger.get("Payment", p["Id"]) is None and emu.ledger.get("Invoice", "130")["Balance"] == 120


def test_errors_are_replayed_but_gateway_rejections_are_not(emu, qbo):
    rid = str(uuid.uuid4())
    r = qbo.payment(cm_payment(50), requestid=rid)
    assert fault(r)["code"] == "6000"
    assert qbo.payment(cm_payment(5), requestid=rid).content == r.content  # stored answer, not a new write

    rid = str(uuid.uuid4())
    emu.faults.inject("429")
    assert qbo.payment(cm_payment(5), requestid=rid).status_code == 429
    emu.expire_access_tokens()
    assert qbo.payment(cm_payment(5), requestid=rid).status_code == 401
    qbo.token = emu.mint_tokens()["access_token"]
    assert qbo.payment(cm_payment(5), requestid=rid).status_code == 200
    assert emu.ledger.get("Invoice", "130")["Balance"] == 115


def test_concurrent_same_requestid_writes_once(emu, qbo):
    rid = str(uuid.uuid4())
    results = []

    def post():
        results.append(qbo.payment(cm_payment(1), requestid=rid).status_code)
    threads = [threading.Thread(target=post) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results == [200] * 6 and emu.ledger.get("Invoice", "130")["Balance"] == 119


def test_requestid_is_per_request_not_per_body(emu, qbo):
    qbo.payment(cm_payment(1), requestid="a")
    qbo.payment(cm_payment(1), requestid="b")
    assert emu.ledger.get("Invoice", "130")["Balance"] == 118
    logged = [r for r in emu.requests if r["path"].endswith("/payment")]
    assert logged[-1]["query"]["requestid"] == "b" and logged[-1]["status"] == 200


# ---- requestid NOT replayed (spec §3: Intuit documents no window, nothing across data centres) ----

def test_replay_off_drop_after_commit_create_writes_again(emu, qbo):
    emu.replay_requestids = False
    rid = str(uuid.uuid4())
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(cm_payment(4), requestid=rid)
    assert emu.ledger.get("Invoice", "130")["Balance"] == 116  # committed though the answer was lost
    again = qbo.payment(cm_payment(4), requestid=rid)
    assert again.status_code == 200  # a brand-new request: a second Payment
    assert len(emu.ledger.list("Payment")) == 3 and emu.ledger.get("Invoice", "130")["Balance"] == 112


def test_replay_off_second_application_of_spent_credit_memo_is_refused(emu, qbo):
    # quickbooks-api.md §4.2 (text invented): applying more than a credit memo has left is a 6000 fault.
    emu.replay_requestids = False
    rid = str(uuid.uuid4())
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(cm_payment(10), requestid=rid)
    again = qbo.payment(cm_payment(10), requestid=rid)
    assert again.status_code == 400 and again.json()["Fault"]["type"] == "ValidationFault"
    assert fault(again)["code"] == "6000" and "CreditMemo 150" in fault(again)["Detail"]
    assert emu.ledger.get("CreditMemo", "150")["RemainingCredit"] == 0
    assert emu.ledger.get("Invoice", "130")["Balance"] == 110  # exactly one application


def test_replay_off_drop_after_commit_sparse_update_is_not_replayed(emu, qbo):
    emu.replay_requestids = False
    p = qbo.entity("Payment", "171")
    body = {"Id": "171", "SyncToken": p["SyncToken"], "sparse": True, "CustomerRef": {"value": "59"},
            "TotalAmt": 65, "Line": [{"Amount": 40, "LinkedTxn": [{"TxnId": "141", "TxnType": "Invoice"}]},
                                     {"Amount": 25, "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]}]}
    rid = str(uuid.uuid4())
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(body, requestid=rid)
    assert emu.ledger.get("Invoice", "140")["Balance"] == 35
    again = qbo.payment(body, requestid=rid)
    # Not the first answer replayed: the SyncToken moved on, so the same body is now stale (5010).
    assert again.status_code == 400 and fault(again)["code"] == "5010"
    assert emu.ledger.get("Payment", "171")["UnappliedAmt"] == 0


def test_replay_on_sparse_update_after_drop_is_replayed(emu, qbo):
    p = qbo.entity("Payment", "171")
    body = {"Id": "171", "SyncToken": p["SyncToken"], "sparse": True, "CustomerRef": {"value": "59"},
            "TotalAmt": 65, "Line": [{"Amount": 40, "LinkedTxn": [{"TxnId": "141", "TxnType": "Invoice"}]},
                                     {"Amount": 5, "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]}]}
    rid = str(uuid.uuid4())
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(body, requestid=rid)
    again = qbo.payment(body, requestid=rid)
    assert again.status_code == 200 and again.json()["Payment"]["UnappliedAmt"] == 20
