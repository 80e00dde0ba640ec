"""Every message's header says what the books say: each final state of a request, and an undo at each point.

(A sweep's items, the only jobs that end failed or skipped, have no message of their own: their sweep's does.)
"""
from __future__ import annotations

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, REQUESTER

CREDIT_MEMO_LINK = ("CreditMemo", "150")  # Atomar's credit memo #1039


def bot_payments(world) -> list[dict]:
    """The $0 Payments the bot wrote linking credit memo #1039 to invoice 10040."""
    return [p for p in world.payments_on("130")
            if any(link.get("TxnType") == "CreditMemo" for line in p.get("Line", []) for link in line["LinkedTxn"])]


def header(world, job_id: int) -> str:
    """The first section of the request message: title, state, and what the request is now."""
    return world.parent(job_id)["blocks"][0]["text"]["text"]


def settled(world, job_id: int, words: str) -> str:
    return world.slack.wait_for(lambda s: words in (h := header(world, job_id)) and h, timeout=15)


def assert_matches_ledger(world, shown: str) -> None:
    """A header that says applied has exactly one payment behind it; any other says so and has none."""
    applied = len(bot_payments(world)) == 1 and world.invoice_balance("130") == 110
    says_applied = "Applied *$10.00*" in shown and "reversed" not in shown
    assert says_applied == applied, (shown, bot_payments(world))
    if not says_applied:
        assert bot_payments(world) == [] and world.invoice_balance("130") == 120
        assert "asks to apply" not in shown


def request(world) -> int:
    return world.request(invoice="10040", amount="10")


def undo(world, job_id: int, user: str = APPROVER_2) -> None:
    job = world.job(job_id)
    button = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                             if "job_undo" in str(m.get("blocks"))], timeout=10)[-1]
    world.driver.click(user, "job_undo", source=button)


def test_verified_then_undone(world):
    job_id = request(world)
    assert "asks to apply" in header(world, job_id)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    assert_matches_ledger(world, settled(world, job_id, "Done — applied and synced"))
    undo(world, job_id)
    world.wait_state(job_id, "undone", timeout=15)
    assert_matches_ledger(world, settled(world, job_id, "Undone"))


def test_an_undo_that_stops_after_the_reversal_says_reversed_not_done(world):
    job_id = request(world)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    world.cb.faults.inject("fail_sync")  # the undo's sync fails: QuickBooks is reversed, ConnectBooster is not
    undo(world, job_id)
    world.slack.wait_for(lambda s: any(j.state == "needs_attention" for j in world.bot.store.all()
                                       if j.undo_of == job_id), timeout=15)
    shown = settled(world, job_id, "Reversed in QuickBooks; the undo needs attention")
    assert "Done — applied" not in shown
    assert_matches_ledger(world, shown)


@pytest.mark.parametrize("how", ["rejected", "withdrawn", "expired", "stale"])
def test_every_way_a_request_ends_unrecorded(make_world, how):
    world = make_world(settings={"approval_ttl_hours": 0.0001} if how == "expired" else None)
    job_id = request(world)
    if how == "rejected":
        world.click(job_id, "reject", APPROVER)
    elif how == "withdrawn":
        world.click(job_id, "reject", REQUESTER)
    elif how == "expired":
        world.slack.wait_for(lambda s: world.bot.service.expire_due() or world.job(job_id).state == "expired")
    else:
        world.qbo.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 5, "TxnDate": "2026-11-20",
                                         "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]})
        world.approve(job_id, APPROVER)
    label = {"rejected": "Rejected", "withdrawn": "Withdrawn", "expired": "Expired", "stale": "Stopped"}[how]
    shown = settled(world, job_id, label)
    assert "nothing was recorded in QuickBooks" in shown
    assert bot_payments(world) == []


def test_needs_attention_after_the_write_says_applied_and_the_alert_is_resolved_by_sync_again(world):
    world.cb.faults.inject("fail_sync")
    job_id = request(world)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=15)
    shown = settled(world, job_id, "Needs attention")
    assert_matches_ledger(world, shown)
    alert = world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if ":rotating_light:" in m["text"]])[0]
    job = world.job(job_id)
    reply = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                            if "job_retry" in str(m.get("blocks"))])[-1]
    world.driver.click(REQUESTER, "job_retry", source=reply)
    world.wait_state(job_id, "verified", timeout=15)
    resolved = world.slack.wait_for(lambda s: "Resolved" in (m := s.message(NOTIFY, alert["ts"]))["text"] and m)
    assert f"<@{REQUESTER}> pressed Retry / Sync again" in resolved["text"] and "<!date^" in resolved["text"]
    assert "job #" in resolved["text"] and ":rotating_light:" not in resolved["text"]
    assert_matches_ledger(world, settled(world, job_id, "Done — applied and synced"))
