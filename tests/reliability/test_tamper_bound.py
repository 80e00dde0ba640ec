"""A button binds to its message: the job in a Retry's or an Undo's value must be the job whose thread (or sweep
message) holds it. Before, the clicker's rights were checked on the job the value named, wherever it was clicked."""
from __future__ import annotations

import pytest

from tests.reliability.harness import bot_payments, new_request
from tests.reliability.test_tamper import OMALLEY, ephemeral_after
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL


def _reply_with(world, job_id: int, action: str) -> dict:
    parent = world.job(job_id).parent_ts
    return world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, parent) if action in str(m.get("blocks"))],
                                timeout=15)[-1]


def _verified(world, **choices) -> int:
    job_id = new_request(world, **choices)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    return job_id


def _needing_a_sync(world) -> int:
    world.cb.faults.inject("fail_sync")  # stops after the write: Sync again is offered in its thread
    job_id = new_request(world, OMALLEY, invoice="10061", amount="15")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=15)
    return job_id


@pytest.mark.parametrize("action", ["job_undo", "job_retry"])
def test_a_thread_button_naming_another_request_is_refused(world, figures, action):
    here = _verified(world, invoice="10040", amount="10")
    other = _verified(world, text=OMALLEY, invoice="10061", amount="15") if action == "job_undo" \
        else _needing_a_sync(world)
    before_other = world.job(other)
    source = _reply_with(world, here, "job_undo")  # a button in this request's thread...
    seen = len(world.slack.ephemerals(APPROVER_2))
    world.driver.click(APPROVER_2, action, value=str(other), source=source, element_type="button")  # ...naming other
    refusal = ephemeral_after(world, APPROVER_2, seen)
    after_other = world.job(other)
    undos = [j for j in world.bot.store.all() if j.undo_of]
    figures.record("hostile: tampered clicks", f"{'Undo' if action == 'job_undo' else 'Retry'} in one request's "
                   "thread, its value naming another request", times=1, jobs=2,
                   payments=len(bot_payments(world.qbo.ledger)), duplicates=0, lost=0, outcome=refusal[:60])
    assert "does not belong to that request" in refusal
    assert (after_other.state, after_other.updated_at) == (before_other.state, before_other.updated_at)
    assert undos == [] and len(bot_payments(world.qbo.ledger)) == 2
