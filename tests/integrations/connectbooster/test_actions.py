"""Resync and sync through the client: the help article's steps, waiting by an injected clock."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from integrations.connectbooster import ResyncFailedError
from integrations.errors import TransientError

from .helpers import apply_credit_in_qbo

TODAY = date(2026, 11, 26)


def test_resync_invoice_and_wait_after_applying_the_credit(client, cb, ledger, clock):
    apply_credit_in_qbo(ledger, customer="58", invoice="130", credit_memo="150", amount=Decimal("10.00"))
    assert client.get_invoice(invoice_id=9040).balance == Decimal("120.00")  # the lag

    started = client.start_resync(invoice_id=9040, idempotency_key="job-1-resync")
    started_as = (started.status, started.entity_type, started.entity_id, started.result)
    assert started_as == ("pending", "invoice", 9040, None)

    done = client.resync_invoice_and_wait(invoice_id=9040, idempotency_key="job-1-resync", poll=0.01,
                                          sleep=clock.sleep, clock=clock)
    assert done.id == started.id  # the same key rejoined the same resync
    assert done.status == "finished" and done.finished_at
    assert done.result == {"changed": True, "before": {"balance": Decimal("120.00")},
                           "after": {"balance": Decimal("110.00")}}
    inv = client.get_invoice(invoice_id=9040)
    assert (inv.balance, inv.total, inv.status) == (Decimal("110.00"), Decimal("120.00"), "partially_paid")
    assert [c.id for c in client.list_credits(org_id=501)] == [11261]  # a resync leaves credits alone
    assert len(cb.engine.resyncs) == 1


def test_resync_wait_times_out_as_transient(client, cb):
    ticks = iter(range(0, 1000, 5))  # the client's clock moves, the emulator's does not: never finishes
    with pytest.raises(TransientError) as caught:
        client.resync_invoice_and_wait(invoice_id=9040, idempotency_key="k-timeout", timeout=20, poll=5,
                                       sleep=lambda s: None, clock=lambda: next(ticks))
    assert caught.value.code == "timeout" and caught.value.details["status"] == "pending"


def test_failed_resync_raises(client, cb, clock):
    cb.faults.inject("fail_resync")
    with pytest.raises(ResyncFailedError) as caught:
        client.resync_invoice_and_wait(invoice_id=9040, idempotency_key="k-fail", poll=0.01,
                                       sleep=clock.sleep, clock=clock)
    assert caught.value.details["error"]


def test_start_sync_then_watch_it_finish(client, cb, ledger, clock):
    apply_credit_in_qbo(ledger, customer="58", invoice="130", credit_memo="150", amount=Decimal("10.00"))
    run = client.start_sync(sync_from=TODAY - timedelta(days=1), idempotency_key="job-1-sync")
    assert (run.status, run.trigger, run.sync_from, run.attached) == ("pending", "manual", "2026-11-25", False)
    assert [s.integration_id for s in run.stages] == ["autotask", "quickbooks_online"]

    seen = []
    while not run.done:
        clock.advance(0.03)
        run = client.get_sync(sync_id=run.id)
        stage_states = tuple(s.status for s in run.stages)
        if not seen or seen[-1] != (run.status, stage_states):
            seen.append((run.status, stage_states))
    assert seen == [("pending", ("pending", "pending")), ("active", ("active", "pending")),
                    ("active", ("finished", "active")),
                    ("finished", ("finished", "finished"))]
    assert run.error is None and run.finished_at
    assert run.counts == {"invoices": 3, "payments": 1, "credits": 2, "companies": 1}
    details = client.sync_details(sync_id=run.id)
    assert ("credit", 11261, "applied") in [(d.record_type, d.record_id, d.action) for d in details]
    assert ("invoice", 9040, "updated") in [(d.record_type, d.record_id, d.action) for d in details]
    assert client.list_credits(org_id=501) == []
    assert client.sync_history()[0].id == run.id  # newest first


def test_start_sync_attaches_to_a_scheduled_run(client, cb):
    scheduled = cb.start_scheduled_sync()
    run = client.start_sync(sync_from=TODAY, idempotency_key="job-2-sync")
    assert run.attached is True
    assert (run.id, run.trigger, run.sync_from) == (scheduled["id"], "scheduled", "2026-11-25")
    assert [r["status"] for r in cb.requests if r["path"].endswith("/syncs")] == [409]


def test_post_retried_after_a_5xx_with_the_same_key_acts_once(client, cb, retry):
    cb.faults.inject("500", match="/resync")
    cb.faults.inject("503", match="/syncs")
    resync = client.start_resync(invoice_id=9040, idempotency_key="job-3-resync")
    run = client.start_sync(sync_from=TODAY, idempotency_key="job-3-sync")
    assert len(cb.engine.resyncs) == 1 and resync.id in cb.engine.resyncs
    assert [r.id for r in cb.engine.runs.values() if r.trigger == "manual"] == [run.id]
    posts = [r["status"] for r in cb.requests if r["method"] == "POST"]
    assert posts == [500, 202, 503, 202]
    assert len(retry.waits) == 2


def test_post_retried_after_a_timeout_is_replayed_not_repeated(cb, session):
    """The first POST is acted on after the client gave up; the retry with the same key gets one resync."""
    import time

    from integrations.http import RetryPolicy

    from .helpers import make_client

    client = make_client(cb, session, RetryPolicy(attempts=3, sleep=lambda s: None), timeout=0.2)
    cb.faults.inject("slow", match="/resync", seconds=0.5)
    resync = client.start_resync(invoice_id=9040, idempotency_key="job-4-resync")
    time.sleep(0.5)  # let the slow first attempt finish on the server
    assert list(cb.engine.resyncs) == [resync.id]


def test_idempotent_replay_returns_the_original(client, cb, clock):
    first = client.start_resync(invoice_id=9040, idempotency_key="same")
    clock.advance(1)
    again = client.start_resync(invoice_id=9040, idempotency_key="same")
    assert again == first and again.status == "pending"  # the original answer, not the current state
    assert client.get_resync(resync_id=first.id).status == "finished"
    other = client.start_resync(invoice_id=9040, idempotency_key="different")
    assert other.id != first.id
