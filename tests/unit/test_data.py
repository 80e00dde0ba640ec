"""The database: private file, WAL, idempotent migrations, append-only events, guarded transitions."""
import os
import sqlite3
import threading
from decimal import Decimal

import pytest

from data.db import Connections, migrate, open_db
from data.jobs import CreditBusy, JobStore

JOB = dict(kind="apply", state="awaiting_approval", requester_id="U1", channel_id="C1", client_name="A",
           qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id="150", invoice_qbo_id="130",
           invoice_number="10040", amount=Decimal("10.00"), currency="USD")


def test_file_is_private_and_wal(tmp_path):
    path = str(tmp_path / "sub" / "a.db")
    db = open_db(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_are_safe_to_run_twice(tmp_path):
    db = open_db(str(tmp_path / "a.db"))
    assert migrate(db) == []
    assert {"jobs", "events", "oauth_tokens", "outbox", "drafts"} <= set(db.table_names())


def test_events_are_append_only(tmp_path):
    store = JobStore(Connections(str(tmp_path / "a.db")).get)
    job = store.create(actor="U1", **JOB)
    db = Connections(str(tmp_path / "a.db")).get()
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE events SET actor = 'x' WHERE job_id = ?", [job.id])
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM events")


def test_one_open_job_per_credit_and_it_frees_when_terminal(tmp_path):
    store = JobStore(Connections(str(tmp_path / "a.db")).get)
    first = store.create(actor="U1", **JOB)
    with pytest.raises(CreditBusy) as busy:
        store.create(actor="U2", **JOB)
    assert busy.value.job.id == first.id
    store.transition(first.id, from_states=["awaiting_approval"], to_state="rejected", actor="U3")
    assert store.create(actor="U2", **JOB).id != first.id


def test_only_one_of_many_racing_transitions_wins(tmp_path):
    connections = Connections(str(tmp_path / "a.db"))
    store = JobStore(connections.get)
    job = store.create(actor="U1", **JOB)
    results = []
    barrier = threading.Barrier(16)

    def click(i):
        barrier.wait()
        results.append(store.transition(job.id, from_states=["awaiting_approval"], to_state="approved", actor=f"U{i}"))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([r for r in results if r is not None]) == 1
    assert [e.kind for e in store.events(job.id)].count("approved") == 1


def test_a_state_change_and_its_event_commit_together_or_not_at_all(tmp_path):
    """The connections autocommit each statement (isolation_level=None): without an explicit transaction a move
    would be visible before its event, and a failed event insert would leave the move without its audit line."""
    from data.events import EventKind

    connections = Connections(str(tmp_path / "a.db"))
    store = JobStore(connections.get)
    job = store.create(actor="U1", kind="apply", state="awaiting_approval", requester_id="U1", channel_id="C1",
                       client_name="A", qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id="150",
                       invoice_qbo_id="130", invoice_number="10040", amount="10.00", currency="USD")
    db = connections.get()
    db.execute("CREATE TRIGGER refuse_one AFTER INSERT ON events WHEN NEW.kind = 'approved' "
               "BEGIN SELECT RAISE(ABORT, 'no room for the event'); END")
    with pytest.raises(sqlite3.IntegrityError):
        store.transition(job.id, from_states=["awaiting_approval"], to_state="approved", actor="U2")
    assert store.get(job.id).state == "awaiting_approval"  # the move went with its event
    assert [e.kind for e in store.events(job.id)] == [EventKind.REQUESTED]
    db.execute("DROP TRIGGER refuse_one")
    assert store.transition(job.id, from_states=["awaiting_approval"], to_state="approved", actor="U2").state == "approved"
