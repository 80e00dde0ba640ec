"""Benchmark 8: a month-end sweep of 300 credits through Slack, with the fake Slack enforcing Slack's documented
rate tiers at Slack's own speed and QuickBooks' emulator enforcing 10/s and 500/min.

The seed's 9 applications and 291 clients with one $80 invoice and a $20 credit memo each (bench/rig.py's
add_client), added before ConnectBooster's first sync. Everything goes the way a person's does: `/applycredit sweep`
(the plan is read by the bot: its QuickBooks requests count), Approve by a second approver, until the notice in the
finance channel. Counted: Slack's 429 answers and `chat.update` calls against the run's length (target: updates <=
duration / 2 + 10), the seconds from the last QuickBooks write to the notice (target <= 10 s), QuickBooks requests
per application including planning (target <= 1.3), the largest message's block text, and the process's resident
memory (the bot and the three fakes share it) before and during the sweep. The baseline is the same sweep on a
fresh world by a bot that does not pace itself (its pacer 10^6 times faster, no 2.5 s between a message's updates),
measured in the same run; the result is the bot as it runs.

    python -m bench.volume [--no-baseline]
"""
from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from decimal import Decimal

from bench.rig import APPROVER, CHANNEL, Rig, add_client, machine, quiet, tmpdir
from data.states import BatchState
from sandbox.run import APPROVER_2, NOTIFY

LIMIT = (10, 500)
EXTRA = 291
UNPACED = {"slack_pace_scale": 1e6, "slack_progress_seconds": 0.0}


def build(ledger) -> None:
    for n in range(EXTRA):
        add_client(ledger, cid=str(9500 + n), name=f"Month-End Client {n:03d}", invoices=1,
                   invoice_amount=Decimal("80.00"), credit=Decimal("20.00"), first_id=500000 + 10 * n,
                   doc_base=700000 + 10 * n)


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


class Sampler:
    """The highest VmRSS seen every 0.2 s while it runs."""

    def __init__(self) -> None:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_kb())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_kb())


def sweep(*, paced: bool, timeout: float) -> dict:
    rig = Rig(limits=LIMIT, build=build)
    try:
        bot = rig.start_bot(tmpdir("volume") / "bot.db", settings={"sync_poll_seconds": 0.5},
                            **({} if paced else UNPACED))
        idle = rss_kb()
        sampler = Sampler()
        q0, s0 = len(rig.qbo.requests), len(rig.slack.call_log())
        rig.driver.command(APPROVER_2, CHANNEL, "sweep")
        message = rig.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if m.get("text", "").startswith(
            "Sweep #")], timeout=120)[-1]
        batches = bot.service.sweeps.batches
        rig.slack.wait_for(lambda s: (b := batches.get(1)) is not None and b.parent_ts == message["ts"], timeout=60)
        planned = len(rig.qbo.requests) - q0
        started = time.monotonic()
        rig.driver.click(APPROVER, "sweep_approve", source=message)
        end = started + timeout
        while time.monotonic() < end and batches.get(1).state != BatchState.FINISHED:
            time.sleep(0.1)
        finished = time.monotonic()
        notice = None
        while notice is None and time.monotonic() < end + 120:
            notice = next((c for c in rig.slack.call_log("chat.postMessage") if c["channel"] == NOTIFY and c["ok"]),
                          None)
            time.sleep(0.05)
        peak = sampler.stop()
        states = Counter(str(j.state) for j in bot.store.in_batch(1))
        reqs = [r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")]
        writes = [r["at"] for r in reqs if r["method"] == "POST" and r["path"].endswith("/payment")
                  and r["status"] < 400]
        calls = rig.slack.call_log()[s0:]
        updates = [c["at"] for c in calls if c["method"] == "chat.update"]
        limited = rig.slack.ratelimited_counts()
    finally:
        rig.close()
    first = min(c["at"] for c in calls)
    last = max(c["at"] for c in calls)
    return {"states": states, "items": sum(states.values()), "planning": planned, "requests": len(reqs),
            "writes": len(writes), "qbo_429": sum(1 for r in reqs if r["status"] == 429),
            "slack_429": sum(limited.values()), "limited": limited, "updates": len(updates),
            "slack_seconds": last - first, "run_seconds": finished - started,
            "notice_after_write": (notice["at"] - max(writes)) if notice and writes else None,
            "largest": max((c["blocks_text"] or 0) for c in calls), "idle_mb": idle / 1024, "peak_mb": peak / 1024}


def report(label: str, f: dict) -> None:
    print(f"   {label}: {f['items']} applications, states {dict(f['states'])}; approval to finished "
          f"{f['run_seconds']:.1f} s; one QuickBooks payment per application: {f['writes']}")
    budget = f["slack_seconds"] / 2 + 10
    print(f"     Slack: 429 answers {f['slack_429']} {dict(f['limited']) or ''} (target 0: "
          f"{'met' if f['slack_429'] == 0 else 'MISSED'}); chat.update {f['updates']} over {f['slack_seconds']:.0f} s "
          f"(target <= {budget:.0f}: {'met' if f['updates'] <= budget else 'MISSED'}); largest message "
          f"{f['largest']:,} characters of block text (< 10,000: {'met' if f['largest'] < 10_000 else 'MISSED'})")
    gap = f["notice_after_write"]
    print(f"     notice {'never came' if gap is None else f'{gap:.1f} s'} after the last QuickBooks write (target <= "
          f"10 s: {'met' if gap is not None and gap <= 10 else 'MISSED'})")
    per = f["requests"] / max(1, f["items"])
    print(f"     QuickBooks: {f['requests']} requests = {per:.2f} per application including planning "
          f"({f['planning']} to plan; target <= 1.3: {'met' if per <= 1.3 else 'MISSED'}); 429 answers {f['qbo_429']}")
    print(f"     resident memory (the bot and the three fakes in one process): {f['idle_mb']:.0f} MB before, "
          f"peak {f['peak_mb']:.0f} MB during ({f['peak_mb'] / f['idle_mb']:.2f})")


def run(timeout: float = 900.0, baseline: bool = True) -> dict:
    quiet()
    print("== 8. a month-end sweep of 300 credits through Slack (Slack's tiers at Slack's speed; QuickBooks "
          f"{LIMIT[0]}/s, {LIMIT[1]}/min) ==")
    before = sweep(paced=False, timeout=timeout) if baseline else None
    if before is not None:
        report("baseline (the bot not pacing itself)", before)
    after = sweep(paced=True, timeout=timeout)
    report("the bot as it runs", after)
    if before is not None:
        print(f"   ratios to the baseline: 429 answers {after['slack_429']}/{before['slack_429']}, chat.update "
              f"{after['updates'] / max(1, before['updates']):.2f}, approval to finished "
              f"{after['run_seconds'] / before['run_seconds']:.2f}")
    return {"before": before, "after": after}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip the sweep by a bot that does not pace")
    args = parser.parse_args(argv)
    print(machine())
    run(baseline=not args.no_baseline)


if __name__ == "__main__":
    main()
