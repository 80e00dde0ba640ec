"""QuickBooks that does NOT replay a requestid (window expired, another data centre) while answers get lost.

Intuit documents requestid replay only for a dropped connection with the same body. Here the emulator treats a
repeated requestid as new, the write commits and its answer is lost (or the bot is killed waiting for it); the
bot must find its own marked write instead of writing again: exactly one application, the job verified.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.reliability.harness import bot_payments, new_request, retry_until, wait_all
from tests.scenarios.world import APPROVER

pytestmark = pytest.mark.slow  # real bot processes, killed and restarted: scheduled first (tests/conftest.py)

# (kind, client, invoice number, invoice QuickBooks id, balance after $10)
CASES = [("credit memo", "Atomar's Best Tackle", "10040", "130", Decimal("110.00")),
         ("unapplied payment", "Blue Heron Marine", "10050", "140", Decimal("50.00"))]


def payment_post(m, p):
    return m == "POST" and p.endswith("/payment")


def applications(ledger, invoice_id: str) -> int:
    """Lines of bot-written payments (the $0 Payments, or payment 171's added line) that pay this invoice."""
    return sum(1 for p in bot_payments(ledger) if not p.get("status") == "Deleted"
               for line in p.get("Line", []) for link in line.get("LinkedTxn", [])
               if link.get("TxnType") == "Invoice" and link.get("TxnId") == invoice_id)


@pytest.mark.parametrize("case", CASES, ids=[c[0].replace(" ", "_") for c in CASES])
def test_answer_lost_without_replay_applies_once(world, figures, case):
    kind, client, number, invoice_id, after = case
    world.qbo.replay_requestids = False
    job_id = new_request(world, client, invoice=number, amount="10")
    world.qbo.faults.inject("drop_after_commit", times=1, match=payment_post)
    world.approve(job_id, APPROVER)
    clicks = retry_until(world, job_id)
    found = [e for e in world.bot.store.events(job_id) if e.kind == "quickbooks_write_found"] or \
        [r for r in world.qbo.requests if payment_post(r["method"], r["path"])]
    figures.record("requestid not replayed", f"{kind}: write committed, answer lost", times=1, jobs=1,
                   payments=applications(world.qbo.ledger, invoice_id),
                   duplicates=max(0, applications(world.qbo.ledger, invoice_id) - 1), lost=0,
                   outcome=f"verified after {clicks} Retry")
    assert found
    assert applications(world.qbo.ledger, invoice_id) == 1
    assert world.invoice_balance(invoice_id) == after
    assert world.job(job_id).state == "verified"


@pytest.mark.parametrize("case", CASES, ids=[c[0].replace(" ", "_") for c in CASES])
def test_killed_waiting_for_the_answer_without_replay_applies_once(process_bot, figures, case):
    kind, client, number, invoice_id, after = case
    pb = process_bot()
    pb.qbo.replay_requestids = False
    parent = pb.request(client, invoice=number, amount="10")
    pb.qbo.faults.inject("slow_after_commit", seconds=8.0, match=payment_post)
    pb.driver.click(APPROVER, "approve", source=parent)
    wait_all(lambda: applications(pb.qbo.ledger, invoice_id) == 1, timeout=30, interval=0.01)
    pb.kill()  # the write is in the books; the bot never heard
    pb.qbo.faults.clear()
    pb.restart()
    wait_all(lambda: pb.state() == "verified", timeout=60)
    events = [e.kind for e in pb.store.events(1)]
    figures.record("requestid not replayed", f"{kind}: killed between commit and answer", times=1, jobs=1,
                   payments=applications(pb.qbo.ledger, invoice_id),
                   duplicates=max(0, applications(pb.qbo.ledger, invoice_id) - 1), lost=0, outcome=pb.state())
    assert "quickbooks_write_found" in events  # looked before writing again, and found it
    assert applications(pb.qbo.ledger, invoice_id) == 1
    assert Decimal(str(pb.qbo.ledger.get("Invoice", invoice_id)["Balance"])) == after
