"""Each trouble in the console's "Make something go wrong" menu, armed as a newcomer arms it, ends in a state a
person can act on: a thread that says what was done, what to do and what happens otherwise, with the button."""
from __future__ import annotations

import pytest

from integrations.http import RetryPolicy
from sandbox.console import start_console
from sandbox.console.troubles import fault_catalogue
from tests.console.test_api import post
from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER, World

WARNING = ("*Already done:*", "*You can:*", "*If nobody acts:*")


@pytest.fixture
def troubled(tmp_path):
    retry = RetryPolicy(attempts=5, sleep=lambda s: None, jitter=lambda a, b: b)  # the bot's own default: 5 tries
    world = World(tmp_path, transport="http", settings={"sync_timeout_seconds": 1.0}, overrides={"qbo_retry": retry})
    world.sandbox.bot_url = world.driver.bot_url
    world.console = start_console(world.sandbox, 0, sync_timeout=1.0)
    yield world
    world.console.stop()
    world.close()


def arm_and_run(world, kind: str) -> int:
    assert post(world, "fault", user=REQUESTER, kind=kind).json()["ok"]
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    return job_id


def replies(world, job_id: int) -> list[dict]:
    job = world.job(job_id)
    return world.slack.thread(CHANNEL, job.parent_ts)


def click_last(world, job_id: int, label: str, user: str = REQUESTER) -> None:
    reply = world.slack.wait_for(lambda s: [m for m in replies(world, job_id) if f"'{label}'" in str(m.get("blocks"))])
    world.driver.click(user, "job_retry", source=reply[-1])


def warning(world, job_id: int) -> str:
    """The thread's needs-attention reply, as Slack holds it."""
    return world.slack.wait_for(lambda s: next((str(m["blocks"]) for m in reversed(replies(world, job_id))
                                                if "Already done" in str(m.get("blocks"))), None))


def test_the_menu_lists_these_troubles():
    assert set(fault_catalogue(90)) == {"fail_sync", "stuck_pending", "qbo_429", "end_stuck_sync"}


def test_fail_sync_ends_with_sync_again_offered_and_said_what_was_done(troubled):
    job_id = arm_and_run(troubled, "fail_sync")
    troubled.wait_state(job_id, "needs_attention", timeout=15)
    shown = warning(troubled, job_id)
    assert all(w in shown for w in WARNING) and "Payment" in shown and "'Sync again'" in shown
    click_last(troubled, job_id, "Sync again")
    troubled.wait_state(job_id, "verified", timeout=15)


def test_a_stuck_sync_is_watched_never_joined_and_sync_again_comes_once_it_ends(troubled):
    job_id = arm_and_run(troubled, "stuck_pending")
    troubled.wait_state(job_id, "needs_attention", timeout=15)
    stuck = warning(troubled, job_id)
    assert all(w in stuck for w in WARNING) and "Sync History" in stuck and "support" in stuck
    assert "job_retry" not in stuck  # Sync again would only join the same run: not offered yet
    second = troubled.request("Blue Heron", wait_parent=True)  # another request while the run hangs
    troubled.approve(second, APPROVER)
    troubled.wait_state(second, "needs_attention", timeout=15)
    assert not any("joined the sync" in t for t in troubled.thread(second))
    assert "stuck" in troubled.job(second).error
    ended = post(troubled, "fault", user=REQUESTER, kind="end_stuck_sync").json()
    assert ended["ok"] and ended["ended"]
    for job in (job_id, second):
        troubled.wait_thread(job, "accepts a new sync now", timeout=15)
        click_last(troubled, job, "Sync again")
    troubled.wait_state(job_id, "verified", timeout=15)
    troubled.wait_state(second, "verified", timeout=15)
    assert len(troubled.payments_on("130")) == 1


def test_throttled_quickbooks_is_waited_out_and_the_application_completes(troubled):
    job_id = arm_and_run(troubled, "qbo_429")
    troubled.wait_state(job_id, "verified", timeout=20)
    assert len(troubled.payments_on("130")) == 1
