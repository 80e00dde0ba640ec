"""Shared helpers for the reliability suite: a real bot subprocess, worlds with extra clients, figures.

The subprocess helpers (free_port, bot_env, start_bot, store_state) are also used by tests/scenarios/test_crash.py.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

from data.db import Connections
from data.jobs import JobStore
from sandbox import seed
from sandbox.run import APPROVER, APPROVER_2, CHANNEL, NOTIFY, QBO_CLIENT_ID, QBO_CLIENT_SECRET, REQUESTER, Sandbox
from sandbox.slack_driver import SlackDriver
from tests.reliability import zygote
from tests.scenarios.world import SLACK_SCALE, wait_until

ROOT = Path(__file__).resolve().parents[2]
STEP_REPLIES = ("Approved by", "Recorded in QuickBooks", "resynced:", "requested from", "Verified:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_env(sb: Sandbox, db: Path, port: int, **extra: str) -> dict:
    """The environment of a real `bot.py run` against the sandbox's fakes."""
    env = {
        "PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": sb.signing_secret,
        "SLACK_API_URL": sb.slack_api, "PORT": str(port), "QBO_CLIENT_ID": QBO_CLIENT_ID,
        "QBO_CLIENT_SECRET": QBO_CLIENT_SECRET, "QBO_ENVIRONMENT": sb.qbo.discovery_url, "QBO_REALM_ID": seed.REALM_ID,
        "QBO_REFRESH_TOKEN": sb.qbo.mint_tokens()["refresh_token"], "QBO_API_BASE_URL": sb.qbo.base_url,
        "CONNECTBOOSTER_BASE_URL": sb.cb.base_url, "CONNECTBOOSTER_API_KEY": sb.cb.api_key,
        "APPROVER_IDS": f"{APPROVER},{APPROVER_2}", "NOTIFY_CHANNEL": NOTIFY, "DATABASE_PATH": str(db),
        "SYNC_POLL_SECONDS": "0.05", "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def store_state(db: Path, job_id: int = 1) -> str | None:
    job = JobStore(Connections(str(db)).get).get(job_id) if db.exists() else None
    return job.state if job else None


def start_bot(env: dict, cwd: Path, log: Path | None = None, *, fresh: bool = False) -> subprocess.Popen | zygote.Forked:
    """`bot.py run` as its own process (forked from a warm interpreter: tests/reliability/zygote.py; `fresh`: a new
    `python bot.py run` interpreter, exactly as deployed); returns once /healthz answers. Output goes to `log`
    (appended), by default cwd/bot-output.log."""
    log = log or cwd / "bot-output.log"
    if fresh or zygote.FRESH:
        with open(log, "ab") as out:
            proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], env=env, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    else:
        proc = zygote.spawn(env, cwd, log)
    url = f"http://127.0.0.1:{env['PORT']}/healthz"

    def healthy():
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            return requests.get(url, timeout=0.5).status_code == 200
        except requests.RequestException:  # not listening yet, or too busy starting to answer in time
            return False

    try:
        wait_until(healthy, timeout=60)  # a loaded machine can take long to import and start
    except BaseException:
        kill(proc)  # never leave a bot running behind a failed start
        raise
    return proc


def kill(proc: subprocess.Popen | zygote.Forked) -> None:
    """SIGKILL: no handler, no flush, no clean shutdown."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


class ProcessBot:
    """A sandbox plus a real bot process on one database, killable and restartable. The fake Slack keeps Slack's
    rate tiers, SLACK_SCALE times faster, and so does the bot's pacer (tests/reliability/zygote.py), as in a World."""

    def __init__(self, tmp_path: Path, *, prepare=None, **env: str) -> None:
        self.sb = Sandbox(fast=True, prepare=prepare, slack_scale=SLACK_SCALE)
        self.qbo, self.cb, self.slack = self.sb.qbo, self.sb.cb, self.sb.slack
        self.tmp, self.db, self.log = tmp_path, tmp_path / "bot.db", tmp_path / "bot.log"
        self.env = bot_env(self.sb, self.db, free_port(), TEST_SLACK_SCALE=str(SLACK_SCALE), **env)
        self.driver = SlackDriver(bot_url=f"http://127.0.0.1:{self.env['PORT']}/slack/events",
                                  signing_secret=self.sb.signing_secret, slack=self.slack)
        self.proc = start_bot(self.env, tmp_path, self.log)
        self.store = JobStore(Connections(str(self.db)).get)
        self.kills = 0

    def kill(self) -> None:
        kill(self.proc)
        self.kills += 1

    def restart(self) -> None:
        kill(self.proc)
        self.proc = start_bot(self.env, self.tmp, self.log)

    def close(self) -> None:
        kill(self.proc)
        self.sb.stop()

    def request(self, text: str = "Atomar's Best Tackle", invoice: str = "10040", amount: str = "10",
                recorded: bool = True) -> dict:
        """Open the picker, submit, wait for the approval message (and, if `recorded`, for the bot to have stored
        its ts); returns it."""
        before = len(self.slack.messages(CHANNEL))
        self.driver.command(REQUESTER, CHANNEL, text)
        view = self.slack.wait_for(lambda s: (v := s.views(REQUESTER)["modals"]) and "Looking up" not in str(v[-1])
                                   and v[-1], timeout=10)
        block = next(b for b in view["blocks"] if b.get("block_id") == "invoice")
        option = next(o for o in block["element"]["options"] if o["text"]["text"].startswith(f"{invoice} "))
        self.driver.submit_view(REQUESTER, view, {
            "invoice": {"invoice": {"type": "static_select", "selected_option": option}},
            "amount": {"amount": {"type": "plain_text_input", "value": amount}}})
        message = self.slack.wait_for(lambda s: len(s.messages(CHANNEL)) > before and s.messages(CHANNEL)[-1], 10)
        if not recorded:
            return message
        # Buttons are checked against the message the bot recorded (World.request waits the same way): a click in
        # the instant between Slack showing the message and the bot storing its ts is refused, and the kill
        # points would then wait for an approval that never came.
        self.slack.wait_for(lambda s: any(j.parent_ts == message["ts"] for j in self.store.all()), 10)
        return message

    def state(self, job_id: int = 1) -> str | None:
        job = self.store.get(job_id)
        return job.state if job else None


