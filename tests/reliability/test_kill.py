"""SIGKILL the real bot process at every step boundary and inside steps, restart it on the same database.

Each case holds the bot at one point (a slow or commit-then-slow answer from an emulator, or a slow sync),
kills it there, clears the faults, restarts it, and checks: the job is verified, QuickBooks holds exactly one
Payment for it, ConnectBooster got one resync and one bot-started sync, the thread shows every step once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from data.db import Connections
from data.outbox import Outbox
from sandbox.cb_sync import SyncTiming
from sandbox.run import APPROVER, CHANNEL, NOTIFY
from tests.reliability.harness import assert_clean_thread, bot_payments, payments_per_job, wait_all

pytestmark = pytest.mark.slow  # real bot processes, killed and restarted: scheduled first (tests/conftest.py)

HOLD = 8.0  # seconds an emulator sits on a request: far longer than it takes to kill the bot


def post(path_end: str):
    return lambda m, p: m == "POST" and p.endswith(path_end)


def resync(m, p):
    return m == "POST" and "/resync" in p


@dataclass(frozen=True)
class KillPoint:
    name: str
    arm: Callable  # (pb) -> None, called after the approval message is posted, before the click
    ready: Callable  # (pb) -> bool: the bot is at the point; kill now
    written: bool | None  # is the payment in QuickBooks at the kill? (None: either)
    approve_after_restart: bool = False


def bot_syncs(pb) -> list[dict]:
    return [s for s in pb.cb.snapshot()["syncs"] if s.get("trigger") != "scheduled"]


def _answered_write(pb) -> bool:
    return any(r["method"] == "POST" and r["path"].endswith("/payment") and r["status"] == 200
               for r in pb.qbo.requests)


POINTS = [
    # "Message recorded": the approval message's ts is stored. (Killed between Slack taking the message and the
    # bot storing its ts, the outbox posts it again, flagged, and the old message's Approve is refused: another case.)
    KillPoint("awaiting approval", lambda pb: None,
              lambda pb: (j := pb.store.get(1)) is not None and j.state == "awaiting_approval" and bool(j.parent_ts),
              False, approve_after_restart=True),
    KillPoint("approved, re-reading QuickBooks",
              lambda pb: pb.qbo.faults.inject("slow", seconds=HOLD, match=lambda m, p: m == "GET" and "/invoice/130" in p),
              lambda pb: pb.state() == "approved", False),
    KillPoint("before the QuickBooks write",
              lambda pb: pb.qbo.faults.inject("slow", seconds=HOLD, match=post("/payment")),
              lambda pb: pb.state() == "applying_in_quickbooks", False),
    KillPoint("QuickBooks committed, answer not received",
              lambda pb: pb.qbo.faults.inject("slow_after_commit", seconds=HOLD, match=post("/payment")),
              lambda pb: bool(bot_payments(pb.qbo.ledger)), True),
    KillPoint("write answered, state not yet saved",
              lambda pb: pb.qbo.faults.inject("slow", seconds=HOLD, match=lambda m, p: m == "GET" and "/invoice/130"
                                              in p and bool(bot_payments(pb.qbo.ledger))),
              lambda pb: _answered_write(pb) and pb.state() == "applying_in_quickbooks", True),
    KillPoint("resync sent, not yet accepted",
              lambda pb: pb.cb.faults.inject("slow", seconds=HOLD, match=resync),
              lambda pb: pb.state() == "resyncing_invoice", True),
    KillPoint("resync accepted, answer lost",
              lambda pb: pb.cb.faults.inject("slow_after_commit", seconds=HOLD, match=resync),
              lambda pb: bool(pb.cb.snapshot()["entity_resyncs"]), True),
    KillPoint("sync start sent, not yet accepted",
              lambda pb: pb.cb.faults.inject("slow", seconds=HOLD, match=post("/syncs")),
              lambda pb: (j := pb.store.get(1)) is not None and j.sync_key is not None and j.state == "invoice_resynced",
              True),
    KillPoint("sync started, answer lost",
              lambda pb: pb.cb.faults.inject("slow_after_commit", seconds=HOLD, match=post("/syncs")),
              lambda pb: bool(bot_syncs(pb)), True),
    KillPoint("watching the sync",
              lambda pb: setattr(pb.cb.engine, "timing", SyncTiming(to_active=0.3, psa_seconds=1.5,
                                                                    accounting_seconds=1.5, resync_seconds=0.05)),
              # The bot has seen a stage (its event; the thread shows it as Slack's one post a second allows).
              lambda pb: pb.state() == "syncing" and any(e.kind == "sync_progress" and e.details.get("stage")
                                                         for e in pb.store.events(1)), True),
    KillPoint("sync finished, verifying",
              lambda pb: pb.cb.faults.inject("slow", seconds=HOLD, match=lambda m, p: m == "GET" and "/credits/11261" in p),
              lambda pb: pb.state() == "sync_finished", True),
    KillPoint("verified, Slack replies still queued",
              lambda pb: pb.slack.faults.inject("ratelimited", "chat.postMessage", times=None, retry_after=1),
              lambda pb: pb.state() == "verified", True),
]


def thread(pb) -> list[str]:
    job = pb.store.get(1)
    return [m.get("text", "") for m in pb.slack.thread(CHANNEL, job.parent_ts)] if job and job.parent_ts else []


@pytest.mark.parametrize("point", POINTS, ids=[p.name.replace(" ", "_").replace(",", "") for p in POINTS])
def test_sigkill_then_restart_finishes_once(process_bot, figures, point):
    pb = process_bot()
    parent = pb.request()
    point.arm(pb)
    if not point.approve_after_restart:
        pb.driver.click(APPROVER, "approve", source=parent)
    wait_all(lambda: point.ready(pb), timeout=30, interval=0.01)  # generous: CI machines may be loaded
    pb.kill()
    if point.written is not None:
        assert bool(bot_payments(pb.qbo.ledger)) is point.written, "killed at the wrong point"
    killed_in = pb.state()
    pb.qbo.faults.clear()
    pb.cb.faults.clear()
    pb.slack.faults.clear()
    pb.restart()
    if point.approve_after_restart:
        pb.driver.click(APPROVER, "approve", source=pb.slack.message(CHANNEL, parent["ts"]))
    wait_all(lambda: pb.state() == "verified", timeout=60)
    texts = pb.slack.wait_for(lambda s: (t := thread(pb)) and any("Verified:" in x for x in t) and t, timeout=45)
    notices = pb.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "#1" in m.get("text", "")
                                           or "Credit applied" in m.get("text", "")], timeout=10)
    per_job = payments_per_job(pb.qbo.ledger)
    resyncs = pb.cb.snapshot()["entity_resyncs"]
    figures.record("SIGKILL + restart", f"kill: {point.name} (state {killed_in})", times=1, jobs=1,
                   payments=sum(per_job.values()), duplicates=sum(n - 1 for n in per_job.values()),
                   lost=0 if pb.state() == "verified" else 1, outcome=pb.state())
    assert per_job == {1: 1}
    assert pb.qbo.ledger.get("Invoice", "130")["Balance"] == 110
    assert len(resyncs) == 1 and len(bot_syncs(pb)) == 1
    in_flight = Outbox(Connections(str(pb.db)).get).in_flight_at_crash(1)
    assert in_flight <= 1  # at most the one Slack call the kill interrupted
    assert_clean_thread(texts, in_flight_at_crash=in_flight)
    assert len(notices) == 1
