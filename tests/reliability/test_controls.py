"""Controls: two people for every change to the books, nothing slow on Slack's threads.

Least privilege and retention are in test_controls_access.py. Every test records a row for docs/reliability.md.
"""
from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from tests.reliability.harness import at_once, bot_payments, ledger_figures, new_request
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER

GROUP = "Controls: two people, no slow path"


def thread_button(world, job_id: int, action_id: str) -> dict:
    """The newest reply in the job's thread that carries the button."""
    job = world.job(job_id)
    return world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                           if action_id in str(m.get("blocks"))], timeout=10)[-1]


def refused(world, user: str, fragment: str) -> str:
    """The ephemeral refusal the user got (waits for it)."""
    return world.slack.wait_for(lambda s: next((t for t in world.ephemeral_texts(user) if fragment in t), None),
                                timeout=5)


def failed_write(world, *, user: str = REQUESTER) -> int:
    """A request approved by APPROVER whose QuickBooks write was refused (6000): needs attention, resume approved."""
    world.qbo.faults.inject("6000", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    job_id = new_request(world, user=user, invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    job = world.wait_state(job_id, "needs_attention", timeout=15)
    assert job.resume_state == "approved" and bot_payments(world.qbo.ledger) == []
    return job_id


def test_undo_refused_to_the_requester_even_an_approver_and_to_a_non_approver(world, figures):
    job_id = new_request(world, user=APPROVER, invoice="10040", amount="10")  # an approver requests...
    world.approve(job_id, APPROVER_2)                                            # ...a colleague approves
    world.wait_state(job_id, "verified", timeout=15)
    button = thread_button(world, job_id, "job_undo")
    for user in (APPROVER, REQUESTER, OUTSIDER):
        world.driver.click(user, "job_undo", source=button)
    own = refused(world, APPROVER, "has to undo it")
    others = [refused(world, u, "Only approvers can undo") for u in (REQUESTER, OUTSIDER)]
    undos = [j for j in world.bot.store.all() if j.kind == "undo"]
    figs = ledger_figures(world, [job_id])
    figures.record(GROUP, "Undo by the original requester (an approver), by a non-approver, by an outsider",
                   times=3, outcome=f"3 refusals, {len(undos)} undo jobs, payment kept", **figs)
    assert "two people" in own and all(others)
    assert undos == [] and world.job(job_id).state == "verified"
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}


def test_retry_of_a_write_only_by_another_approver(world, figures):
    job_id = failed_write(world)
    button = thread_button(world, job_id, "job_retry")
    for user in (REQUESTER, OUTSIDER):
        world.driver.click(user, "job_retry", source=button)
    assert "Only approvers can retry" in refused(world, REQUESTER, "Only approvers can retry")
    assert refused(world, OUTSIDER, "Only approvers can retry")
    assert world.job(job_id).state == "needs_attention" and bot_payments(world.qbo.ledger) == []
    world.driver.click(APPROVER_2, "job_retry", source=button)
    world.wait_state(job_id, "verified", timeout=15)
    figs = ledger_figures(world, [job_id])
    figures.record(GROUP, "Retry of a refused write by the requester, an outsider, then another approver",
                   times=3, outcome="2 refusals; the approver's Retry wrote it once", **figs)
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}


def test_retry_by_an_approver_who_requested_it_is_refused(world, figures):
    job_id = failed_write(world, user=APPROVER_2)
    world.driver.click(APPROVER_2, "job_retry", source=thread_button(world, job_id, "job_retry"))
    text = refused(world, APPROVER_2, "a colleague has to retry it")
    figures.record(GROUP, "Retry of a refused write by its requester who is an approver", times=1, jobs=1,
                   payments=len(bot_payments(world.qbo.ledger)), duplicates=0, lost=0, outcome="refused")
    assert text and world.job(job_id).state == "needs_attention" and bot_payments(world.qbo.ledger) == []


