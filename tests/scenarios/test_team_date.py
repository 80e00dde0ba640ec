"""The company's own date: 23:30 in Chicago on the last day of November is still November in the books.

An omitted TxnDate is dated by Intuit's server clock (real-world.md 6.3), so the bot always sends the team's date
(TEAM_TIMEZONE); computed in UTC it would be 1 December, in the next accounting period.
"""
from datetime import UTC, datetime

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL

LATE = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)  # 2026-11-30 23:30 in America/Chicago (CST, UTC-6)


@pytest.fixture
def late_world(make_world):
    return make_world(settings={"team_timezone": "America/Chicago"}, overrides={"now": lambda: LATE})


def test_an_application_approved_at_2330_on_the_last_day_is_dated_that_day(late_world):
    world = late_world
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    [payment] = world.payments_on("130")
    assert payment["TxnDate"] == "2026-11-30"
    assert world.job(job_id).sync_from == "2026-11-29"  # the sync covers the day before, in the team's calendar
    assert world.qbo.missing_txn_date == []  # nothing left for Intuit's server clock to date

    # Undo at the same moment: the reversal is a delete (no date of its own); its sync is dated the team's way too.
    parent = world.parent(job_id)
    button = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, parent["ts"]) if "job_undo" in str(m)])[-1]
    world.driver.click(APPROVER_2, "job_undo", source=button)
    undo = world.slack.wait_for(lambda s: [j for j in world.bot.store.all() if j.undo_of == job_id
                                           and j.state == "verified"], timeout=20)[0]
    assert undo.sync_from == "2026-11-29"
    assert world.payments_on("130") == [] or all(p.get("status") == "Deleted" for p in world.payments_on("130"))


def test_a_sweep_at_2330_on_the_last_day_dates_every_item_that_day(late_world):
    world = late_world
    assert world.driver.command(APPROVER_2, CHANNEL, "sweep").status == 200
    message = world.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if m.get("text", "").startswith("Sweep #")],
                                   timeout=20)[-1]
    batches = world.bot.service.sweeps.batches
    world.slack.wait_for(lambda s: batches.get(1).parent_ts == message["ts"], timeout=10)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    world.slack.wait_for(lambda s: batches.get(1).state == "finished", timeout=40)
    written = [p for p in world.qbo.ledger.list("Payment") if "applycredit job" in (p.get("PrivateNote") or "")
               and p["Id"] != "171"]  # payment 171 keeps the date it was received on
    assert written and {p["TxnDate"] for p in written} == {"2026-11-30"}
    assert world.qbo.missing_txn_date == []
