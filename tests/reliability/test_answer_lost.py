"""Slack takes the approval message but its answer never reaches the bot, which is killed while it waits: on
restart the outbox sends the message again (it cannot know Slack has it), so the channel shows two copies. Either
copy decides the one request; the earlier copy is then retired; nothing is written twice."""
import sqlite3
from decimal import Decimal

from sandbox.run import APPROVER, CHANNEL
from tests.reliability.harness import bot_payments, wait_all


def sending(pb) -> bool:
    """The approval message's row is in flight: the bot is waiting for Slack's answer."""
    with sqlite3.connect(pb.db) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0] == 1


def test_approval_message_answer_lost_then_sigkill_either_copy_decides_once(process_bot, figures):
    pb = process_bot()
    pb.slack.faults.inject("hold_after_commit", "chat.postMessage", seconds=60)  # the approval message
    first = pb.request(recorded=False)  # in the channel, but the bot never hears back
    wait_all(lambda: sending(pb), timeout=10)
    pb.kill()
    assert pb.store.get(1).parent_ts is None
    pb.slack.faults.clear()
    pb.restart()

    # The message goes out again: two copies in the channel, the newer one recorded as the request's message.
    second = pb.slack.wait_for(lambda s: len(s.messages(CHANNEL)) == 2 and s.messages(CHANNEL)[-1], timeout=20)
    wait_all(lambda: pb.store.get(1).parent_ts == second["ts"], timeout=10)
    # The same request, the same figures (Slack gives each post's id-less blocks new ids of its own).
    assert _without_ids(first["blocks"]) == _without_ids(second["blocks"])

    # The approver clicks the first copy they see: it decides the request (it is that request's message).
    assert pb.driver.click(APPROVER, "approve", source=first).status == 200
    wait_all(lambda: pb.state() == "verified", timeout=30)
    assert len(bot_payments(pb.qbo.ledger)) == 1
    assert Decimal(str(pb.qbo.ledger.get("Invoice", "130")["Balance"])) == Decimal("110.00")
    # The earlier copy loses its buttons and points to the live message; the thread is the newer message's.
    retired = pb.slack.wait_for(lambda s: "sent again after a restart" in str(s.message(CHANNEL, first["ts"]))
                                and s.message(CHANNEL, first["ts"]), timeout=10)
    assert "approve" not in str(retired["blocks"])
    pb.slack.wait_for(lambda s: any("Verified" in m.get("text", "") for m in s.thread(CHANNEL, second["ts"])),
                      timeout=10)
    # A click on the other copy, from a screen not yet refreshed, changes nothing.
    assert pb.driver.click(APPROVER, "approve", source=second).status == 200
    pb.slack.wait_for(lambda s: any("already decided" in e.get("text", "") for e in s.ephemerals(APPROVER)),
                      timeout=10)
    assert len(bot_payments(pb.qbo.ledger)) == 1
    figures.record("SIGKILL + restart", "kill: approval message taken by Slack, its answer lost", times=pb.kills, jobs=1,
                   payments=1, duplicates=0, lost=0,
                   outcome="two copies in the channel; either decides, the earlier copy is retired")


def _without_ids(blocks: list[dict]) -> list[dict]:
    return [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]
