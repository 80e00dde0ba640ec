"""Benchmark 4: 300 approved jobs against QuickBooks' limit of 500 requests/min per company (the emulator's).

The emulator enforces 10/s and 500/min (`QBOEmulator(limits=(10, 500))`); the bot uses its real
RateLimiter (integrations/http.py defaults) and its real JobRunner (4 workers). Jobs are created through
CreditService.request (the picker's reads are not part of this figure) with the ClientView the picker
would have shown, built from the emulators' state; each is approved through CreditService.approve once
its approval message is in the fake Slack, all at once. Sync runs are fast here: this measures QuickBooks.

    python -m bench.throughput [--jobs 300]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal

from bench.rig import APPROVER, CHANNEL, REQUESTER, Rig, add_client, machine, quiet, tmpdir, wait_states
from workflow.lookup import ClientView, CreditOption, InvoiceOption

LIMIT = (10, 500)
FIRST_ID, DOC_BASE = 300000, 800000


def clients(n: int) -> list[tuple[str, str, int, int]]:
    return [(f"Throughput Client {i:03d}", str(9300 + i), FIRST_ID + 10 * i, DOC_BASE + 10 * i) for i in range(n)]


def view_for(rig: Rig, name: str, cid: str, first_id: int) -> ClientView:
    """What the picker shows for this client, read from the emulators in-process (no requests)."""
    snap = rig.cb.snapshot()
    org = next(o for o in snap["organizations"] if o["name"] == name)
    ref = lambda rec: rec["external_refs"][0]["id"] if rec["external_refs"] else None  # noqa: E731
    cb_credit = next(c for c in snap["credits"] if c["organization_id"] == org["id"])
    cb_invoice = next(i for i in snap["invoices"] if ref(i) == str(first_id))
    memo, invoice = rig.qbo.ledger.get("CreditMemo", str(first_id + 1)), rig.qbo.ledger.get("Invoice", str(first_id))
    credit = CreditOption(key=f"credit_memo:{memo['Id']}", kind="credit_memo", qbo_id=memo["Id"],
                          number=memo["DocNumber"], date=memo["TxnDate"],
                          remaining=Decimal(str(memo["RemainingCredit"])),
                          cb_id=cb_credit["id"], cb_remaining=Decimal(cb_credit["remaining_amount"]))
    inv = InvoiceOption(qbo_id=invoice["Id"], number=invoice["DocNumber"], date=invoice["TxnDate"],
                        due_date=invoice["DueDate"], total=Decimal(str(invoice["TotalAmt"])),
                        balance=Decimal(str(invoice["Balance"])), cb_id=cb_invoice["id"],
                        cb_balance=Decimal(cb_invoice["balance"]))
    return ClientView(org_id=org["id"], name=name, qbo_customer_id=cid, credits=[credit], invoices=[inv])


def windows(times: list[float], width: float = 60.0) -> tuple[int, int]:
    """(fewest, most) requests in any `width`-second window that lies inside the run."""
    times = sorted(times)
    if not times or times[-1] - times[0] < width:
        return len(times), len(times)
    counts, j = [], 0
    for i, t in enumerate(times):
        if t + width > times[-1]:
            break
        while j < len(times) and times[j] < t + width:
            j += 1
        counts.append(j - i)
    return min(counts), max(counts)


def run(jobs: int = 300, timeout: float = 600.0) -> dict:
    quiet()
    chosen = clients(jobs)

    def build(ledger) -> None:
        for name, cid, first_id, doc_base in chosen:
            add_client(ledger, cid=cid, name=name, invoices=1, invoice_amount=Decimal("80.00"),
                       credit=Decimal("20.00"), first_id=first_id, doc_base=doc_base)

    rig = Rig(limits=LIMIT, build=build)
    try:
        bot = rig.start_bot(tmpdir("throughput") / "bot.db", settings={"sync_poll_seconds": 0.5})
        ids = []
        for name, cid, first_id, _ in chosen:
            job = bot.service.request(client=view_for(rig, name, cid, first_id), user_id=REQUESTER,
                                      channel_id=CHANNEL, credit=f"credit_memo:{first_id + 1}",
                                      invoice=str(first_id), amount="20.00", note=None)
            bot.service.runner.publish(job)  # what the picker's submit does: the approval message
            ids.append(job.id)
        rig.slack.wait_for(lambda s: all(bot.store.get(j).parent_ts for j in ids), timeout=120)
        q0 = len(rig.qbo.requests)
        started = time.monotonic()
        refused = [j for j in ids if not bot.service.approve(job_id=j, user_id=APPROVER, channel_id=CHANNEL,
                                                             message_ts=bot.store.get(j).parent_ts).ok]
        states = wait_states(rig, ids, ("verified", "needs_attention", "stale"), timeout=timeout)
        elapsed = time.monotonic() - started
        reqs = [r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")]
    finally:
        rig.close()
    ok = [r["at"] for r in reqs if r["status"] != 429]
    span = (max(ok) - min(ok)) if len(ok) > 1 else 0.0
    low, high = windows(ok)
    figures = {"jobs": jobs, "refused": len(refused), "states": Counter(states.values()), "elapsed": elapsed,
               "requests": len(reqs), "rejected": sum(1 for r in reqs if r["status"] == 429),
               "per_minute": len(ok) / span * 60 if span else 0.0, "window_low": low, "window_high": high}
    report(figures)
    return figures


def report(f: dict) -> None:
    limit = LIMIT[1]
    rate = f["per_minute"] / limit
    failed = f["jobs"] - f["states"].get("verified", 0)
    print(f"== 4. throughput: {f['jobs']} approved jobs against QuickBooks' {limit}/min (emulator-enforced) ==")
    print(f"   states: {dict(f['states'])}; approvals refused: {f['refused']}; all done in {f['elapsed']:.1f} s")
    print(f"   QuickBooks requests: {f['requests']} ({f['requests'] / f['jobs']:.2f} per job), 429 answers: "
          f"{f['rejected']} (target 0: {'met' if f['rejected'] == 0 else 'MISSED'})")
    print(f"   sustained rate: {f['per_minute']:.0f}/min = {rate:.2f} of the limit (target >= 0.90: "
          f"{'met' if rate >= 0.9 else 'MISSED'}); any full 60 s window: {f['window_low']}..{f['window_high']} "
          f"requests = {f['window_low'] / limit:.2f}..{f['window_high'] / limit:.2f} of the limit")
    print(f"   failed jobs: {failed} (target 0: {'met' if failed == 0 else 'MISSED'})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args(argv)
    print(machine())
    run(args.jobs)


if __name__ == "__main__":
    main()
