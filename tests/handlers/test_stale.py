"""Approve when the figures moved after the request: the approval is taken, but nothing is written to
QuickBooks; the thread says what changed and the job stops as stale (docs: "re-read before writing")."""
from __future__ import annotations

import time
from decimal import Decimal

from tests.scenarios.world import APPROVER


def test_credit_partly_used_elsewhere_stops_before_writing(world):
    job_id = world.request(invoice="10040", amount="10")
    # Someone applies $4 of the same credit memo to another invoice directly in QuickBooks meanwhile.
    world.qbo.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 0, "TxnDate": "2026-11-20", "Line": [
        {"Amount": 4, "LinkedTxn": [{"TxnId": "120", "TxnType": "Invoice"}]},
        {"Amount": 4, "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}]}]})
    payments = len(world.qbo.ledger.list("Payment"))
    assert world.approve(job_id, APPROVER).ok
    job = world.wait_state(job_id, "stale", timeout=15)
    thread = world.wait_thread(job_id, "Stopped before writing anything")
    stopped = next(t for t in thread if "Stopped" in t)
    assert "credit remaining is now 6.00 (was 10.00)" in stopped and "is more than what is open now" in stopped
    assert "the credit has $6.00 left" in stopped
    assert len(world.qbo.ledger.list("Payment")) == payments and job.qbo_payment_id is None
    assert world.invoice_balance("130") == Decimal("120.00")


def test_a_portal_payment_waiting_on_the_invoice_stops_before_writing(world):
    job_id = world.request(invoice="10040", amount="10")
    with world.cb._lock:  # as the emulator's own routes change its state: a customer pays in the portal
        invoice = next(i for i in world.cb.state.invoices.values() if i.number == "10040")
        world.cb.state.add_pending_payment(invoice, Decimal("20.00"), time.time())
    assert world.approve(job_id, APPROVER).ok
    world.wait_state(job_id, "stale", timeout=15)
    thread = world.wait_thread(job_id, "Stopped before writing anything")
    assert any("invoice 10040 now has a ConnectBooster payment waiting to sync" in t for t in thread)
    assert world.payments_on("130") == []
