"""A month-end sweep of 300 credits in both modes, under the fake Slack's documented rate tiers (a World runs them
and the bot's pacer SLACK_SCALE times faster): every credit applied once, Slack never answers 429, no message is
refused for its size, the sweep's message is updated a handful of times (not once per change) and ends showing the
finished sweep, and the notice follows the last QuickBooks write within seconds, not behind stale updates.

300 = the seed's 9 applications and 291 clients with one $80 invoice and a $20 credit memo each (bench/rig.py's
add_client). The large company's inbox in both modes is tests/scenarios/test_large_reads.py; the same figures at
Slack's real speed are benchmark 7 (bench/volume.py, docs/benchmarks.md).
"""
from collections import Counter
from decimal import Decimal

import pytest

from bench.rig import add_client
from tests.scenarios.sweeps import batch, propose, wait_finished
from tests.scenarios.test_guided_sweep import GUIDED, checklist, no_connectbooster_calls
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, SLACK_SCALE

pytestmark = pytest.mark.slow  # 300 applications in each mode: scheduled first (tests/conftest.py)
EXTRA = 291
SLACK_TEXT_LIMIT = 10_000  # ours; Slack refuses a message from about 11,000 characters of block text


def month_end(ledger) -> None:
    for n in range(EXTRA):
        add_client(ledger, cid=str(9500 + n), name=f"Month-End Client {n:03d}", invoices=1,
                   invoice_amount=Decimal("80.00"), credit=Decimal("20.00"), first_id=500000 + 10 * n,
                   doc_base=700000 + 10 * n)


def writes(world) -> list[dict]:
    return [r for r in world.qbo.requests if r["method"] == "POST" and r["path"].endswith("/payment")
            and r["status"] < 400]


def notice(world) -> dict:
    return world.slack.wait_for(lambda s: [c for c in s.call_log("chat.postMessage")
                                           if c["channel"] == NOTIFY and c["ok"]], timeout=20)[0]


def slack_was_kept(world, message: dict) -> str:
    """Nothing refused, nothing too large; the sweep's message updated at most every 2.5 s of Slack's time."""
    assert world.slack.ratelimited_counts() == {}
    calls = world.slack.call_log()
    assert [c for c in calls if not c["ok"]] == []
    assert max(c["blocks_text"] or 0 for c in calls) < SLACK_TEXT_LIMIT
    updates = [c["at"] for c in world.slack.call_log("chat.update") if c["channel"] == CHANNEL]
    seconds = (updates[-1] - updates[0]) * SLACK_SCALE  # in Slack's time
    assert len(updates) <= seconds / 2 + 10, (len(updates), seconds)
    return str(world.slack.message(CHANNEL, message["ts"])["blocks"])


def test_a_sweep_of_300_credits_in_api_mode(make_world):
    world = make_world(prepare=month_end)
    message = propose(world)
    assert len(batch(world).plan) == 300
    assert world.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    wait_finished(world, timeout=120)
    items = world.bot.store.in_batch(1)
    assert Counter(j.state for j in items) == {"verified": 300}
    assert len(writes(world)) == 300  # one payment per application, none twice
    for n in range(EXTRA):
        assert world.invoice_balance(str(500000 + 10 * n)) == Decimal("60.00")
    posted = notice(world)
    last_write = max(r["at"] for r in writes(world))
    assert posted["at"] - last_write < 10  # the one sync and 300 checks, then the notice: no queue of stale updates
    assert "300 verified" in world.slack.wait_for(lambda s: (shown := slack_was_kept(world, message))
                                                  and ":checkered_flag: Finished" in shown and shown, timeout=10)


def test_a_sweep_of_300_credits_in_guided_mode(make_world):
    world = make_world(prepare=month_end, settings=GUIDED)
    message = propose(world)
    assert len(batch(world).plan) == 300
    assert world.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    listed = checklist(world, message)
    world.slack.wait_for(lambda s: batch(world).state == "guided_checklist", timeout=60)
    assert len(writes(world)) == 300
    # The one checklist names every invoice to resync: what fits in it, the rest in pages after it in the thread.
    def every_invoice(s) -> bool:
        shown = str([m["blocks"] for m in s.thread(CHANNEL, message["ts"])])
        return all(f"invoice *{700000 + 10 * n}*" in shown for n in range(EXTRA))

    world.slack.wait_for(every_invoice, timeout=20)
    assert world.driver.click(APPROVER_2, "sweep_guided_done", source=listed).status == 200
    wait_finished(world, timeout=60)
    assert Counter(j.state for j in world.bot.store.in_batch(1)) == {"verified": 300}
    notice(world)
    assert "300" in world.slack.messages(NOTIFY)[-1]["text"]
    assert len(writes(world)) == 300
    assert "300 verified" in world.slack.wait_for(lambda s: (shown := slack_was_kept(world, message))
                                                  and ":checkered_flag: Finished" in shown and shown, timeout=10)
    no_connectbooster_calls(world)
