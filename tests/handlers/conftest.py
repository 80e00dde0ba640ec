"""Listener tests: the real Bolt app, driven in-process (signed requests into `app.dispatch(BoltRequest(...))`),
its WebClient recorded by the fake Slack on loopback, QuickBooks and ConnectBooster emulated.

Fixtures here: `told` (a click and the one ephemeral it earned), `unchanged` (what a refusal must leave alone),
`applied` (a job carried to verified), `in_attention` (a job stopped in needs_attention, with its Retry reply).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER

USERS = (REQUESTER, APPROVER, APPROVER_2, OUTSIDER)


@dataclass(frozen=True)
class Seen:
    """What a user or the books would notice about one job."""

    state: str
    parent: list
    replies: list[str]
    payments: int
    jobs: int
    ephemerals: int


def seen(world, job_id: int) -> Seen:
    # Messages reach Slack through the outbox, after the state change: compare only once the runner has
    # published (it is idle) and the outbox is drained.
    assert world.bot.runner.wait_idle(10)
    world.slack.wait_for(lambda s: not world.bot.connections.get().execute(
        "SELECT 1 FROM outbox WHERE state IN ('pending', 'sending') LIMIT 1").fetchone())
    job = world.job(job_id)
    return Seen(state=str(job.state), parent=world.parent(job_id)["blocks"], replies=world.thread(job_id),
                payments=len(world.qbo.ledger.list("Payment")), jobs=len(world.bot.store.all()),
                ephemerals=sum(len(world.slack.ephemerals(u)) for u in USERS))


@pytest.fixture
def unchanged() -> Callable:
    """`with unchanged(world, job_id): ...` asserts the job, its messages and the books are as before
    (the only trace a refusal leaves is the ephemeral to the clicker and an audit event)."""
    class Check:
        def __init__(self, world, job_id: int) -> None:
            self.world, self.job_id = world, job_id

        def __enter__(self) -> Check:
            self.before = seen(self.world, self.job_id)
            return self

        def __exit__(self, *exc) -> None:
            if exc[0] is None:
                after = seen(self.world, self.job_id)
                assert (after.state, after.parent, after.replies, after.payments, after.jobs) == \
                       (self.before.state, self.before.parent, self.before.replies, self.before.payments,
                        self.before.jobs)
                assert after.ephemerals == self.before.ephemerals + 1  # exactly one answer, to the clicker

    return Check


@pytest.fixture
def told() -> Callable:
    """`told(world, user, do)` runs `do()` (a click), asserts Slack got 200 and returns the new ephemeral."""
    def run(world, user: str, do: Callable) -> dict:
        before = len(world.slack.ephemerals(user))
        resp = do()
        assert resp.status == 200, resp.text
        return world.slack.wait_for(lambda s: len(s.ephemerals(user)) > before and s.ephemerals(user)[-1])

    return run


@pytest.fixture
def applied() -> Callable:
    """A request approved by APPROVER and carried to verified; returns the job id."""
    def run(world, **choices) -> int:
        job_id = world.request(**{"invoice": "10040", "amount": "10", **choices})
        world.approve(job_id, APPROVER)
        world.wait_state(job_id, "verified", timeout=15)
        return job_id

    return run


@pytest.fixture
def in_attention() -> Callable:
    """A request whose QuickBooks write was refused (closed books): (job id, the thread reply with Retry)."""
    def run(world, user: str = REQUESTER) -> tuple[int, dict]:
        job_id = world.request(invoice="10040", amount="10", user=user)
        world.qbo.ledger.close_books(through="2099-12-31")  # closed after the request: the picker would not offer it
        world.approve(job_id, APPROVER)
        world.wait_state(job_id, "needs_attention", timeout=15)
        parent_ts = world.job(job_id).parent_ts
        reply = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, parent_ts)
                                                if "job_retry" in str(m.get("blocks"))])[-1]
        return job_id, reply

    return run