def bot_payments(ledger) -> list[dict]:
    """Payments the bot wrote (its note names the job)."""
    return [p for p in ledger.list("Payment") if "applycredit job" in (p.get("PrivateNote") or "")]


def payments_per_job(ledger) -> dict[int, int]:
    counts: dict[int, int] = {}
    for p in bot_payments(ledger):
        job = int(re.search(r"applycredit job (\d+)", p["PrivateNote"]).group(1))
        counts[job] = counts.get(job, 0) + 1
    return counts


def step_counts(texts: list[str]) -> dict[str, int]:
    """How many thread replies carry each step's words (each step must appear exactly once)."""
    return {step: sum(1 for t in texts if step in t) for step in STEP_REPLIES}


def assert_clean_thread(texts: list[str], in_flight_at_crash: int = 0) -> None:
    """Every step once; no reply text repeated (a duplicated progress line is a duplicated step).

    The one exception is a reply that was in flight when the process was killed (the outbox flags it):
    Slack may have taken it before the bot could note it, and it is sent again rather than risk losing it.
    """
    counts = step_counts(texts)
    assert all(n >= 1 for n in counts.values()), (counts, texts)
    repeats = sum(n - 1 for n in counts.values()) + (len(texts) - len(set(texts)))
    assert repeats <= 2 * in_flight_at_crash, (counts, in_flight_at_crash, texts)


def wait_all(predicate, timeout: float = 20.0, interval: float = 0.05):
    """wait_until with a longer default, for load tests."""
    return wait_until(predicate, timeout=timeout, interval=interval)




def retry_until(world, job_id: int, *, user: str = APPROVER, attempts: int = 6, timeout: float = 15) -> int:
    """Click the thread's Retry / Sync again until the job is verified; returns how many clicks it took."""
    clicks = 0
    while True:
        job = world.wait_state(job_id, "verified", "needs_attention", timeout=timeout)
        if job.state == "verified":
            return clicks
        assert clicks < attempts, f"still {job.state} after {clicks} retries: {job.error}"
        reply = world.slack.wait_for(lambda s, job=job: [m for m in s.thread(job.channel_id, job.parent_ts)
                                                         if "job_retry" in str(m.get("blocks"))], timeout=10)[-1]
        retries = sum(1 for e in world.bot.store.events(job_id) if e.kind == "retry")
        world.driver.click(user, "job_retry", source=reply)
        clicks += 1
        world.slack.wait_for(lambda s, before=retries: sum(1 for e in world.bot.store.events(job_id)
                                                           if e.kind == "retry") > before, timeout=10)


def ledger_figures(world, jobs: list[int]) -> dict:
    """payments / duplicates / lost for a set of jobs (lost: not verified)."""
    per_job = payments_per_job(world.qbo.ledger)
    return {"jobs": len(jobs), "payments": sum(per_job.values()),
            "duplicates": sum(n - 1 for n in per_job.values()),
            "lost": sum(1 for j in jobs if world.job(j).state != "verified")}


def new_request(world, text: str = "Atomar's Best Tackle", user: str = REQUESTER, **choices) -> int:
    """world.request after closing the user's open modals (else the last request's view is taken for the new one)."""
    for view in world.slack.views(user)["modals"]:
        world.slack.close_view(user, view["id"])
    return world.request(text, user=user, **choices)


def at_once(calls) -> list:
    """Run the callables together (a barrier releases them at the same instant); returns their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
