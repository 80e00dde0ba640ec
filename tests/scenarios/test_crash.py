"""A real process kill between the QuickBooks write and the resync, then a restart on the same database."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from data.db import Connections
from data.jobs import JobStore
from sandbox.run import APPROVER, APPROVER_2, CHANNEL, NOTIFY, QBO_CLIENT_ID, QBO_CLIENT_SECRET, REQUESTER, Sandbox
from sandbox import seed
from sandbox.slack_driver import SlackDriver
from tests.scenarios.world import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_env(sb: Sandbox, db: Path, port: int) -> dict:
    return {
        "PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": sb.signing_secret,
        "SLACK_API_URL": sb.slack_api, "PORT": str(port), "QBO_CLIENT_ID": QBO_CLIENT_ID,
        "QBO_CLIENT_SECRET": QBO_CLIENT_SECRET, "QBO_ENVIRONMENT": sb.qbo.discovery_url, "QBO_REALM_ID": seed.REALM_ID,
        "QBO_REFRESH_TOKEN": sb.qbo.mint_tokens()["refresh_token"], "QBO_API_BASE_URL": sb.qbo.base_url,
        "CONNECTBOOSTER_BASE_URL": sb.cb.base_url, "CONNECTBOOSTER_API_KEY": sb.cb.api_key,
        "APPROVER_IDS": f"{APPROVER},{APPROVER_2}", "NOTIFY_CHANNEL": NOTIFY, "DATABASE_PATH": str(db),
        "SYNC_POLL_SECONDS": "0.05", "LOG_LEVEL": "WARNING",
    }


def store_state(db: Path, job_id: int = 1) -> str | None:
    job = JobStore(Connections(str(db)).get).get(job_id) if db.exists() else None
    return job.state if job else None


def start_bot(env: dict, cwd: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], env=env, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{env['PORT']}/healthz"

    def healthy():
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            return requests.get(url, timeout=0.5).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(healthy, timeout=20)
    return proc


def test_kill_after_the_quickbooks_write_then_restart_finishes_with_one_payment(tmp_path):
    sb = Sandbox(fast=True)
    db = tmp_path / "bot.db"
    env = bot_env(sb, db, free_port())
    proc = start_bot(env, tmp_path)
    try:
        driver = SlackDriver(bot_url=f"http://127.0.0.1:{env['PORT']}/slack/events",
                             signing_secret=sb.signing_secret, slack=sb.slack)
        sb.cb.faults.inject("slow", seconds=8, match=lambda m, p: m == "POST" and "/resync" in p)
        driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle")
        view = sb.slack.wait_for(lambda s: (v := s.views(REQUESTER)["modals"]) and "Looking up" not in str(v[-1])
                                 and v[-1], timeout=10)
        option = next(o for o in next(b for b in view["blocks"] if b.get("block_id") == "invoice")["element"]["options"]
                      if o["text"]["text"].startswith("10040 "))
        driver.submit_view(REQUESTER, view, {"invoice": {"invoice": {"type": "static_select", "selected_option": option}},
                                             "amount": {"amount": {"type": "plain_text_input", "value": "10"}}})
        parent = sb.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if "#1" in m.get("text", "")], 10)[0]
        driver.click(APPROVER, "approve", source=parent)
        # The payment is in QuickBooks and the bot is inside the (slow) resync: kill it there.
        wait_until(lambda: any(r["method"] == "POST" and "/resync" in r["path"] for r in sb.cb.requests)
                   or store_state(db) == "resyncing_invoice", timeout=10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert [p for p in sb.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"], "the write happened before the kill"
        store = JobStore(Connections(str(db)).get)
        assert store.get(1).state == "resyncing_invoice"

        sb.cb.faults.clear()
        proc = start_bot(env, tmp_path)
        wait_until(lambda: store.get(1).state == "verified", timeout=20)
        payments = [p for p in sb.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"]
        assert len(payments) == 1
        replies = [m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])]
        wait_until(lambda: any("Verified" in m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])), timeout=10)
        replies = [m["text"] for m in sb.slack.thread(CHANNEL, parent["ts"])]
        assert len([r for r in replies if "Recorded in QuickBooks" in r]) == 1
        assert len([r for r in replies if "resynced" in r]) == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
        sb.stop()
