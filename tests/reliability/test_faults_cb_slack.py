"""ConnectBooster and Slack misbehaving: 5xx, timeouts, failed / stuck / already-running syncs, rate limits."""
from __future__ import annotations

import pytest

from sandbox.cb_sync import SyncTiming
from tests.reliability.harness import assert_clean_thread, ledger_figures, retry_until
from tests.scenarios.world import APPROVER, NOTIFY


def start(world, arm=None) -> int:
    job_id = world.request(invoice="10040", amount="10")
    if arm is not None:
        arm()
    world.approve(job_id, APPROVER)
    return job_id


def bot_resyncs(world) -> list[dict]:
    return world.cb.snapshot()["entity_resyncs"]


def done(world, figures, group, injected, times, job_id) -> int:
    clicks = retry_until(world, job_id, attempts=8)
    figs = ledger_figures(world, [job_id])
    figures.record(group, injected, times=times, outcome=f"verified after {clicks} Retry/Sync again", **figs)
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}
    return clicks


def test_5xx_storm_on_every_connectbooster_call(world, figures):
    arm = lambda: [world.cb.faults.inject(k, times=3, match=lambda m, p: not p.startswith("/_"))  # noqa: E731
                   for k in ("500", "503")]
    done(world, figures, "ConnectBooster faults", "500 ×3 then 503 ×3 on every call", 6, start(world, arm))
    assert len(bot_resyncs(world)) == 1


@pytest.mark.slow  # four answers past the 2 s client timeout: scheduled first (tests/conftest.py)
def test_resync_and_polls_answered_past_the_client_timeout(world, figures):
    def arm():
        world.cb.faults.inject("slow", times=2, seconds=2.3, match=lambda m, p: m == "POST" and "/resync" in p)
        world.cb.faults.inject("slow", times=2, seconds=2.3, match=lambda m, p: m == "GET" and p.startswith("/syncs/"))

    done(world, figures, "ConnectBooster faults", "resync POST and sync polls 2.3 s late (timeout 2 s)", 4,
         start(world, arm))
    assert len(bot_resyncs(world)) == 1  # the repeated POST carried the same Idempotency-Key


def test_sync_fails_twice_then_sync_again_finishes(world, figures):
    arm = lambda: world.cb.faults.inject("fail_sync", times=2)  # noqa: E731
    clicks = done(world, figures, "ConnectBooster faults", "integration sync failed, twice", 2, start(world, arm))
    assert clicks == 2
    # One alert per failed sync; once the job is verified each is updated in place to say so (they are read once
    # those updates have gone out: a count taken at once could find one already reworded and one not yet).
    alerts = world.slack.wait_for(lambda s: (found := [m for m in s.messages(NOTIFY) if "attention" in m.get("text", "")])
                                  and all("*Resolved*" in m["text"] for m in found) and found, timeout=10)
    assert len(alerts) == 2 and all("It had needed attention" in m["text"] for m in alerts)


def test_sync_stuck_in_pending_alerts(make_world, figures):
    world = make_world(settings={"sync_timeout_seconds": 1.0})
    job_id = start(world, lambda: world.cb.faults.inject("stuck_pending"))
    job = world.wait_state(job_id, "needs_attention", timeout=10)
    assert "longer than" in job.error
    alert = world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "needs attention" in m.get("text", "")])
    figs = ledger_figures(world, [job_id])
    figures.record("ConnectBooster faults", "sync stuck in pending past SYNC_TIMEOUT_SECONDS", times=1,
                   outcome="needs attention + alert (payment kept)", **{**figs, "lost": 0})
    assert len(alert) == 1 and figs["payments"] == 1


def test_a_stuck_sync_that_gets_going_after_all_is_verified_without_a_click(make_world):
    world = make_world(settings={"sync_timeout_seconds": 1.0})
    job_id = start(world, lambda: world.cb.faults.inject("stuck_pending"))
    world.wait_state(job_id, "needs_attention", timeout=10)
    now = world.cb.clock()
    for run in world.cb.engine.runs.values():  # ConnectBooster gets the stuck run going again: done in 0.5 s
        for i, stage in enumerate(run.stages):
            if stage.start == float("inf"):
                stage.start, stage.end = now + 0.3 + 0.1 * i, now + 0.4 + 0.1 * i
    world.wait_state(job_id, "verified", timeout=15)  # the bot kept watching the run
    assert world.wait_thread(job_id, "finished after all")
    assert len(world.payments_on("130")) == 1


def test_scheduled_sync_running_409_then_it_fails(make_world, figures):
    world = make_world(timing=SyncTiming(to_active=0.3, psa_seconds=0.6, accounting_seconds=0.6, resync_seconds=0.05))
    job_id = world.request(invoice="10040", amount="10")
    world.cb.faults.inject("fail_sync")  # the scheduled run picks it up
    world.cb.start_scheduled_sync()
    world.approve(job_id, APPROVER)
    world.wait_thread(job_id, "joined the sync that was already running")
    clicks = done(world, figures, "ConnectBooster faults", "409: a scheduled sync was running, and it failed", 1,
                  job_id)
    assert clicks == 1
    statuses = [r["status"] for r in world.cb.requests if r["method"] == "POST" and r["path"].endswith("/syncs")]
    assert statuses[0] == 409 and statuses.count(202) == 1


def test_slack_down_never_blocks_the_job_and_every_reply_arrives_once(world, figures):
    job_id = world.request(invoice="10040", amount="10")
    world.slack.faults.inject("ratelimited", "chat.postMessage", times=None, retry_after=1)
    world.slack.faults.inject("500", "chat.update", times=None)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)  # the whole job ran while Slack refused everything
    assert world.thread(job_id) == []
    refused = len(world.slack.calls_to("chat.postMessage")) + len(world.slack.calls_to("chat.update"))
    world.slack.faults.clear()
    texts = world.slack.wait_for(lambda s: (t := world.thread(job_id)) and any("Verified:" in x for x in t) and t,
                                  timeout=20)
    assert_clean_thread(texts)
    # chat.update catches up too (after its own back-off): the parent loses its Approve button
    world.slack.wait_for(lambda s: "'approve'" not in str(world.parent(job_id).get("blocks")), timeout=20)
    notices = world.slack.wait_for(lambda s: s.messages(NOTIFY), timeout=10)
    figs = ledger_figures(world, [job_id])
    figures.record("Slack faults", "ratelimited (Retry-After 1) on every reply, 500 on every chat.update",
                   times=refused, outcome=f"{len(texts)} replies, each once, after Slack recovered", **figs)
    assert len(notices) == 1 and figs["payments"] == 1
