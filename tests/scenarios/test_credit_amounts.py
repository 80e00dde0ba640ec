"""Approval by amount on new credits: auto-apply under AUTO_APPLY_MAX (announced with Undo) and a proposal
above it; two approvers above DUAL_APPROVAL_ABOVE for a proposal and for a request (one is not enough, the same one
twice is not enough); a proposal whose credit is used elsewhere says so and loses its buttons."""
from __future__ import annotations

from decimal import Decimal

from data.events import EventKind
from tests.scenarios.credits import (
    OLDEST_ID,
    click,
    hearing_world,
    message,
    new_memo,
    payments_using,
    proposal,
    remaining,
    shows,
    wait_state,
)
from tests.scenarios.world import APPROVER, APPROVER_2, NOTIFY, REQUESTER


def test_auto_apply_at_or_under_the_limit_with_undo_and_a_proposal_above_it(make_world):
    w = hearing_world(make_world, settings={"auto_apply_max": Decimal("30.00")})
    small, large = new_memo(w, "30.00", number="1101"), new_memo(w, "30.01", number="1102")
    assert w.qbo.webhooks.flush()
    auto = proposal(w, small)
    wait_state(w, auto.id, "finished")
    assert len(payments_using(w, small)) == 1 and remaining(w, small) == 0  # no click
    done = shows(w, auto, "Undo 10031")
    assert "Applied automatically" in str(done["blocks"]) and "no click" in str(done["blocks"])
    asked = proposal(w, large)
    assert asked.state == "awaiting_approval" and payments_using(w, large) == []
    assert "Apply as proposed" in str(message(w, asked)["blocks"])

    # Undo, by the normal rule: an approver (the bot "requested" it), within the window.
    assert w.driver.click(REQUESTER, "job_undo", source=message(w, auto)).status == 200
    assert w.slack.wait_for(lambda s: any("Only approvers can undo" in e.get("text", "")
                                          for e in w.slack.ephemerals(REQUESTER)), timeout=5)
    assert w.driver.click(APPROVER, "job_undo", source=message(w, auto)).status == 200
    [item] = w.bot.store.in_batch(auto.id)
    w.slack.wait_for(lambda s: w.bot.store.get(item.id).state == "undone", timeout=30)
    assert remaining(w, small) == Decimal("30.00") and payments_using(w, small) == []
    shows(w, auto, ":leftwards_arrow_with_hook: → invoice")
    # Reopened by the undo, it is not proposed (nor applied) a second time: one proposal per credit, ever.
    assert w.qbo.webhooks.flush()
    w.bot.watch.run_once()
    assert len([e for e in w.bot.store.events() if e.kind in (EventKind.PROPOSED, EventKind.AUTO_APPLIED)]) == 2


def test_above_the_dual_limit_a_proposal_needs_two_different_approvers(make_world):
    w = hearing_world(make_world, settings={"dual_approval_above": Decimal("20.00")})
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    assert "two different approvers decide" in str(message(w, batch)["blocks"])
    click(w, batch, "proposal_accept", APPROVER)
    first = shows(w, batch, "1 of 2 approvals")
    assert "<@U0APPROVE> approved" in str(first["blocks"]) and "Apply as proposed" in str(first["blocks"])
    assert payments_using(w, key) == []  # nothing is written before the second
    click(w, batch, "proposal_accept", APPROVER)  # the same person again counts once
    assert w.slack.wait_for(lambda s: any("You already approved Proposal" in e.get("text", "")
                                          for e in w.slack.ephemerals(APPROVER)), timeout=5)
    assert w.bot.service.sweeps.batches.get(batch.id).state == "awaiting_second_approval"
    assert payments_using(w, key) == []
    click(w, batch, "proposal_accept", APPROVER_2)
    wait_state(w, batch.id, "finished")
    assert len(payments_using(w, key)) == 1
    assert w.bot.service.sweeps.batches.get(batch.id).first_approver_id == APPROVER


