"""edge/fair.py: people served in turn, each within a share, identical requests run once, the person carried."""
from __future__ import annotations

import threading

import pytest

from edge.fair import PERSON, Busy, CarryingExecutor, FairExecutor, FairQueue


class Gate:
    """Tasks that start, say so, and wait until the test lets them finish."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = threading.Event()
        self._cond = threading.Condition()

    def task(self, name: str):
        def run() -> str:
            with self._cond:
                self.started.append(name)
                self._cond.notify_all()
            assert self.release.wait(10)
            return name
        return run

    def wait_started(self, *names: str) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: set(names) <= set(self.started), 10), self.started


@pytest.fixture
def gate():
    g = Gate()
    yield g
    g.release.set()


def test_a_colleague_is_served_before_one_persons_backlog(gate):
    q = FairQueue(workers=2, per_person=1, pending=10)
    for i in range(6):
        q.submit("U_FLOOD", "inbox", gate.task(f"flood{i}"))
    colleague = q.submit("U_COLLEAGUE", "lookup", gate.task("colleague"))
    gate.wait_started("flood0", "colleague")  # the second worker went to the colleague, not to flood1
    assert gate.started == ["flood0", "colleague"] and q.waiting("U_FLOOD") == 5
    gate.release.set()
    assert colleague.result(10) == "colleague"
    q.shutdown(wait=True, cancel_futures=False)
    assert sorted(gate.started) == sorted([f"flood{i}" for i in range(6)] + ["colleague"])


def test_kinds_take_turns_within_a_person(gate):
    q = FairQueue(workers=1, per_person=1, pending=10)
    q.submit("U1", "hold", gate.task("hold"))
    gate.wait_started("hold")
    for i in range(3):
        q.submit("U1", "inbox", gate.task(f"inbox{i}"))
    q.submit("U1", "lookup", gate.task("lookup0"))
    gate.release.set()
    q.shutdown(wait=True, cancel_futures=False)
    assert gate.started[:3] == ["hold", "inbox0", "lookup0"]  # the lookup did not wait for every inbox page


def test_a_persons_share_is_bounded_and_over_it_they_are_told_to_wait(gate):
    q = FairQueue(workers=1, per_person=1, pending=2)
    q.submit("U1", "lookup", gate.task("running"), key="a")
    gate.wait_started("running")
    q.submit("U1", "lookup", gate.task("b"), key="b")
    q.submit("U1", "lookup", gate.task("c"), key="c")
    assert not q.room("U1", "lookup") and q.room("U1", "inbox") and q.room("U2", "lookup")
    with pytest.raises(Busy):
        q.submit("U1", "lookup", gate.task("d"), key="d")
    q.submit("U2", "lookup", gate.task("other person"))  # someone else's share is their own


def test_the_newest_of_identical_requests_replaces_the_waiting_one(gate):
    q = FairQueue(workers=1, per_person=1, pending=2)
    q.submit("U1", "inbox", gate.task("first"), key="inbox")
    gate.wait_started("first")  # running: it is not replaced
    futures = [q.submit("U1", "inbox", gate.task(f"again{i}"), key="inbox") for i in range(40)]
    assert q.waiting("U1") == 1 and q.load("U1") == 2  # never Busy: each replaced the one before
    assert all(f.cancelled() for f in futures[:-1])
    gate.release.set()
    assert futures[-1].result(10) == "again39"
    q.shutdown(wait=True, cancel_futures=False)
    assert gate.started == ["first", "again39"]


def test_a_task_runs_as_its_person_and_its_fan_out_reads_are_queued_as_theirs():
    reads = FairExecutor(workers=2, per_person=1)
    q = FairQueue(workers=1)
    seen: dict[str, str] = {}

    def lookup() -> str:
        seen["task"] = PERSON.get()
        return reads.submit(PERSON.get).result(10)

    caller = PERSON.get()
    assert q.submit("U_ANNA", "lookup", lookup).result(10) == "U_ANNA" and seen["task"] == "U_ANNA"
    assert PERSON.get() == caller  # the caller's own context is untouched
    carrying = CarryingExecutor(max_workers=1)
    token = PERSON.set("U_BOB")
    try:
        assert carrying.submit(PERSON.get).result(10) == "U_BOB"  # Bolt's listener thread knows the person
    finally:
        PERSON.reset(token)
    for pool in (q, carrying):
        pool.shutdown(wait=True)
    reads.shutdown()


def test_an_exception_reaches_the_future_and_the_worker_goes_on():
    q = FairQueue(workers=1)

    def boom() -> None:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        q.submit("U1", "k", boom).result(10)
    assert q.submit("U1", "k", lambda: 42).result(10) == 42
    q.shutdown(wait=True)


def test_short_reads_use_idle_workers_yet_a_newcomer_is_next(gate):
    """Not strict (the read pool): alone, a person takes every worker; a newcomer's read goes before their next."""
    q = FairQueue(workers=2, per_person=1, pending=None, strict=False)
    for i in range(4):
        q.submit("U_FLOOD", "read", gate.task(f"flood{i}"))
    gate.wait_started("flood0", "flood1")  # both workers, beyond the share of 1: nobody else was waiting
    q.submit("U_COLLEAGUE", "read", gate.task("colleague"))
    gate.release.set()
    q.shutdown(wait=True, cancel_futures=False)
    assert "colleague" in gate.started[2:4]  # one of the next two: the flood's two waiting wait behind it
