"""Guided ConnectBooster mode against a real bot process killed with SIGKILL between two steps of the
checklist (or while a sweep's one checklist is open): the restarted bot resumes where the person was, no step is
posted twice, nothing is written to QuickBooks again, and the completion notice goes out once."""
import sqlite3
from decimal import Decimal

from data.batches import BatchStore
from data.db import Connections
from sandbox.run import APPROVER, APPROVER_2, CHANNEL, NOTIFY, REQUESTER
from tests.reliability.harness import ProcessBot, bot_payments, wait_all

GUIDED = {"CONNECTBOOSTER_MODE": "guided", "CONNECTBOOSTER_PORTAL_URL": "https://acme.connectboosterportal.com"}
TITLES = ("Step 1 of 3", "Step 2 of 3", "Step 3 of 3")


def _step(pb: ProcessBot, parent: dict, action_id: str) -> dict:
    """The latest thread message offering `action_id` (waits for it)."""
    def offered(s):
        return next((m for m in reversed(s.thread(CHANNEL, parent["ts"]))
                     if action_id in {e.get("action_id") for b in m.get("blocks", []) if b.get("type") == "actions"
                                      for e in b.get("elements", [])}), None)
    return pb.slack.wait_for(offered, timeout=20)


def _press(pb: ProcessBot, parent: dict, action_id: str, user: str = REQUESTER) -> None:
    assert pb.driver.click(user, action_id, source=_step(pb, parent, action_id)).status == 200


def test_sigkill_between_guided_steps_resumes_the_checklist_once(process_bot, figures):
    pb = process_bot(**GUIDED)
    parent = pb.request(amount="10")
    assert pb.driver.click(APPROVER, "approve", source=parent).status == 200
    wait_all(lambda: pb.state() == "guided_resync", timeout=30)
    _press(pb, parent, "guided_resynced")
    wait_all(lambda: pb.state() == "guided_sync", timeout=30)
    _step(pb, parent, "guided_sync_finished")  # step 2 is in the thread: the person is in ConnectBooster now
    wait_all(lambda: delivered(pb), timeout=20)  # and recorded as sent (a kill mid-send is test_kill's case)

    pb.kill()  # SIGKILL: no shutdown, no flush
    assert pb.state() == "guided_sync" and len(bot_payments(pb.qbo.ledger)) == 1
    pb.restart()

    _press(pb, parent, "guided_sync_finished")
    wait_all(lambda: pb.state() == "guided_check", timeout=30)
    _press(pb, parent, "guided_all_clear")
    wait_all(lambda: pb.state() == "verified", timeout=30)
    notices = pb.slack.wait_for(lambda s: s.messages(NOTIFY), timeout=20)

    texts = [str(m.get("blocks")) for m in pb.slack.thread(CHANNEL, parent["ts"])]
    assert [sum(t.count(title) for t in texts) for title in TITLES] == [1, 1, 1], texts
    assert len(bot_payments(pb.qbo.ledger)) == 1  # one write, before the kill; none after
    assert Decimal(str(pb.qbo.ledger.get("Invoice", "130")["Balance"])) == Decimal("110.00")
    assert len(notices) == 1 and f"confirmed by <@{REQUESTER}>" in notices[0]["text"]
    assert [r for r in pb.cb.requests if not r["path"].startswith("/_emulator")] == []  # guided: never called
    # A button from before the kill (step 1, long confirmed) changes nothing.
    _press(pb, parent, "guided_resynced")
    assert pb.slack.wait_for(lambda s: any("nothing was changed" in e.get("text", "").lower()
                                           for e in s.ephemerals(REQUESTER)), timeout=10)
    assert pb.state() == "verified"
    figures.record("SIGKILL + restart", "kill: guided mode, between checklist steps 1 and 2", times=pb.kills, jobs=1,
                   payments=len(bot_payments(pb.qbo.ledger)), duplicates=0, lost=0,
                   outcome="resumed at step 2, each step posted once, one notice")


def test_sigkill_while_a_guided_sweep_checklist_is_open_then_one_confirmation(process_bot, figures):
    pb = process_bot(**GUIDED)
    assert pb.driver.command(APPROVER_2, CHANNEL, "sweep").status == 200
    plan = pb.slack.wait_for(lambda s: next((m for m in s.messages(CHANNEL) if m["text"].startswith("Sweep #1")),
                                            None), timeout=20)
    wait_all(lambda: batch_state(pb) is not None and pb_batch(pb).parent_ts == plan["ts"], timeout=20)
    assert pb.driver.click(APPROVER, "sweep_approve", source=plan).status == 200
    _step(pb, plan, "sweep_guided_done")  # every item written, the one checklist posted
    wait_all(lambda: delivered(pb), timeout=20)  # and recorded as sent (a kill mid-send is test_kill's case)

    pb.kill()
    written = len(bot_payments(pb.qbo.ledger))
    assert written == 9 and batch_state(pb) == "guided_checklist"
    pb.restart()

    _press(pb, plan, "sweep_guided_done", user=APPROVER_2)
    wait_all(lambda: batch_state(pb) == "finished", timeout=30)
    notices = pb.slack.wait_for(lambda s: s.messages(NOTIFY), timeout=20)
    thread = pb.slack.thread(CHANNEL, plan["ts"])
    assert sum("sweep_guided_done" in str(m.get("blocks")) for m in thread) == 1  # not posted again on restart
    assert len(bot_payments(pb.qbo.ledger)) == written  # nothing written again
    assert len(notices) == 1 and f"confirmed by <@{APPROVER_2}>" in notices[0]["text"]
    assert {j.state for j in pb.store.in_batch(1)} == {"verified"}
    figures.record("SIGKILL + restart", "kill: guided sweep, its one checklist open", times=pb.kills, jobs=9,
                   payments=written, duplicates=0, lost=0,
                   outcome="checklist not re-posted; one confirmation verified all 9; one notice")


def delivered(pb: ProcessBot) -> bool:
    """Nothing waiting in the outbox, nothing being sent."""
    with sqlite3.connect(pb.db) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')").fetchone()[0] == 0


def pb_batch(pb: ProcessBot):
    return BatchStore(Connections(str(pb.db)).get).get(1)


def batch_state(pb: ProcessBot) -> str | None:
    found = pb_batch(pb) if pb.db.exists() else None
    return found.state if found else None
