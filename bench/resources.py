"""Benchmark 5: the bot's resident memory (idle, and running 50 jobs) and its CPU while jobs wait on a sync.

The bot runs as a real subprocess (`bot.py run`, HTTP mode, as tests/scenarios/test_crash.py starts it);
figures come from /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/stat (utime + stime). Baselines in the
same run: an idle `python -c 'import time; time.sleep(...)'` process, and the budgets (120 MB, 200 MB).
The 50 applications go through the real Slack path (command, picker, submit, approve) against a sync
that takes two minutes, so that every job ends up waiting on it; CPU is then read over WINDOW seconds.

    python -m bench.resources [--jobs 50] [--window 20]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import requests

from bench.rig import APPROVER, CHANNEL, Rig, add_client, machine, open_picker, quiet, tmpdir
from data.db import Connections
from data.jobs import JobStore
from sandbox import seed
from sandbox.cb_emulator import SyncTiming
from sandbox.run import APPROVER_2, NOTIFY, QBO_CLIENT_ID, QBO_CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[1]
BUDGET_IDLE_MB, BUDGET_BUSY_MB = 120, 200
LONG_SYNC = SyncTiming(to_active=1.0, psa_seconds=60.0, accounting_seconds=60.0, resync_seconds=1.0)
TICK = os.sysconf("SC_CLK_TCK")


def status_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    rest = stat[stat.rindex(")") + 2:].split()  # the command name may hold spaces
    return (int(rest[11]) + int(rest[12])) / TICK  # utime, stime (fields 14, 15)


def cpu_over(pid: int, seconds: float) -> float:
    """Fraction of one core used over `seconds`."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(rig: Rig, db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": "xoxb-sandbox",
           "SLACK_SIGNING_SECRET": rig.signing_secret, "SLACK_API_URL": rig.slack_api, "PORT": str(port),
           "QBO_CLIENT_ID": QBO_CLIENT_ID, "QBO_CLIENT_SECRET": QBO_CLIENT_SECRET,
           "QBO_ENVIRONMENT": rig.qbo.discovery_url, "QBO_REALM_ID": seed.REALM_ID,
           "QBO_REFRESH_TOKEN": rig.qbo.mint_tokens()["refresh_token"], "QBO_API_BASE_URL": rig.qbo.base_url,
           "CONNECTBOOSTER_BASE_URL": rig.cb.base_url, "CONNECTBOOSTER_API_KEY": rig.cb.api_key,
           "APPROVER_IDS": f"{APPROVER},{APPROVER_2}", "NOTIFY_CHANNEL": NOTIFY, "DATABASE_PATH": str(db),
           "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], env=env, cwd=db.parent,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the bot exited with {proc.returncode}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/slack/events"
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the bot did not become healthy in 30 s")


def run(jobs: int = 50, window: float = 20.0) -> dict:
    quiet()
    names = [(f"Resource Client {i:02d}", str(9600 + i), 400000 + 10 * i, 900000 + 10 * i) for i in range(jobs)]

    def build(ledger) -> None:
        for name, cid, first_id, doc_base in names:
            add_client(ledger, cid=cid, name=name, invoices=1, invoice_amount=Decimal("70.00"),
                       credit=Decimal("15.00"), first_id=first_id, doc_base=doc_base)

    rig = Rig(timing=LONG_SYNC, build=build)
    db = tmpdir("resources") / "bot.db"
    idle_py = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    proc = None
    try:
        proc, url = start_bot(rig, db)
        from sandbox.slack_driver import SlackDriver

        rig.driver = SlackDriver(bot_url=url, signing_secret=rig.signing_secret, slack=rig.slack)
        time.sleep(3)
        idle = status_mb(proc.pid)
        python = status_mb(idle_py.pid)
        idle_cpu = cpu_over(proc.pid, 5)
        python_cpu = cpu_seconds(idle_py.pid)  # an idle interpreter's whole life, start-up included
        store = JobStore(Connections(str(db)).get)
        peak_rss = 0.0
        for n, (name, *_rest) in enumerate(names):
            user = f"U0RES{n:03d}"
            view = open_picker(rig, user, name)
            body = rig.driver.submit_view(user, view, {}).json() or {}
            job_id = int(str(body["view"]["blocks"]).split("Request #")[1].split(" ")[0])
            parent = rig.slack.wait_for(lambda s, job_id=job_id: (j := store.get(job_id)) is not None and j.parent_ts
                                        and rig.slack.message(CHANNEL, j.parent_ts), timeout=20)
            rig.driver.click(APPROVER, "approve", source=parent)
            peak_rss = max(peak_rss, status_mb(proc.pid)["VmRSS"])
        end = time.monotonic() + 120
        while time.monotonic() < end:
            states = [j.state for j in store.in_states(["syncing"])]
            peak_rss = max(peak_rss, status_mb(proc.pid)["VmRSS"])
            if len(states) >= jobs:
                break
            time.sleep(0.2)
        syncing = len(store.in_states(["syncing"]))
        waiting_cpu = cpu_over(proc.pid, window)
        busy = status_mb(proc.pid)
        still = len(store.in_states(["syncing"]))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)
        idle_py.kill()
        rig.close()
    figures = {"idle": idle, "python": python, "busy": busy, "peak_rss": max(peak_rss, busy["VmRSS"]),
               "idle_cpu": idle_cpu, "waiting_cpu": waiting_cpu, "python_cpu": python_cpu, "jobs": jobs,
               "syncing": syncing, "still": still, "window": window}
    report(figures)
    return figures


def report(f: dict) -> None:
    idle, busy, py = f["idle"], f["busy"], f["python"]
    print("== 5. resources of the bot process ==")
    print(f"   idle python baseline: VmRSS {py['VmRSS']:.1f} MB")
    print(f"   idle bot            : VmRSS {idle['VmRSS']:.1f} MB = {idle['VmRSS'] / BUDGET_IDLE_MB:.2f} of "
          f"{BUDGET_IDLE_MB} MB ({'met' if idle['VmRSS'] <= BUDGET_IDLE_MB else 'MISSED'}), "
          f"{idle['VmRSS'] / py['VmRSS']:.1f}x an idle interpreter")
    print(f"   running {f['jobs']} jobs    : peak VmRSS {f['peak_rss']:.1f} MB, VmHWM {busy['VmHWM']:.1f} MB = "
          f"{busy['VmHWM'] / BUDGET_BUSY_MB:.2f} of {BUDGET_BUSY_MB} MB "
          f"({'met' if busy['VmHWM'] <= BUDGET_BUSY_MB else 'MISSED'})")
    print(f"   CPU idle bot        : {f['idle_cpu'] * 100:.2f} % of a core (5 s window)")
    print(f"   CPU waiting on sync : {f['waiting_cpu'] * 100:.2f} % of a core over {f['window']:g} s with "
          f"{f['syncing']} jobs syncing ({f['still']} still syncing at the end); an idle interpreter used "
          f"{f['python_cpu']:.2f} s of CPU in its whole life")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args(argv)
    print(machine())
    run(args.jobs, args.window)


if __name__ == "__main__":
    main()
