"""Sweeps read QuickBooks in bulk: fewer requests per application, every safety check kept."""
from collections import Counter
from decimal import Decimal

import pytest

from bench.rig import add_client
from tests.scenarios.sweeps import EXPECTED, batch, propose, wait_finished
from tests.scenarios.world import APPROVER, CHANNEL, fast_limiter

pytestmark = pytest.mark.slow  # sweeps of up to 30 applications: scheduled first (tests/conftest.py)

EXTRA = 21  # clients added to the seed's six: 21 + the seed's 9 items = a sweep of 30 applications


def extra_clients(ledger) -> None:
    """21 clients, each with one $80 invoice and a $20 credit memo: one application each."""
    for n in range(EXTRA):
        add_client(ledger, cid=str(9500 + n), name=f"Bulk Client {n:02d}", invoices=1,
                   invoice_amount=Decimal("80.00"), credit=Decimal("20.00"), first_id=500000 + 10 * n,
                   doc_base=700000 + 10 * n)


def kind(request: dict) -> str:
    """What a QuickBooks request was, e.g. "GET query", "POST payment", "GET invoice"."""
    return f"{request['method']} {request['path'].split('/')[4]}"


def qbo_requests(world, since: int) -> list[dict]:
    return [r for r in world.qbo.requests[since:] if r["path"].startswith("/v3/")]


def approve(world, message) -> int:
    """Approve the sweep; the QuickBooks request log's length just before (the count starts there)."""
    since = len(world.qbo.requests)
    assert world.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    return since


def test_a_sweep_of_30_spends_at_most_one_and_a_half_requests_per_application(make_world):
    # The plan reads 27 clients; QuickBooks' own pace is not the point here (bench/throughput.py measures it).
    world = make_world(prepare=extra_clients, overrides={"qbo_limiter": fast_limiter()})
    message = propose(world)
    assert len(batch(world).plan) == 30
    since = approve(world, message)
    wait_finished(world, timeout=60)
    items = world.bot.store.in_batch(1)
    assert Counter(j.state for j in items) == {"verified": 30}
    reqs = qbo_requests(world, since)
    assert not [r for r in reqs if r["status"] >= 400]
    per_application = len(reqs) / 30
    assert per_application <= 1.5, Counter(kind(r) for r in reqs)
    counted = Counter(kind(r) for r in reqs)
    # One write per application; the unapplied payment 171 is read once for its SyncToken before its update.
    assert counted["POST payment"] == 30 and counted["GET payment"] == 1
    # No single re-read of an invoice before or after a write: the check and the confirmation read in bulk.
    # The three credit memo reads are verification's (after the sync): Coastal's 1051, partly used by three items.
    assert counted["GET invoice"] == 0 and counted["GET creditmemo"] == 3
    # Coastal Bait Co's four items make four rounds: before each, one read of invoices (with the confirmation of
    # the round before) and one per credit kind; after the last, one confirmation.
    assert counted["GET query"] == 3 + 2 + 2 + 2 + 1, counted
    # Every item checked against its round's snapshot and every write confirmed by a bulk read.
    events = [e for j in items for e in world.bot.store.events(j.id)]
    assert Counter(e.details.get("read") for e in events if e.kind == "quickbooks_write_started") == {"bulk": 30}
    assert Counter(e.details.get("read") for e in events if e.kind == "quickbooks_balance_confirmed") == {"bulk": 30}
    for n in range(EXTRA):
        assert world.invoice_balance(str(500000 + 10 * n)) == Decimal("60.00")


