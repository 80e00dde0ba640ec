"""A real process kill between the QuickBooks write and the resync, then a restart on the same database."""
import signal

import pytest

from data.db import Connections
from data.jobs import JobStore
from data.outbox import Target
from sandbox.run import APPROVER, CHANNEL, REQUESTER, Sandbox
from sandbox.slack_driver import SlackDriver
from tests.reliability.harness import bot_env, free_port, start_bot, store_state
from tests.scenarios.world import wait_until

pytestmark = pytest.mark.slow  # a real bot process, killed and restarted: scheduled first (tests/conftest.py)


def recorded_reply_sent(db) -> bool:
    """The thread reply is delivered. (Only the reply: the parent's status line says "Recorded in QuickBooks" too,
    and that chat.update is superseded when the next one is queued first, which on a loaded machine made this
    wait for a row that would never be sent.)"""
    row = Connections(str(db)).get().execute(
        "SELECT state FROM outbox WHERE target = ? AND payload LIKE '%Recorded in QuickBooks%'", [Target.THREAD]).fetchone()
    return bool(row) and row[0] == "sent"


def test_kill_after_the_quickbooks_write_then_restart_finishes_with_one_payment(tmp_path):
    sb = Sandbox(fast=True)
    db = tmp_path / "bot.db"
    env = bot_env(sb, db, free_port())
    proc = start_bot(env, tmp_path, fresh=True)  # the one story that starts `python bot.py run` as deployed
    try:
        driver = SlackDriver(bot_url=f"http://127.0.0.1:{env['PORT']}/slack/events",
                             signing_secret=sb.signing_secret, slack=sb.slack)
        sb.cb.faults.inject("slow", seconds=8, match=lambda m, p: m == "POST" and "/resync" in p)
        driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle")
        view = sb.slack.wait_for(lambda s: (v := s.views(REQUESTER)["modals"]) and "Looking up" not in str(v[-1])
                                 and v[-1], timeout=30)
        option = next(o for o in next(b for b in view["blocks"] if b.get("block_id") == "invoice")["element"]["options"]
                      if o["text"]["text"].startswith("10040 "))
        driver.submit_view(REQUESTER, view, {"invoice": {"invoice": {"type": "static_select", "selected_option": option}},
                                             "amount": {"amount": {"type": "plain_text_input", "value": "10"}}})
        parent = sb.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if "#1" in m.get("text", "")], 10)[0]
        store = JobStore(Connections(str(db)).get)
        # The Approve button is checked against the message the bot recorded: wait until its ts is stored.
        wait_until(lambda: (j := store.get(1)) is not None and j.parent_ts == parent["ts"], timeout=10)
        driver.click(APPROVER, "approve", source=parent)
        # The payment is in QuickBooks, its reply is delivered, and the bot is inside the (slow) resync: kill it
        # there. (A kill while a Slack call is in flight is the reliability suite's business: tests/reliability.)
        wait_until(lambda: store_state(db) == "resyncing_invoice" and recorded_reply_sent(db), timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert [p for p in sb.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"], "the write happened before the kill"
        assert store.get(1).state == "resyncing_invoice"

        sb.cb.faults.clear()
        proc = start_bot(env, tmp_path, fresh=True)
        wait_until(lambda: store.get(1).state == "verified", timeout=60)
        payments = [p for p in sb.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"]
        assert len(payments) == 1
        replies = [m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])]
        wait_until(lambda: any("Verified" in m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])), timeout=30)
        replies = [m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])]
        assert len([r for r in replies if "Recorded in QuickBooks" in r]) == 1
        assert len([r for r in replies if "resynced" in r]) == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
        sb.stop()
