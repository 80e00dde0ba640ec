"""The help article's story at the emulator level: the lag, a resync, a sync, and the ways a sync goes wrong."""
from __future__ import annotations

from decimal import Decimal


def apply_in_qbo(ledger, customer, invoice, credit_memo, amount):
    return ledger.create_payment({
        "CustomerRef": {"value": customer}, "TotalAmt": 0,
        "Line": [{"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]},
                 {"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": credit_memo, "TxnType": "CreditMemo"}]}],
    })


def open_credit_ids(api, org_id):
    return [c["id"] for c in api("GET", f"/organizations/{org_id}/credits", params={"status": "open"}).json()["data"]]


def start_sync(api, sync_from=None, key=None):
    body = {} if sync_from is None else {"sync_from": sync_from}
    headers = {"Idempotency-Key": key} if key else {}
    return api("POST", "/integrations/quickbooks_online/syncs", json=body, headers=headers)


def test_the_help_article(api, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    assert ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    # ConnectBooster still shows the credit and the old balance: its copies have not been refreshed.
    assert open_credit_ids(api, 501) == [11261]
    assert api("GET", "/invoices/9040").json()["balance"] == "120.00"

    resync = api("POST", "/entities/invoice/9040/resync").json()
    assert resync["status"] == "pending" and resync["result"] is None
    clock.advance(0.03)
    assert api("GET", f"/entity-resyncs/{resync['id']}").json()["status"] == "active"
    clock.advance(0.03)
    done = api("GET", f"/entity-resyncs/{resync['id']}").json()
    assert done["status"] == "finished" and done["error"] is None
    assert done["result"] == {"changed": True, "before": {"balance": "120.00"}, "after": {"balance": "110.00"}}
    inv = api("GET", "/invoices/9040").json()
    assert (inv["balance"], inv["total"], inv["status"]) == ("110.00", "120.00", "partially_paid")  # $110 of $120
    assert api("GET", "/organizations/501").json()["balance"]["total_balance"] == "195.00"
    assert open_credit_ids(api, 501) == [11261]  # step 19: the balance updated, the credit still shows

    run = start_sync(api, "2026-11-25")
    assert run.status_code == 202
    run = run.json()
    assert (run["status"], run["trigger"], run["sync_from"]) == ("pending", "manual", "2026-11-25")
    assert [s["integration_id"] for s in run["stages"]] == ["autotask", "quickbooks_online"]
    clock.advance(0.06)
    run = api("GET", f"/syncs/{run['id']}").json()
    assert run["status"] == "active" and [s["status"] for s in run["stages"]] == ["active", "pending"]
    clock.advance(0.1)
    run = api("GET", f"/syncs/{run['id']}").json()
    assert run["status"] == "active" and [s["status"] for s in run["stages"]] == ["finished", "active"]
    assert open_credit_ids(api, 501) == [11261]  # not before the accounting stage ends
    clock.advance(0.1)
    run = api("GET", f"/syncs/{run['id']}").json()
    assert run["status"] == "finished" and run["finished_at"] and run["error"] is None
    assert all(s["started_at"] and s["finished_at"] for s in run["stages"])
    details = api("GET", f"/syncs/{run['id']}/details").json()["data"]
    rows = {(d["record_type"], d["record_id"]): d for d in details}
    assert rows[("credit", 11261)]["action"] == "applied"
    assert rows[("invoice", 9040)]["action"] == "unchanged"  # the resync already brought its balance
    assert rows[("invoice", 9040)]["source_integration"] == "quickbooks_online"
    assert open_credit_ids(api, 501) == []  # the credit is no longer visible
    assert api("GET", "/credits/11261").json()["status"] == "applied"
    assert api("GET", "/invoices/9040").json()["balance"] == "110.00"
    history = api("GET", "/integrations/quickbooks_online/syncs").json()["data"]
    assert [r["id"] for r in history] == [run["id"], 7001]
    integ = {i["id"]: i for i in api("GET", "/integrations").json()["data"]}
    assert integ["quickbooks_online"]["last_sync"]["id"] == run["id"]


def test_a_sync_alone_also_updates_the_invoice(api, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    run = start_sync(api).json()  # sync_from omitted: one day back
    assert run["sync_from"] == "2026-11-25"
    clock.advance(1)
    details = api("GET", f"/syncs/{run['id']}/details").json()["data"]
    assert {"record_type": "invoice", "record_id": 9040, "number": "10040", "action": "updated",
            "source_integration": "quickbooks_online", "message": None} in details
    assert api("GET", "/invoices/9040").json()["balance"] == "110.00"
    assert open_credit_ids(api, 501) == []


def test_a_sync_from_after_the_change_leaves_the_credit(api, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")  # changed on 2026-11-26
    clock.advance(2 * 86400)  # now 2026-11-28
    run = start_sync(api, "2026-11-27").json()
    clock.advance(1)
    assert api("GET", f"/syncs/{run['id']}").json()["status"] == "finished"
    assert open_credit_ids(api, 501) == [11261]
    assert api("GET", "/invoices/9040").json()["balance"] == "120.00"
    run = start_sync(api, "2026-11-26").json()  # covering the change this time
    clock.advance(1)
    assert open_credit_ids(api, 501) == []


def test_reel_deal_already_applied_shows_until_a_sync(api, clock):
    assert open_credit_ids(api, 507) == [11267]
    inv = api("GET", "/invoices", params={"number": "10091"}).json()["data"][0]
    assert inv["balance"] == "100.00"
    resync = api("POST", f"/entities/invoice/{inv['id']}/resync").json()
    clock.advance(0.1)
    assert api("GET", f"/entity-resyncs/{resync['id']}").json()["result"]["after"] == {"balance": "60.00"}
    assert open_credit_ids(api, 507) == [11267]
    start_sync(api, "2026-11-25")
    clock.advance(1)
    assert open_credit_ids(api, 507) == []
    assert api("GET", "/credits/11267").json()["remaining_amount"] == "0.00"


def test_sync_from_validation(api):
    for bad in ("2026-13-01", "yesterday", "2026-11-27", 20261125, "2026-11-5"):
        resp = start_sync(api, bad)
        assert resp.status_code == 422 and resp.json()["error"]["details"]["field"] == "sync_from", bad
    assert api("POST", "/integrations/quickbooks_online/syncs", data="{not json").status_code == 422
    assert api("POST", "/integrations/xero/syncs", json={}).status_code == 404
    assert api("POST", "/integrations/connectwise/syncs", json={}).status_code == 422


def test_failed_sync(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    cb.faults.inject("fail_sync")
    api("GET", "/organizations/501")  # an unrelated request does not use up the fault
    run = start_sync(api, "2026-11-25").json()
    clock.advance(1)
    run = api("GET", f"/syncs/{run['id']}").json()
    assert run["status"] == "failed" and "QuickBooks Online" in run["error"]
    assert [s["status"] for s in run["stages"]] == ["finished", "failed"] and run["finished_at"]
    assert open_credit_ids(api, 501) == [11261]  # nothing refreshed
    run = start_sync(api, "2026-11-25").json()  # the next one works
    clock.advance(1)
    assert api("GET", f"/syncs/{run['id']}").json()["status"] == "finished"
    assert open_credit_ids(api, 501) == []


def test_stuck_pending_sync_blocks_others(api, cb, clock):
    cb.faults.inject("stuck_pending")
    run = start_sync(api).json()
    clock.advance(3600)
    assert api("GET", f"/syncs/{run['id']}").json()["status"] == "pending"
    again = start_sync(api)
    assert again.status_code == 409
    assert again.json()["error"] == {"code": "conflict", "message": again.json()["error"]["message"],
                                     "details": {"existing_sync_id": run["id"], "status": "pending"}}


def test_scheduled_run_conflicts_with_a_manual_one(api, cb, clock):
    scheduled = cb.start_scheduled_sync()
    assert scheduled["trigger"] == "scheduled" and scheduled["status"] == "pending"
    resp = start_sync(api, "2026-11-20")
    assert resp.status_code == 409 and resp.json()["error"]["details"]["existing_sync_id"] == scheduled["id"]
    assert cb.start_scheduled_sync()["id"] == scheduled["id"]  # no second scheduled run either
    clock.advance(1)
    assert start_sync(api, "2026-11-20").status_code == 202


def test_failed_resync(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    cb.faults.inject("fail_resync")
    resync = api("POST", "/entities/invoice/9040/resync").json()
    clock.advance(1)
    resync = api("GET", f"/entity-resyncs/{resync['id']}").json()
    assert resync["status"] == "failed" and resync["error"] and resync["result"] is None
    assert api("GET", "/invoices/9040").json()["balance"] == "120.00"


def test_pending_payment_fails_when_a_credit_changed_the_amount_due(api, ledger, clock):
    """The known failure: credit applied in QuickBooks to an invoice with a pending ConnectBooster payment."""
    apply_in_qbo(ledger, "63", "180", "154", "30.00")
    inv = api("GET", "/invoices", params={"number": "10081"}).json()["data"][0]
    start_sync(api, "2026-11-25")
    clock.advance(1)
    (pay,) = api("GET", "/payments", params={"invoice_id": inv["id"]}).json()["data"]
    assert pay["status"] == "failed"
    assert "a credit memo was applied, changing the amount due after the payment run" in pay["message"]
    inv = api("GET", f"/invoices/{inv['id']}").json()
    assert (inv["pending_payment"], inv["balance"]) == (False, "60.00")
    assert api("GET", "/payments", params={"status": "pending_sync"}).json()["total"] == 0
    assert api("GET", "/payments", params={"status": "failed"}).json()["total"] == 1


def test_pending_payment_completes_and_reaches_quickbooks(api, ledger, clock):
    inv = api("GET", "/invoices", params={"number": "10081"}).json()["data"][0]
    run = start_sync(api, "2026-11-25").json()
    clock.advance(1)
    (pay,) = api("GET", "/payments", params={"invoice_id": inv["id"]}).json()["data"]
    assert pay["status"] == "complete" and pay["external_refs"][0]["type"] == "Payment"
    assert ledger.get("Invoice", "180")["Balance"] == 0
    assert api("GET", f"/invoices/{inv['id']}").json()["status"] == "paid"
    details = api("GET", f"/syncs/{run['id']}/details").json()["data"]
    assert any(d["record_type"] == "payment" and d["record_id"] == pay["id"] and d["action"] == "created"
               for d in details)


def test_new_credits_appear_only_after_a_sync(api, ledger, clock):
    # An overpayment in QuickBooks leaves $5 unapplied: a new organizational credit, once synced.
    ledger.create_payment({"CustomerRef": {"value": "65"}, "TotalAmt": Decimal("35.00"),
                           "Line": [{"Amount": Decimal("30.00"),
                                     "LinkedTxn": [{"TxnId": "195", "TxnType": "Invoice"}]}]})
    assert open_credit_ids(api, 508) == []
    start_sync(api, "2026-11-26")
    clock.advance(1)
    (credit,) = api("GET", "/organizations/508/credits").json()["data"]
    assert (credit["id"], credit["kind"], credit["remaining_amount"]) == (11300, "unapplied_payment", "5.00")
    assert api("GET", "/organizations/508").json()["balance"]["open_invoice_count"] == 0


def test_snapshot_advances_with_the_clock(cb, clock):
    run = cb.start_scheduled_sync()
    clock.advance(1)
    snap = cb.snapshot()
    assert snap["syncs"][0]["id"] == run["id"] and snap["syncs"][0]["status"] == "finished"
