"""The table of moves (workflow/machine.py) is the only way a job or a sweep changes state.

Every pair of states is tried: a move the table holds happens (with its event, in one transaction), any other is
refused with IllegalMove and changes nothing. A source scan checks nothing else calls the stores' transitions.
"""
from __future__ import annotations

import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest

from data.batches import BatchStore
from data.db import Connections
from data.events import EventKind
from data.jobs import JobStore
from data.states import BatchState, JobKind, JobState
from workflow.machine import BATCH_MOVES, CREATED_IN, MOVES, IllegalMove, move, move_batch

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot.py", "handlers", "messages", "workflow", "data", "integrations")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    connections = Connections(str(tmp_path_factory.mktemp("moves") / "moves.db"))
    return JobStore(connections.get), BatchStore(connections.get)


def _job(store: JobStore, state: JobState, n: int):
    return store.create(actor="U1", kind=JobKind.APPLY, state=state, requester_id="U1", channel_id="C1",
                        client_name="A", qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id=f"c{n}",
                        invoice_qbo_id="130", invoice_number="10040", amount=Decimal("10.00"), currency="USD")


PAIRS = [(a, b) for a, b in itertools.permutations(JobState, 2)]


def test_every_pair_of_job_states_is_allowed_exactly_when_the_table_holds_it(stores):
    store, _ = stores
    refused = done = 0
    for n, (a, b) in enumerate(PAIRS):
        job = _job(store, a, n)
        before = len(store.events(job.id))
        if b in MOVES.get(a, {}):
            moved = move(store, job, b, details={"n": n})
            assert moved.state == b
            assert store.events(job.id)[-1].kind == EventKind.of_state(b)
            done += 1
            continue
        with pytest.raises(IllegalMove):
            move(store, job, b)
        assert store.get(job.id).state == a and len(store.events(job.id)) == before
        refused += 1
    assert done == sum(len(v) for v in MOVES.values()) and refused == len(PAIRS) - done


def test_a_move_from_a_state_the_job_has_left_is_lost_not_made(stores):
    """The guard: two clicks read the job in the same state; the second one's move finds it moved on."""
    store, _ = stores
    job = _job(store, JobState.AWAITING_APPROVAL, 10_000)
    assert move(store, job, JobState.APPROVED, actor="U2") is not None
    assert move(store, job, JobState.REJECTED, actor="U3") is None
    assert store.get(job.id).state == JobState.APPROVED


def test_every_pair_of_sweep_states_is_allowed_exactly_when_the_table_holds_it(stores):
    _, batches = stores
    for a, b in itertools.permutations(BatchState, 2):
        batch = batches.create(kind="sweep", requester_id="U1", channel_id="C1", plan=[], total=Decimal("0"),
                               expires_at=None, state=a)
        if b in BATCH_MOVES.get(a, {}):
            assert move_batch(batches, batch, b).state == b
        else:
            with pytest.raises(IllegalMove):
                move_batch(batches, batch, b)
            assert batches.get(batch.id).state == a
        batches.transition(batch.id, from_states=list(BatchState), to_state=BatchState.CANCELLED)  # free the slot


def test_every_state_is_reachable_or_a_starting_state():
    reachable = {b for targets in MOVES.values() for b in targets} | CREATED_IN
    assert reachable == set(JobState)


def test_every_state_names_the_event_of_a_move_into_it():
    assert all(EventKind.of_state(s) == s.value for s in JobState)


def test_nothing_but_the_machine_changes_a_state():
    """The stores' transitions are called from workflow/machine.py only (handlers never change a state)."""
    callers = []
    for path in itertools.chain.from_iterable((ROOT / p).rglob("*.py") if (ROOT / p).is_dir() else [ROOT / p]
                                              for p in PRODUCT):
        text = path.read_text()
        if re.search(r"\.transition\(|\bstore\.update\(|\bstores?\.update\(", text) and path.name not in (
                "machine.py", "jobs.py", "batches.py"):
            callers.append(str(path.relative_to(ROOT)))
    assert callers == []
