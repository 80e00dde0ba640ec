"""Benchmark 3: requests per credit application, counted at the emulators (qbo.requests, cb.requests).

Counted: every request from the signed /applycredit to the job's `verified` state, through the real Slack
path (command, picker, submit, approve), with a realistic 25 s ConnectBooster sync and the bot's default
3 s poll interval. QuickBooks token requests (the OAuth endpoint) are counted separately; ConnectBooster
sync polls (GET /syncs/{id}) and resync polls (GET /entity-resyncs/{id}) are shown apart from the rest.
Then JOBS applications approved together, all waiting on one sync: one poller, polls shared.

    python -m bench.budget [--jobs 5]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal

from bench.rig import Rig, add_client, approve, machine, quiet, request, tmpdir, wait_states
from sandbox.cb_emulator import SyncTiming

BUDGET = {"qbo": 7, "cb": 6, "polls": 12}
TIMING = SyncTiming(to_active=1.0, psa_seconds=12.0, accounting_seconds=12.0, resync_seconds=1.0)  # 25 s
CLIENTS = [(f"Budget Client {chr(65 + n)}", str(9100 + n), 220000 + 10 * n, 700000 + 10 * n) for n in range(12)]


def build(ledger) -> None:
    for name, cid, first_id, doc_base in CLIENTS:
        add_client(ledger, cid=cid, name=name, invoices=2, invoice_amount=Decimal("90.00"), credit=Decimal("30.00"),
                   first_id=first_id, doc_base=doc_base)


def kind(req: dict) -> str:
    path = req["path"]
    if path.startswith("/syncs/"):
        return "sync poll"
    if path.startswith("/entity-resyncs/"):
        return "resync poll"
    return "other"


def counted(rig: Rig, q0: int, c0: int, t0: int) -> dict:
    qbo = [r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")]
    cb = rig.cb.requests[c0:]
    kinds = Counter(kind(r) for r in cb)
    return {"qbo": len(qbo), "qbo_detail": Counter(f"{r['method']} {r['path'].split('/')[-1]}" for r in qbo),
            "tokens": len(rig.qbo.token_requests) - t0, "cb": kinds["other"], "sync_polls": kinds["sync poll"],
            "resync_polls": kinds["resync poll"],
            "cb_detail": Counter(f"{r['method']} "
                                 f"{'/'.join(p if not p.isdigit() else '{id}' for p in r['path'].split('/'))}"
                                 for r in cb)}


def run(jobs: int = 5) -> dict:
    quiet()
    rig = Rig(timing=TIMING, build=build)
    try:
        rig.start_bot(tmpdir("budget") / "bot.db")
        marks = len(rig.qbo.requests), len(rig.cb.requests), len(rig.qbo.token_requests)
        started = time.monotonic()
        job = request(rig, "U0BUDGET0", CLIENTS[0][0])
        at_approval = len(rig.qbo.requests), len(rig.cb.requests), len(rig.qbo.token_requests)
        approve(rig, job)
        state = wait_states(rig, [job], ("verified", "needs_attention", "stale"), timeout=120)[job]
        one = {**counted(rig, *marks), "state": state, "seconds": time.monotonic() - started,
               "from_approval": counted(rig, *at_approval)}

        marks = len(rig.qbo.requests), len(rig.cb.requests), len(rig.qbo.token_requests)
        polls0, runs0 = rig.bot.runner.half.sync.polls, rig.bot.runner.half.sync.pollers
        ids = []
        for n in range(1, jobs + 1):
            time.sleep(1.1)  # one picker at a time: the limiter's 9/s is not what this counts
            ids.append(request(rig, f"U0BUDGET{n}", CLIENTS[n][0]))
        for job_id in ids:  # approved within a second: all of them wait on one sync
            approve(rig, job_id)
        states = wait_states(rig, ids, ("verified", "needs_attention", "stale"), timeout=180)
        many = {**counted(rig, *marks), "states": Counter(states.values()), "jobs": jobs,
                "pollers": rig.bot.runner.half.sync.pollers - runs0,
                "coordinator_polls": rig.bot.runner.half.sync.polls - polls0,
                "syncs": len({rig.bot.store.get(j).sync_id for j in ids})}
    finally:
        rig.close()
    report(one, many)
    return {"one": one, "many": many}


def report(one: dict, many: dict) -> None:
    ok = lambda got, limit: "met" if got <= limit else "MISSED"  # noqa: E731
    print("== 3. request budget per credit application (command -> verified, 25 s sync, 3 s poll) ==")
    print(f"   one application ({one['state']} in {one['seconds']:.1f} s):")
    print(f"     QuickBooks     : {one['qbo']} requests = {one['qbo'] / BUDGET['qbo']:.2f} of the budget of "
          f"{BUDGET['qbo']} ({ok(one['qbo'], BUDGET['qbo'])}); token requests {one['tokens']} (separate)")
    print(f"     ConnectBooster : {one['cb']} requests = {one['cb'] / BUDGET['cb']:.2f} of the budget of "
          f"{BUDGET['cb']} ({ok(one['cb'], BUDGET['cb'])}), plus {one['resync_polls']} resync poll(s)")
    print(f"     sync polls     : {one['sync_polls']} = {one['sync_polls'] / BUDGET['polls']:.2f} of the budget of "
          f"{BUDGET['polls']} ({ok(one['sync_polls'], BUDGET['polls'])})")
    a = one["from_approval"]
    print(f"     of which from the approval click on: QuickBooks {a['qbo']}, ConnectBooster {a['cb']} "
          f"+ {a['resync_polls']} resync poll(s) + {a['sync_polls']} sync polls (the rest are the picker's reads)")
    print("     QuickBooks detail    : " + ", ".join(f"{k} x{v}" for k, v in sorted(one["qbo_detail"].items())))
    print("     ConnectBooster detail: " + ", ".join(f"{k} x{v}" for k, v in sorted(one["cb_detail"].items())))
    n = many["jobs"]
    print(f"   {n} applications approved together ({dict(many['states'])}), {many['syncs']} sync run(s), "
          f"{many['pollers']} poller(s):")
    print(f"     per application: QuickBooks {many['qbo'] / n:.1f}, ConnectBooster {many['cb'] / n:.1f} "
          f"+ {many['resync_polls'] / n:.1f} resync polls; sync polls in all {many['sync_polls']} "
          f"({ok(many['sync_polls'], BUDGET['polls'])} for the shared sync)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args(argv)
    print(machine())
    run(args.jobs)


if __name__ == "__main__":
    main()