def test_a_balance_changed_between_plan_and_write_still_stops_that_item(world):
    message = propose(world)
    # After the plan, someone records a $5 customer payment on Coastal Bait Co's oldest invoice (1001, $50 open).
    customer = world.qbo.ledger.get("Invoice", "1001")["CustomerRef"]["value"]
    world.qbo.ledger.create_payment({"CustomerRef": {"value": customer}, "TotalAmt": 5, "TxnDate": "2026-11-20",
                                     "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "1001", "TxnType": "Invoice"}]}]})
    since = approve(world, message)
    wait_finished(world)
    states = {j.invoice_number: j for j in world.bot.store.in_batch(1)}
    stale = states["20001"]
    assert stale.state == "stale"
    last = [e for e in world.bot.store.events(stale.id) if e.kind == "stale"][-1].details
    assert last["read"] == "bulk" and "invoice 20001 balance is now 45.00 (was 50.00)" in last["problems"]
    # Nothing written for it, its client's later items skipped, every other client applied.
    assert [p["TotalAmt"] for p in world.payments_on("1001")] == [Decimal("5")]
    assert {states[n].state for n in ("20002", "20003", "20004")} == {"skipped"}
    others = {j.state for n, j in states.items() if not n.startswith("2000")}
    assert others == {"verified"} and len(states) == len(EXPECTED)
    assert not [r for r in qbo_requests(world, since) if kind(r) in ("GET invoice", "GET creditmemo")]


def test_a_write_whose_bulk_confirmation_shows_the_wrong_balance_needs_attention(world):
    # Every write commits, then answers 1 s later: meanwhile someone pays $5 more on O'Malley's invoice 160.
    world.qbo.faults.inject("slow_after_commit", seconds=1.0, times=None,
                            match=lambda m, p: m == "POST" and p.endswith("/payment"))
    message = propose(world)
    approve(world, message)
    item = world.slack.wait_for(lambda s: [j for j in world.bot.store.in_batch(1) if j.invoice_qbo_id == "160"],
                                timeout=10)[0]
    world.slack.wait_for(lambda s: world.payments_on("160"), timeout=10)  # our write is committed
    customer = world.qbo.ledger.get("Invoice", "160")["CustomerRef"]["value"]
    world.qbo.ledger.create_payment({"CustomerRef": {"value": customer}, "TotalAmt": 5, "TxnDate": "2026-11-20",
                                     "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "160", "TxnType": "Invoice"}]}]})
    world.qbo.faults.clear()
    wait_finished(world)
    job = world.bot.store.get(item.id)
    assert job.state == "needs_attention" and not job.retryable
    assert job.error == (f"QuickBooks accepted Payment {job.qbo_payment_id}, but invoice 10061 shows 55.00 instead "
                         "of 60.00. Check the invoice in QuickBooks (a closed period can make QuickBooks ignore a "
                         "change) before anything else.")
    assert job.invoice_balance_after == Decimal("55.00")
    others = [j for j in world.bot.store.in_batch(1) if j.id != item.id]
    assert {j.state for j in others} == {"verified"}
    summary = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, message["ts"]) if "finished" in m["text"]],
                                   timeout=10)
    assert "8 of 9 applications verified" in summary[0]["text"]
    assert "shows 55.00 instead of 60.00" in str(summary[0]["blocks"])


def test_a_failed_bulk_read_falls_back_to_reading_one_by_one(make_world):
    world = make_world(overrides={"qbo_limiter": fast_limiter()})  # many failed tries: don't wait at 9/s
    message = propose(world)
    # Every query fails from now on (three tries each): the sweep's bulk reads, before and after, get nothing.
    world.qbo.faults.inject("500", times=None, match=lambda m, p: m == "GET" and p.endswith("/query"))
    since = approve(world, message)
    wait_finished(world)
    world.qbo.faults.clear()
    items = world.bot.store.in_batch(1)
    assert {j.state for j in items} == {"verified"}
    events = [e for j in items for e in world.bot.store.events(j.id)]
    assert Counter(e.details.get("read") for e in events if e.kind == "quickbooks_write_started") == {"single": 9}
    assert Counter(e.details.get("read") for e in events if e.kind == "quickbooks_balance_confirmed") == {"single": 9}
    assert Counter(kind(r) for r in qbo_requests(world, since))["GET invoice"] == 18  # check + confirmation
