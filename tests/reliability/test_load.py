"""Load: 50 clicks on one Approve, 20 clients approved at once, two people requesting the same credit at once."""
from __future__ import annotations

import pytest

from sandbox.cb_sync import SyncTiming
from sandbox.extra_clients import add_clients, client_ids
from tests.reliability.harness import at_once, ledger_figures, new_request, payments_per_job, wait_all
from tests.scenarios.world import APPROVER, APPROVER_2, OUTSIDER, REQUESTER

pytestmark = pytest.mark.slow  # 20-50 concurrent clients: scheduled first (tests/conftest.py)

NAMES = [f"Client R{n:02d}" for n in range(1, 21)]


def test_fifty_concurrent_approve_clicks(world, figures):
    job_id = new_request(world, invoice="10040", amount="10")
    parent = world.parent(job_id)
    users = [APPROVER, APPROVER_2] * 25
    responses = at_once([lambda u=u: world.driver.click(u, "approve", source=parent) for u in users])
    assert all(r.status == 200 for r in responses)
    world.wait_state(job_id, "verified", timeout=20)
    refusals = world.slack.wait_for(lambda s: (n := len(s.ephemerals(APPROVER)) + len(s.ephemerals(APPROVER_2)))
                                     >= 49 and n, timeout=10)
    texts = world.wait_thread(job_id, "Verified:")
    figs = ledger_figures(world, [job_id])
    figures.record("Load", "50 concurrent Approve clicks on one request", times=50,
                   outcome=f"1 approval, {refusals} refusals", **figs)
    assert refusals == 49
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}
    assert sum("Approved by" in t for t in texts) == 1


def test_twenty_clients_approved_at_once_share_syncs_and_one_token_refresh(make_world, figures):
    world = make_world(prepare=add_clients(NAMES), overrides={"workers": 4},
                        timing=SyncTiming(to_active=0.2, psa_seconds=0.8, accounting_seconds=0.8, resync_seconds=0.05))
    jobs = [new_request(world, name, invoice=client_ids(n)["invoice_number"], amount="10")
            for n, name in enumerate(NAMES)]
    world.qbo.expire_access_tokens()  # every job's first QuickBooks call needs a refresh: one must serve all
    mark = len(world.qbo.token_requests)
    at_once([lambda j=j: world.approve(j, APPROVER) for j in jobs])
    wait_all(lambda: all(world.job(j).state in ("verified", "needs_attention") for j in jobs), timeout=60)
    per_job = payments_per_job(world.qbo.ledger)
    refreshes = [r for r in world.qbo.token_requests[mark:] if r["grant_type"] == "refresh_token"]
    started = [r for r in world.cb.requests if r["method"] == "POST" and r["path"].endswith("/syncs")
               and r["status"] == 202]
    sync_ids = {world.job(j).sync_id for j in jobs}
    figs = ledger_figures(world, jobs)
    figures.record("Load", "20 clients approved at once (expired access token)", times=20,
                   outcome=f"{len(started)} syncs started for 20 jobs; {len(refreshes)} token refresh", **figs)
    assert figs == {"jobs": 20, "payments": 20, "duplicates": 0, "lost": 0}
    assert set(per_job) == set(jobs)
    assert len(refreshes) == 1
    # Jobs finishing their resync while a run is open join it: far fewer runs than jobs, never two at once.
    assert len(started) == len(sync_ids) <= 8
    assert max(sum(1 for j in jobs if world.job(j).sync_id == s) for s in sync_ids) >= 3


def test_two_people_request_the_same_credit_at_once(world, figures):
    views = {}
    for user in (REQUESTER, OUTSIDER):
        views[user] = world.open_picker("Atomar's Best Tackle", user=user)
    answers = at_once([lambda u=u: world.submit(views[u], user=u, invoice="10040", amount="10").json()
                       for u in (REQUESTER, OUTSIDER)])
    kinds = sorted(a["response_action"] for a in answers)
    refusal = next(a for a in answers if a["response_action"] == "errors")["errors"]["credit"]
    assert kinds == ["errors", "update"] and "can't be spent twice" in refusal
    job = world.bot.store.all()[0]
    world.approve(job.id, APPROVER)
    world.wait_state(job.id, "verified", timeout=15)
    figs = ledger_figures(world, [job.id])
    figures.record("Load", "two requests for the same credit, submitted at the same instant", times=2,
                   outcome="1 request, 1 refusal", **figs)
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0} and len(world.bot.store.all()) == 1