def test_above_the_dual_limit_a_request_needs_two_different_approvers(make_world):
    w = make_world(settings={"dual_approval_above": Decimal("5.00")})
    job_id = w.request(invoice="10040")
    w.approve(job_id, APPROVER)
    w.wait_state(job_id, "awaiting_second_approval")
    w.slack.wait_for(lambda s: "1 of 2 approvals" in str(w.parent(job_id)["blocks"]), timeout=5)
    assert w.payments_on("130") == []
    w.approve(job_id, APPROVER)  # once is not enough, twice by the same person is not either
    w.approve(job_id, REQUESTER)
    w.slack.wait_for(lambda s: any("You already approved" in t for t in w.ephemeral_texts(APPROVER)), timeout=5)
    assert w.job(job_id).state == "awaiting_second_approval" and w.payments_on("130") == []
    w.approve(job_id, APPROVER_2)
    w.wait_state(job_id, "verified", timeout=30)
    assert len(w.payments_on("130")) == 1
    job = w.job(job_id)
    assert (job.first_approver_id, job.approver_id) == (APPROVER, APPROVER_2)
    assert any("1 of 2 approvals: <@U0APPROVE> approved" in t for t in w.thread(job_id))


def test_a_proposal_whose_credit_is_used_elsewhere_says_so_and_loses_its_buttons(make_world):
    w = hearing_world(make_world)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    # Someone applies it in QuickBooks itself (its Receive Payment screen): a $0 payment linking memo and invoice.
    memo_id = key.split(":")[1]
    w.qbo.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 0, "TxnDate": "2026-11-21", "Line": [
        {"Amount": Decimal("25.00"), "LinkedTxn": [{"TxnId": OLDEST_ID, "TxnType": "Invoice"}]},
        {"Amount": Decimal("25.00"), "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}]}]})
    assert w.qbo.webhooks.flush()  # the payment's event only (QuickBooks may not announce the memo's balance)
    closed = shows(w, batch, "Used elsewhere in QuickBooks")
    assert "QuickBooks now shows $0.00 of $25.00 left" in str(closed["blocks"])
    assert not any(b.get("type") == "actions" for b in closed["blocks"])
    assert w.bot.service.sweeps.batches.get(batch.id).state == "cancelled"
    assert len(payments_using(w, key)) == 1  # only the person's
    assert "proposal #" in message(w, batch).get("text", "") and NOTIFY == batch.channel_id


def test_above_the_dual_limit_a_sweep_needs_two_approvers_other_than_its_proposer(make_world):
    from tests.scenarios.sweeps import batch as sweep
    from tests.scenarios.sweeps import propose, wait_finished

    third = "U0APPROVE3"
    w = make_world(settings={"dual_approval_above": Decimal("100.00"),
                             "approver_ids": (APPROVER, APPROVER_2, third)})
    w.slack.add_user(third, "casey.approver")
    plan = propose(w)  # by APPROVER_2, $295 in all
    w.driver.click(APPROVER, "sweep_approve", source=plan)
    w.slack.wait_for(lambda s: "1 of 2 approvals: <@U0APPROVE> approved" in str(s.message(plan["channel"], plan["ts"])
                                                                                 ["blocks"]), timeout=5)
    assert sweep(w).state == "awaiting_second_approval" and w.bot.store.in_batch(1) == []
    w.driver.click(APPROVER, "sweep_approve", source=plan)
    w.driver.click(APPROVER_2, "sweep_approve", source=plan)  # its proposer
    w.slack.wait_for(lambda s: any("You already approved Sweep #1" in t for t in w.ephemeral_texts(APPROVER))
                     and any("a colleague has to approve" in t for t in w.ephemeral_texts(APPROVER_2)), timeout=5)
    assert sweep(w).state == "awaiting_second_approval" and w.bot.store.in_batch(1) == []
    w.driver.click(third, "sweep_approve", source=plan)
    assert wait_finished(w).approver_id == third
