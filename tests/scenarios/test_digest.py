"""The daily digest in a running bot: posted at DIGEST_TIME to NOTIFY_CHANNEL once per day, even across restarts."""
from datetime import UTC, datetime, timedelta

from tests.scenarios.world import APPROVER, NOTIFY


def before_eight(clock) -> None:
    """07:59:30 UTC on the latest day whose 08:00 is not after now: jobs keep their real (later) timestamps."""
    real = datetime.now(UTC)
    eight = real.replace(hour=8, minute=0, second=0, microsecond=0)
    if eight > real:
        eight -= timedelta(days=1)
    clock.set((eight - timedelta(seconds=30)).timestamp())


def digests(world) -> list[dict]:
    return [m for m in world.slack.messages(NOTIFY) if m.get("text", "").startswith("Credit digest")]


def test_digest_posts_once_a_day_and_survives_a_restart(make_world, clock):
    before_eight(clock)
    world = make_world(settings={"digest_time": "08:00", "team_timezone": "UTC"},
                       overrides={"now": clock.now, "digest_check_seconds": 0.05})
    assert world.bot.digest.tick() is False and digests(world) == []  # 07:59:30
    clock.advance(60)
    first = world.slack.wait_for(lambda s: digests(world), timeout=10)[0]  # the scheduler thread posted it
    assert first["text"] == ("Credit digest: 7 open credits ($315.00), 0 jobs needing attention, last sync finished, "
                             "0 done since the last digest.")
    blocks = str(first["blocks"])
    assert "oldest: credit 11262 (unapplied payment" in blocks and "*Blue Heron Marine*" in blocks

    world.restart()  # same database: the day is recorded, nothing is posted twice
    assert world.bot.digest.tick() is False
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(digests(world)) == 1

    clock.advance(24 * 3600)  # the next morning
    second = world.slack.wait_for(lambda s: len(d := digests(world)) == 2 and d[-1], timeout=10)
    # The job's sync also picked up Reel Deal's credit (applied in QuickBooks earlier): both are gone.
    still_open = [c for c in world.cb.snapshot()["credits"] if c["status"] == "open"]
    assert {c["id"] for c in still_open} == {11262, 11263, 11264, 11265, 11266}
    assert second["text"] == ("Credit digest: 5 open credits ($265.00), 0 jobs needing attention, last sync finished, "
                              "1 done since the last digest.")
    assert f"• #{job_id} *Atomar's Best Tackle* — $10.00 to invoice 10040" in str(second["blocks"])
    day = (clock.now() - timedelta(days=1)).date()
    expected = [(f"digest:{day}", "sent"), (f"digest:{day + timedelta(days=1)}", "sent")]
    world.slack.wait_for(lambda s: world.bot.connections.get().execute(
        "SELECT dedupe_key, state FROM outbox WHERE dedupe_key LIKE 'digest:%' ORDER BY id").fetchall() == expected)
    assert len(digests(world)) == 2


def test_no_digest_without_a_time(world):
    assert world.bot.digest.at == "" and world.bot.digest.tick() is False
