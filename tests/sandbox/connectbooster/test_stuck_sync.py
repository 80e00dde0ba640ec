"""A stuck sync blocks every new one until it ends: cleared by an emulator control, or given up on after a while."""
from __future__ import annotations

import pytest
import requests

from sandbox.cb_api import ApiError
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from tests.sandbox.connectbooster.test_story import apply_in_qbo, open_credit_ids, start_sync


def control(cb, body: dict) -> requests.Response:
    return requests.post(cb.base_url + "/_emulator/end-stuck-sync", json=body, timeout=5)


def history(api) -> list[dict]:
    return api("GET", "/integrations/quickbooks_online/syncs").json()["data"]


def test_409_while_stuck_202_once_it_ended(api, cb, clock):
    cb.faults.inject("stuck_pending")
    stuck = start_sync(api).json()
    clock.advance(48 * 3600)
    refused = start_sync(api)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert refused.json()["error"]["details"] == {"existing_sync_id": stuck["id"], "status": "pending"}
    ended = cb.end_stuck_sync()
    assert (ended["id"], ended["status"]) == (stuck["id"], "failed")
    accepted = start_sync(api)
    assert accepted.status_code == 202 and accepted.json()["id"] == stuck["id"] + 1


def test_support_clears_a_run_stuck_in_pending(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    cb.faults.inject("stuck_pending")
    stuck = start_sync(api).json()
    clock.advance(3600)
    assert api("GET", f"/syncs/{stuck['id']}").json()["status"] == "pending"
    cb.end_stuck_sync(error="Cleared by ConnectBooster support (ticket 4471)")
    run = api("GET", f"/syncs/{stuck['id']}").json()
    assert (run["status"], run["error"]) == ("failed", "Cleared by ConnectBooster support (ticket 4471)")
    assert run["started_at"] is None and run["finished_at"] and [s["status"] for s in run["stages"]] == ["failed"] * 2
    assert [(r["id"], r["status"]) for r in history(api)] == [(stuck["id"], "failed"), (7001, "finished")]
    assert open_credit_ids(api, 501) == [11261]  # nothing was refreshed
    assert api("GET", "/integrations").json()["data"][0]["last_sync"]["status"] == "failed"


def test_a_run_stuck_active_ended_through_the_route(api, cb, clock):
    cb.faults.inject("stuck_active")
    stuck = start_sync(api).json()
    clock.advance(3600)
    run = api("GET", f"/syncs/{stuck['id']}").json()
    assert run["status"] == "active" and [s["status"] for s in run["stages"]] == ["finished", "active"]
    assert start_sync(api).json()["error"]["details"] == {"existing_sync_id": stuck["id"], "status": "active"}
    answer = control(cb, {})
    assert answer.status_code == 200 and answer.json()["status"] == "failed"
    assert "stuck in the QuickBooks Online stage" in answer.json()["error"]
    run = api("GET", f"/syncs/{stuck['id']}").json()
    assert [s["status"] for s in run["stages"]] == ["finished", "failed"] and run["started_at"]
    assert start_sync(api).status_code == 202


def test_connectbooster_gives_up_after_stuck_fail_after(ledger, clock):
    cb = ConnectBoosterEmulator(qbo=ledger, timing=SyncTiming.fast(), clock=clock, stuck_fail_after=48 * 3600)
    cb.faults.inject("stuck_pending")
    stuck = cb.start_scheduled_sync()
    assert cb.seconds_to_next_change() == 48 * 3600  # what the console's long poll waits for
    clock.advance(48 * 3600 - 1)
    with pytest.raises(ApiError) as refused:
        cb.begin_sync("quickbooks_online", "manual", cb.state.today(), "POST", "/x")
    assert refused.value.status == 409 and refused.value.details["existing_sync_id"] == stuck["id"]
    clock.advance(1)
    (run, _) = cb.snapshot()["syncs"]
    assert run["id"] == stuck["id"] and run["status"] == "failed"
    assert run["finished_at"] == "2026-11-28T18:00:00.000Z"  # requested 2026-11-26 18:00, given up 48 h later
    assert run["error"].startswith("Sync Not Running: the run was stuck in pending (it never started) for 48 h")
    fresh = cb.begin_sync("quickbooks_online", "manual", cb.state.today(), "POST", "/x")
    clock.advance(1)
    latest = cb.snapshot()["syncs"][0]
    assert (latest["id"], latest["status"]) == (fresh["id"], "finished")


def test_the_faults_own_seconds_override_and_an_active_run_gives_up_too(api, cb, clock):
    cb.faults.inject("stuck_active", seconds=5)
    stuck = start_sync(api).json()
    clock.advance(0.5)  # the PSA stage is over; the QuickBooks Online stage hangs
    cb.advance()
    assert cb.seconds_to_next_change() == pytest.approx(4.5)
    clock.advance(4.5)
    run = api("GET", f"/syncs/{stuck['id']}").json()
    assert run["status"] == "failed" and "stuck in the QuickBooks Online stage for 5 s" in run["error"]
    assert start_sync(api).status_code == 202


def test_a_stuck_run_that_gets_going_finishes_and_refreshes(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    cb.faults.inject("stuck_pending")
    stuck = start_sync(api, "2026-11-25").json()
    clock.advance(600)
    answer = control(cb, {"status": "finished", "sync_id": stuck["id"]})
    assert answer.status_code == 200 and answer.json()["status"] == "finished" and answer.json()["error"] is None
    assert open_credit_ids(api, 501) == []  # the accounting stage ran: the credit is applied
    assert [(r["id"], r["status"]) for r in history(api)][0] == (stuck["id"], "finished")


def test_refusals(api, cb, clock):
    nothing = control(cb, {})
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "conflict"
    assert control(cb, {"sync_id": 99}).status_code == 404
    assert control(cb, {"sync_id": 7001}).json()["error"]["details"] == {"sync_id": 7001, "status": "finished"}
    assert control(cb, {"sync_id": "7001"}).status_code == 422
    assert control(cb, {"status": "cancelled"}).json()["error"]["code"] == "validation_error"
    assert control(cb, {"integration_id": "xero"}).status_code == 404
    running = start_sync(api).json()  # not stuck: the person cancels it anyway
    assert control(cb, {"sync_id": running["id"]}).json()["status"] == "failed"
