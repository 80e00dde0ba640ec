"""Every path that reaches a QuickBooks write, as a test drives it (tests/reliability/test_write_gate.py).

Each path brings a job to the instant before it reaches the write and returns (job id, go): `go()` is what takes
it there (a Retry click, a restart of the bot, an approval, an undo click). Between the two the test lets time
pass and changes the books or not. A restart is what a kill leaves: the job's stored state is the write (or its
check) and a new bot resumes it, with no memory of a check.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from data.states import JobState
from tests.reliability.harness import new_request
from tests.scenarios.sweeps import propose, wait_finished
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL
from workflow.machine import move


def POST_PAYMENT(method: str, path: str) -> bool:  # noqa: N802 (a matcher, named like the request it matches)
    return method == "POST" and path.endswith("/payment")


@dataclass(frozen=True)
class Path:
    name: str
    undo: bool          # an undo's write (a delete / line removal) rather than an application
    invoice: str        # the QuickBooks invoice the write is about
    lapses: bool        # False: the path cannot meet a lapsed approval (it runs at once)
    setup: Callable      # world -> (job id, go)


def customer_pays(world, invoice_id: str, amount: str) -> None:
    """The customer pays part of the invoice another way: the books changed since the approval."""
    world.qbo.ledger.create_payment({
        "CustomerRef": {"value": "58"}, "TotalAmt": Decimal(amount), "TxnDate": "2026-11-26",
        "Line": [{"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]})


def thread_retry(world, job_id: int, user: str = APPROVER_2) -> Callable[[], object]:
    """Click the Retry in the job's thread (an approver other than its requester)."""
    job = world.job(job_id)
    reply = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                            if "job_retry" in str(m.get("blocks"))], timeout=10)[-1]
    return lambda: world.driver.click(user, "job_retry", source=reply)


def restart_in(world, job_id: int, state: JobState) -> Callable[[], object]:
    """What a kill in `state` leaves: the job stored there; a new bot resumes it."""
    def go():
        job = world.job(job_id)
        assert move(world.bot.store, job, state, details={"test": "stored as a kill leaves it"}) is not None
        world.restart()
    return go


def failed_write(world, fault: str, times: int = 1) -> int:
    world.qbo.faults.inject(fault, times=times, match=POST_PAYMENT)
    job_id = new_request(world, invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=15)
    return job_id


def first_run(world):
    job_id = new_request(world, invoice="10040", amount="10")
    return job_id, lambda: world.approve(job_id, APPROVER)


def retry_refused(world):
    job_id = failed_write(world, "6000")  # refused: nothing recorded, Retry resumes at the check
    assert world.job(job_id).resume_state == JobState.APPROVED
    return job_id, thread_retry(world, job_id)


def retry_unknown(world):
    job_id = failed_write(world, "503", times=3)  # no answer: the write may have happened, Retry resumes at it
    assert world.job(job_id).resume_state == JobState.APPLYING
    return job_id, thread_retry(world, job_id)


def restart_approved(world):
    job_id = failed_write(world, "6000")
    return job_id, restart_in(world, job_id, JobState.APPROVED)


def restart_applying(world):
    job_id = failed_write(world, "503", times=3)
    return job_id, restart_in(world, job_id, JobState.APPLYING)


def sweep_item(world) -> int:
    """A sweep whose item for invoice 120 (Atomar's) got no answer from QuickBooks: it needs attention."""
    world.qbo.faults.inject("503", times=3, match=lambda m, p: POST_PAYMENT(m, p) and _writing(world) == "120")
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    item = next(j for j in world.bot.store.in_batch(1) if j.invoice_qbo_id == "120")
    assert item.state == JobState.NEEDS_ATTENTION and item.resume_state == JobState.APPLYING
    return item.id


def _writing(world) -> str | None:
    jobs = [j for j in world.bot.store.in_batch(1) if j.state == JobState.APPLYING]
    return jobs[0].invoice_qbo_id if jobs else None


def sweep_retry(world):
    item = sweep_item(world)
    message = world.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if f"Retry #{item}" in str(m)],
                                   timeout=10)[-1]
    return item, lambda: world.driver.click(APPROVER, "job_retry", source=message)  # APPROVER_2 proposed it


def sweep_restart(world):
    item = sweep_item(world)
    return item, restart_in(world, item, JobState.APPLYING)


def verified(world) -> int:
    job_id = new_request(world, invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    return job_id


def undo_button(world, job_id: int) -> dict:
    job = world.job(job_id)
    return world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                           if "job_undo" in str(m.get("blocks"))], timeout=10)[-1]


def undo_first(world):
    job_id = verified(world)
    button = undo_button(world, job_id)
    return None, lambda: world.driver.click(APPROVER_2, "job_undo", source=button)


def failed_undo(world, fault: str, match) -> int:
    job_id = verified(world)
    world.qbo.faults.inject(fault, times=3, match=match)
    world.driver.click(APPROVER_2, "job_undo", source=undo_button(world, job_id))
    undo = world.slack.wait_for(lambda s: [j for j in world.bot.store.all() if j.undo_of == job_id], timeout=10)[0]
    return world.wait_state(undo.id, "needs_attention", timeout=15).id


def undo_retry_reverse(world):
    undo = failed_undo(world, "503", POST_PAYMENT)  # the delete got no answer: Retry resumes at the delete
    assert world.job(undo).resume_state == JobState.UNDOING
    return undo, thread_retry(world, undo, APPROVER)  # the undo was asked by APPROVER_2


def undo_retry_check(world):
    undo = failed_undo(world, "503", lambda m, p: m == "GET" and p.endswith("/invoice/130"))
    assert world.job(undo).resume_state == JobState.APPROVED
    return undo, thread_retry(world, undo, APPROVER)


def undo_restart(world):
    undo = failed_undo(world, "503", POST_PAYMENT)
    return undo, restart_in(world, undo, JobState.UNDOING)


PATHS = [
    Path("request, first run", False, "130", False, first_run),
    Path("request, Retry of a refused write (resumes at the check)", False, "130", True, retry_refused),
    Path("request, Retry of an unanswered write (resumes at the write)", False, "130", True, retry_unknown),
    Path("request, restart at the check", False, "130", True, restart_approved),
    Path("request, restart at the write", False, "130", True, restart_applying),
    Path("sweep item, Retry of an unanswered write", False, "120", True, sweep_retry),
    Path("sweep item, restart at the write", False, "120", True, sweep_restart),
    Path("undo, first run", True, "130", False, undo_first),
    Path("undo, Retry of an unanswered delete (resumes at the delete)", True, "130", True, undo_retry_reverse),
    Path("undo, Retry of a failed check", True, "130", True, undo_retry_check),
    Path("undo, restart at the delete", True, "130", True, undo_restart),
]
