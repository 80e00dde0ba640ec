"""Every QuickBooks write is re-checked whenever it runs: every path that reaches a write × {approval fresh,
lapsed} × {books unchanged, changed since}.

A lapsed application (approved longer ago than APPROVAL_TTL_HOURS) is asked again with today's figures and writes
nothing; a lapsed undo (past UNDO_WINDOW_HOURS) is refused; changed books stop the write (stale); otherwise the
write is made once. The paths are in tests/reliability/write_paths.py; one row per case goes to the figures.
"""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from data.states import JobState
from tests.reliability.harness import bot_payments
from tests.reliability.write_paths import PATHS, customer_pays
from tests.scenarios.world import APPROVER, CHANNEL

GROUP = "Every write re-checked (path × approval × books)"
CASES = [(p, lapsed, changed) for p in PATHS for lapsed in (False, True) for changed in (False, True)
         if p.lapses or not lapsed]


def _id(case) -> str:
    path, lapsed, changed = case
    return f"{path.setup.__name__}-{'lapsed' if lapsed else 'fresh'}-{'changed' if changed else 'unchanged'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_a_write_runs_only_on_a_standing_approval_and_unchanged_books(make_world, clock, figures, case):
    path, lapsed, changed = case
    clock.set(time.time())  # the store stamps completions from the real clock; the policy reads this one
    # One job step at a time: a sweep's fault then picks the item writing to invoice 120 exactly.
    world = make_world(overrides={"now": clock.now, "workers": 1})
    job_id, go = path.setup(world)
    before = len(bot_payments(world.qbo.ledger))
    if lapsed:
        hours = world.settings.undo_window_hours if path.undo else world.settings.approval_ttl_hours
        clock.advance((hours + 1) * 3600)
    if changed:
        customer_pays(world, path.invoice, "30.00")
    go()
    if job_id is None:  # the undo's first run: its job is made by the click
        job_id = world.slack.wait_for(lambda s: [j for j in world.bot.store.all() if j.undo_of], timeout=10)[0].id
    job = world.wait_state(job_id, *SETTLED, timeout=20)
    after = len(bot_payments(world.qbo.ledger))
    outcome = _outcome(world, path, job, lapsed, changed, before, after)
    figures.record(GROUP, f"{path.name}; approval {'lapsed' if lapsed else 'fresh'}; books "
                          f"{'changed' if changed else 'unchanged'}", times=1, jobs=1,
                   payments=max(after - before, 0), duplicates=0, lost=0, outcome=outcome)


# Where every case ends (a job still needing attention is a failure: the wait says so).
SETTLED = ("verified", "stale", "awaiting_approval", "failed")


def _outcome(world, path, job, lapsed: bool, changed: bool, before: int, after: int) -> str:
    """Assert what the case must do to the books and the job; returns the row's outcome."""
    balance = world.invoice_balance(path.invoice)
    if path.undo:
        original = world.job(job.undo_of)
        if lapsed or changed:
            assert job.state == JobState.STALE and after == before, (job.state, job.error)
            assert original.state == JobState.VERIFIED  # the application stands, nothing deleted
            why = world.bot.store.events(job.id)[-1].details["problems"]
            assert ("past the undo window" in why[0]) == lapsed, why
            return f"undo refused ({'past its window' if lapsed else 'invoice paid since'}); payment kept"
        assert job.state == JobState.VERIFIED and after == before - 1
        world.wait_state(original.id, "undone", timeout=10)
        return f"undone once; invoice back to {balance}"
    if lapsed:
        assert job.state == JobState.AWAITING_APPROVAL and after == before, (job.state, job.error)
        assert job.invoice_balance_before == balance and job.approver_id is None  # today's figures, no approver
        world.parent(job.id)  # its approval message is in the channel (a sweep item's: one of its own)
        assert world.job(job.id).channel_id == CHANNEL
        return f"asked again with today's figures (invoice {balance}); nothing written"
    if changed:
        assert job.state == JobState.STALE and after == before, (job.state, job.error)
        return "stopped before writing (the invoice changed); nothing written"
    assert job.state == JobState.VERIFIED and after == before + 1, (job.state, job.error)
    assert balance == job.invoice_balance_before - Decimal("10.00")
    return "written once"


def test_a_sweep_item_retried_a_month_later_is_approved_again_on_its_own_message(make_world, clock, figures):
    """The probe's case: three 503s on an item's write, a Retry 30 days later after the customer paid part of the
    invoice. Nothing is written on the old approval; the item asks again with today's figures in a message of its
    own, and a colleague's approval there writes it once."""
    clock.set(time.time())
    world = make_world(overrides={"now": clock.now, "workers": 1})
    item, retry = next(p for p in PATHS if p.setup.__name__ == "sweep_retry").setup(world)
    clock.advance(30 * 24 * 3600)
    customer_pays(world, "120", "30.00")
    retry()
    job = world.wait_state(item, "awaiting_approval", timeout=20)
    assert world.invoice_balance("120") == Decimal("55.00") == job.invoice_balance_before
    message = world.parent(item)
    assert "Awaiting approval" in str(message["blocks"]) and job.batch_id == 1
    assert any("nothing was written" in t and "sweep #1" in t for t in world.wait_thread(item, "fresh approval"))
    clock.set(time.time())  # back to the emulators' today: ConnectBooster refuses a sync starting in the future
    world.driver.click(APPROVER, "approve", source=message)  # the sweep's proposer (APPROVER_2) may not
    world.wait_state(item, "verified", timeout=20)
    assert world.invoice_balance("120") == Decimal("45.00")
    ours = [p for p in bot_payments(world.qbo.ledger) if f"applycredit job {item} " in p["PrivateNote"]]
    figures.record(GROUP, "sweep item Retry 30 days later, invoice paid in part meanwhile", times=1, jobs=1,
                   payments=len(ours), duplicates=max(len(ours) - 1, 0), lost=0,
                   outcome="asked again on its own message (balance 85.00 → 55.00); written once after approval")
    assert len(ours) == 1