def test_retry_after_the_approval_window_asks_for_a_fresh_approval_with_new_figures(make_world, clock, figures):
    world = make_world(overrides={"now": clock.now})
    job_id = failed_write(world)
    before = world.job(job_id)
    # Meanwhile the customer pays $30 of the invoice another way: the old approval's figures are stale.
    world.qbo.ledger.create_payment({
        "CustomerRef": {"value": "58"}, "TotalAmt": Decimal("30.00"), "TxnDate": "2026-11-26",
        "Line": [{"Amount": Decimal("30.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]})
    clock.advance(timedelta(hours=world.settings.approval_ttl_hours + 1).total_seconds())
    world.driver.click(APPROVER_2, "job_retry", source=thread_button(world, job_id, "job_retry"))
    job = world.wait_state(job_id, "awaiting_approval", timeout=10)
    event = next(e for e in world.bot.store.events(job_id) if e.kind == "reapproval_requested")
    assert bot_payments(world.qbo.ledger) == []  # the lapsed approval wrote nothing
    assert (before.invoice_balance_before, job.invoice_balance_before) == (Decimal("120.00"), Decimal("90.00"))
    assert job.approver_id is None and event.details["invoice_balance"] == "90.00"
    assert job.expires_at > before.expires_at
    world.slack.wait_for(lambda s: "approve" in str(world.parent(job_id).get("blocks")), timeout=10)
    world.approve(job_id, APPROVER)  # a fresh approval on the new figures
    world.wait_state(job_id, "verified", timeout=15)
    figs = ledger_figures(world, [job_id])
    figures.record(GROUP, f"Retry {world.settings.approval_ttl_hours + 1:g} h after the approval "
                          "(APPROVAL_TTL_HOURS passed)", times=1,
                   outcome="back to awaiting approval ($120.00 → $90.00 balance); written once after re-approval",
                   **figs)
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}
    assert world.invoice_balance("130") == Decimal("80.00")


def test_resync_only_requested_by_a_non_approver_works_and_writes_nothing(world, figures):
    reel_deal = lambda: [p for p in world.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "64"]  # noqa: E731
    view = world.open_picker("Reel Deal Charters", user=OUTSIDER)
    payments = reel_deal()
    world.driver.click(OUTSIDER, "resync_only", source=view)
    job = world.slack.wait_for(lambda s: world.bot.store.all() and world.bot.store.all()[0], timeout=10)
    job = world.wait_state(job.id, "verified", timeout=15)
    figures.record(GROUP, "Resync only requested by a non-approver (writes nothing to QuickBooks)", times=1,
                   jobs=1, payments=len(bot_payments(world.qbo.ledger)), duplicates=0, lost=0,
                   outcome=f"{job.kind} {job.state}, no approval needed")
    assert (job.kind, job.requester_id) == ("resync_only", OUTSIDER)
    assert reel_deal() == payments and bot_payments(world.qbo.ledger) == []


def test_sweep_proposed_by_a_non_approver_is_refused(world, figures):
    answers = [world.driver.command(user, CHANNEL, "sweep").json() for user in (REQUESTER, OUTSIDER)]
    batches = world.bot.service.sweeps.batches.in_states(["planning", "awaiting_approval", "cancelled"])
    figures.record(GROUP, "/applycredit sweep by a requester and by an outsider", times=2, jobs=0, payments=0,
                   duplicates=0, lost=0, outcome=f"2 refusals, {len(batches)} sweeps, nothing read")
    assert all("Only approvers can propose a sweep" in a["text"] for a in answers)
    assert batches == [] and world.cb.requests == []  # refused before anything was read


def test_sweep_approved_by_its_proposer_is_refused(world, figures):
    from tests.scenarios.sweeps import batch, propose

    message = propose(world, user=APPROVER_2)
    world.driver.click(APPROVER_2, "sweep_approve", source=message)
    text = refused(world, APPROVER_2, "a colleague has to approve it")
    figures.record(GROUP, "a sweep approved by the approver who proposed it", times=1, jobs=0,
                   payments=len(bot_payments(world.qbo.ledger)), duplicates=0, lost=0, outcome="refused")
    assert text and batch(world).state == "awaiting_approval" and bot_payments(world.qbo.ledger) == []


def test_twenty_concurrent_sweeps_and_an_approve_click(world, figures):
    job_id = new_request(world, invoice="10040", amount="10")
    parent = world.parent(job_id)

    def timed(call):
        start = time.monotonic()
        resp = call()
        return time.monotonic() - start, resp

    sweeps = [lambda u=u: timed(lambda: world.driver.command(u, CHANNEL, "sweep"))
              for u in [APPROVER, APPROVER_2] * 10]
    click = lambda: timed(lambda: world.driver.click(APPROVER, "approve", source=parent))  # noqa: E731
    results = at_once([*sweeps, click])
    click_seconds, click_resp = results[-1]
    texts = [r.json()["text"] for _, r in results[:-1]]
    busy = [t for t in texts if t.startswith("Sweep #") and "one sweep at a time" in t]
    world.wait_state(job_id, "verified", timeout=20)
    figs = ledger_figures(world, [job_id])
    slowest = max(s for s, _ in results[:-1])
    figures.record(GROUP, "20 concurrent /applycredit sweep + 1 Approve click", times=21,
                   outcome=f"click acked in {click_seconds:.2f} s; 1 sweep planning, {len(busy)} answered at once "
                           f"(slowest {slowest:.2f} s)", **figs)
    assert click_resp.status == 200 and click_seconds < 1.0
    assert len(busy) == 19 and sum("Planning the sweep" in t for t in texts) == 1
    assert slowest < 1.0
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}
    assert len(world.bot.service.sweeps.batches.in_states(["planning", "awaiting_approval"])) <= 1


def test_retry_of_an_unknown_outcome_after_the_approval_window_looks_then_asks_again(make_world, clock, figures):
    world = make_world(overrides={"now": clock.now})
    world.qbo.faults.inject("503", times=20, match=lambda m, p: m == "POST" and p.endswith("/payment"))
    job_id = new_request(world, invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    job = world.wait_state(job_id, "needs_attention", timeout=15)
    assert job.resume_state == "applying_in_quickbooks"  # the outcome of the write is unknown
    world.qbo.faults.clear()
    clock.advance(timedelta(hours=world.settings.approval_ttl_hours + 1).total_seconds())
    world.driver.click(APPROVER_2, "job_retry", source=thread_button(world, job_id, "job_retry"))
    world.wait_state(job_id, "awaiting_approval", timeout=10)  # looked for the write, found none: ask again
    figures.record(GROUP, "Retry of an unknown-outcome write after APPROVAL_TTL_HOURS", times=1, jobs=1,
                   payments=len(bot_payments(world.qbo.ledger)), duplicates=0, lost=0,
                   outcome="looked, found nothing, back for approval")
    assert bot_payments(world.qbo.ledger) == []
