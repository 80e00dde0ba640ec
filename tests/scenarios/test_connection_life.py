"""The QuickBooks connection over months, on one fake clock shared by the bot and the emulator: an idle bot keeps it
alive every QBO_KEEPALIVE_DAYS, and its end (Intuit's five-year limit) is announced in NOTIFY_CHANNEL once per
threshold (14, 3, 1 days), never on every refresh, and shown to approvers in App Home."""
from __future__ import annotations

import time

from data.events import EventKind
from sandbox.run import REALM_ID
from tests.clock import FakeClock
from tests.scenarios.test_home import open_home
from tests.scenarios.world import APPROVER, NOTIFY, REQUESTER, wait_until

DAY = 86400


def clocked_world(make_world, **overrides):
    clock = FakeClock(start=time.time())
    world = make_world(qbo_clock=clock, overrides={"token_clock": clock, **overrides})
    return world, clock


def refreshes(world) -> int:
    return sum(1 for t in world.qbo.token_requests if t["grant_type"] == "refresh_token" and t["status"] == 200)


def warnings(world) -> list[str]:
    """The warnings in NOTIFY_CHANNEL, once every recorded warning has been delivered."""
    recorded = sum(1 for e in world.bot.store.events() if e.kind == EventKind.QUICKBOOKS_EXPIRY_WARNING)

    def posted(slack) -> list[str]:
        return [m["text"] for m in slack.messages(NOTIFY) if "The QuickBooks connection" in m.get("text", "")]

    world.slack.wait_for(lambda s: len(posted(s)) == recorded)
    return posted(world.slack)


def force_refresh(world, clock) -> None:
    """The access token is an hour old: the next use refreshes (what any job does once an hour)."""
    clock.advance(3601)
    world.bot.qbo.get_invoice(invoice_id="130")


def test_five_days_left_warns_once_then_once_per_threshold(make_world):
    world, clock = clocked_world(make_world)
    world.qbo.oauth.set_hard_expiry(5 * DAY)  # the grant's five years are nearly over
    world.bot.qbo.get_invoice(invoice_id="130")  # the first token answer says so
    first = warnings(world)
    assert len(first) == 1 and "within 14 days" in first[0] and "five years" in first[0]
    assert "/applycredit connect" in first[0]
    force_refresh(world, clock)  # the next refresh answers the same expiry: no second warning
    force_refresh(world, clock)
    assert refreshes(world) == 3 and warnings(world) == first
    assert [e.details["days"] for e in world.bot.store.events() if e.kind == EventKind.QUICKBOOKS_EXPIRY_WARNING] == [14]

    banner = str(open_home(world, APPROVER)["blocks"][:3])
    assert "The QuickBooks connection ends" in banner and "/applycredit connect" in banner
    assert "QuickBooks connection" not in str(open_home(world, REQUESTER)["blocks"][:3])

    clock.advance(2.5 * DAY)  # 2.4 days left: the 3-day threshold
    world.bot.connection.check()
    world.bot.connection.check()
    assert len(warnings(world)) == 2 and "within 3 days" in warnings(world)[1]
    clock.advance(1.5 * DAY)  # under a day left
    force_refresh(world, clock)
    world.bot.connection.check()
    assert len(warnings(world)) == 3 and "within 1 day" in warnings(world)[2]


def test_an_idle_bot_refreshes_every_keepalive_days_and_never_lapses(make_world):
    world, clock = clocked_world(make_world, connection_check_seconds=0.02)
    world.bot.qbo.get_invoice(invoice_id="130")  # used once, then nobody uses the bot for 150 days
    used = refreshes(world)

    def checks_after(n: int) -> None:
        done = world.bot.connection.checks
        wait_until(lambda: world.bot.connection.checks >= done + n)

    def refreshed(count: int) -> None:
        """Intuit answered `count` refreshes and the last one is stored (only then may the clock move on)."""
        wait_until(lambda: refreshes(world) == count and world.bot.tokens.load(REALM_ID).refreshed_at == clock())

    clock.advance(29 * DAY)
    checks_after(3)
    assert refreshes(world) == used  # not yet: refreshed 29 days ago
    clock.advance(1 * DAY)
    refreshed(used + 1)
    for month in range(4):  # 150 days idle in all: past Intuit's 100 days without use
        clock.advance(30 * DAY)
        refreshed(used + 2 + month)
    checks_after(3)
    assert refreshes(world) == used + 5
    assert world.bot.qbo.get_invoice(invoice_id="130").balance  # still connected
    assert warnings(world) == []  # a rolling expiry kept far away needs no warning


def test_without_the_keepalive_an_idle_connection_would_lapse(make_world):
    """The control: the same 101 idle days with no periodic check, and Intuit refuses the token."""
    world, clock = clocked_world(make_world)
    job_id = world.request(invoice="10040", amount="10")
    clock.advance(101 * DAY)
    world.approve(job_id, APPROVER)
    assert world.wait_state(job_id, "awaiting_quickbooks_reconnect").resume_state == "approved"
