"""QuickBooks misbehaving: lost answers, 429 storms, 5xx, answers past the timeout, tokens expiring and rotating."""
from __future__ import annotations

import pytest

from sandbox.qbo_oauth import TokenError
from tests.reliability.harness import ledger_figures, new_request, retry_until
from tests.scenarios.world import APPROVER


def payment_post(m, p):
    return m == "POST" and p.endswith("/payment")


def run_job(world, arm=None, **request) -> int:
    """Request, arm the faults (so they hit the job, not the picker), approve."""
    job_id = new_request(world, **{"invoice": "10040", "amount": "10", **request})
    if arm is not None:
        arm()
    world.approve(job_id, APPROVER)
    return job_id


def finish(world, figures, job_id, injected, times, outcome_checks=True) -> int:
    clicks = retry_until(world, job_id)
    figs = ledger_figures(world, [job_id])
    figures.record("QuickBooks faults", injected, times=times, outcome=f"verified after {clicks} Retry", **figs)
    assert figs == {"jobs": 1, "payments": 1, "duplicates": 0, "lost": 0}
    assert world.invoice_balance("130") == 110
    return clicks


def test_answer_lost_after_commit_on_every_attempt_but_the_last(world, figures):
    world.qbo.faults.inject("drop_after_commit", times=2, match=payment_post)
    clicks = finish(world, figures, run_job(world), "write committed, answer lost (connection dropped)", 2)
    assert clicks == 0
    # The answer was lost after the commit: instead of sending the write again, the client looked for its own
    # marked write, found it, and went on; one POST, one payment.
    posts = [r for r in world.qbo.requests if payment_post(r["method"], r["path"])]
    assert len(posts) == 1 and posts[0].get("dropped")


def test_429_storm_on_every_quickbooks_call(world, figures):
    arm = lambda: world.qbo.faults.inject("429", times=8, match="/v3/")  # noqa: E731
    finish(world, figures, run_job(world, arm), "429 storm on every QuickBooks call", 8)
    assert world.qbo_retry.waits.count(60.0) >= 3  # each throttled answer waited as Intuit documents


@pytest.mark.parametrize("kinds", [("500", "500", "503", "503"), ("503", "500", "503", "500", "503")])
def test_5xx_on_the_write_then_retry_replays(world, figures, kinds):
    for kind in kinds:
        world.qbo.faults.inject(kind, match=payment_post)
    clicks = finish(world, figures, run_job(world), f"{'/'.join(kinds)} on the payment write", len(kinds))
    assert clicks >= 1
    assert "may or may not be recorded" in " ".join(world.thread(1))


@pytest.mark.slow  # three answers past the 2 s client timeout: scheduled first (tests/conftest.py)
def test_every_attempt_answered_after_the_client_timeout(world, figures):
    # Each slow request still commits after the client gave up: the requestid must make them one payment.
    world.qbo.faults.inject("slow", times=3, seconds=2.3, match=payment_post)
    finish(world, figures, run_job(world), "payment answered 2.3 s late (client timeout 2 s), 3 attempts", 3)


def test_access_token_expires_during_the_write(world, figures):
    done = []

    def expire_on_write(m, p):
        if payment_post(m, p) and not done:
            done.append(1)
            world.qbo.expire_access_tokens()  # the token dies exactly as the (first) write arrives
        return False

    marks: list[int] = []

    def arm():
        marks.append(len(world.qbo.token_requests))  # the start-up refresh (no access token yet) is behind us
        world.qbo.faults.inject("slow", match=expire_on_write)

    finish(world, figures, run_job(world, arm), "access token expired as the write arrived", 1)
    refreshes = [r for r in world.qbo.token_requests[marks[0]:] if r["grant_type"] == "refresh_token"]
    assert [r["status"] for r in refreshes] == [200]


def test_refresh_token_rotation_survives_a_restart(world, figures):
    first_refresh = world.settings.qbo_refresh_token
    world.qbo.expire_access_tokens()
    one = run_job(world)
    world.wait_state(one, "verified", timeout=15)
    with pytest.raises(TokenError):  # Intuit rotated it: the one in the settings is dead now
        world.qbo.oauth.token({"grant_type": "refresh_token", "refresh_token": first_refresh})
    world.restart()  # same settings (the stale refresh token), same database (the newest one)
    world.qbo.expire_access_tokens()
    two = run_job(world, text="O\u2019Malley\u2019s Marina", invoice="10061", amount="15")
    world.wait_state(two, "verified", timeout=15)
    statuses = [r["status"] for r in world.qbo.token_requests if r["grant_type"] == "refresh_token"]
    figs = ledger_figures(world, [one, two])
    figures.record("QuickBooks faults", "refresh-token rotation across a restart (old token rejected)", times=2,
                   outcome=f"refreshes {statuses}", **figs)
    assert statuses == [200, 200]
    assert figs == {"jobs": 2, "payments": 2, "duplicates": 0, "lost": 0}
