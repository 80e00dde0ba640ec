"""A sweep of 30 applications under the fake Slack's documented rate tiers (a World runs them, and the bot's pacer,
SLACK_SCALE times faster): Slack never answers 429, its message ends showing the finished sweep after a handful
of updates (not one per change), and the notice comes promptly after the last QuickBooks write; a plan too large
for one message is listed whole in its thread."""
from decimal import Decimal

import pytest

from bench.rig import add_client
from tests.scenarios.sweeps import batch, propose, wait_finished
from tests.scenarios.test_sweep_bulk import extra_clients
from tests.scenarios.world import APPROVER, CHANNEL, NOTIFY, SLACK_SCALE

pytestmark = pytest.mark.slow  # a sweep of 30 applications: scheduled first (tests/conftest.py)


def test_a_sweep_of_30_stays_under_slacks_tiers_and_its_notice_is_prompt(make_world):
    world = make_world(prepare=extra_clients)
    message = propose(world)
    assert world.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    wait_finished(world, timeout=60)
    final = world.slack.wait_for(lambda s: ":checkered_flag: Finished" in (shown := str(
        s.message(CHANNEL, message["ts"])["blocks"])) and shown, timeout=10)
    assert "Done 30/30" in final and "30 verified" in final  # the latest content is what Slack shows
    notice = world.slack.wait_for(lambda s: [c for c in s.call_log("chat.postMessage")
                                             if c["channel"] == NOTIFY and c["ok"]], timeout=10)[0]
    assert world.slack.ratelimited_counts() == {}

    updates = [c["at"] for c in world.slack.call_log("chat.update") if c["channel"] == CHANNEL]
    # One message's progress at most every 2.5 s of Slack's time (0.125 s here): a handful, not one per change
    # (before pacing, this sweep sent 178 updates, 84 of them refused with 429).
    assert len(updates) <= (updates[-1] - updates[0]) * SLACK_SCALE / 2.5 + 2, len(updates)
    last_write = max(r["at"] for r in world.qbo.requests if r["method"] == "POST" and r["path"].endswith("/payment"))
    # The notice waits for the one sync and the checks, never behind stale updates: here well under a minute of
    # Slack's time (before pacing: 100 s at Slack's speed).
    assert (notice["at"] - last_write) * SLACK_SCALE < 60


def many_clients(ledger) -> None:
    """120 clients, each with one $80 invoice and a $20 credit memo: a plan larger than one Slack message."""
    for n in range(120):
        add_client(ledger, cid=str(9500 + n), name=f"Harbourside Marine Supply & Sons, Division {n:03d}", invoices=1,
                   invoice_amount=Decimal("80.00"), credit=Decimal("20.00"), first_id=500000 + 10 * n,
                   doc_base=700000 + 10 * n)


def test_a_plan_larger_than_its_message_is_listed_whole_in_its_thread(make_world):
    world = make_world(prepare=many_clients)
    message = propose(world)
    plan = batch(world).plan
    assert len(plan) == 129  # the seed's 9 and 120 more
    assert "more clients" in str(message["blocks"]) and "listed in this message's thread" in str(message["blocks"])
    def all_pages(s):
        found = [m for m in s.thread(CHANNEL, message["ts"]) if "plan*, page" in str(m["blocks"])]
        return found and f"page {len(found)} of {len(found)}:" in str(found[-1]["blocks"]) and found

    pages = world.slack.wait_for(all_pages, timeout=20)
    assert len(pages) > 1
    listed = str([m["blocks"] for m in pages])
    assert all(f"invoice {escaped(i['invoice_number'])}:" in listed for i in plan)
    assert max(c["blocks_text"] or 0 for c in world.slack.call_log()) < 10_000  # Slack refuses from ~11,000
    assert world.slack.ratelimited_counts() == {}


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
