"""Benchmark 4: a sweep of 300 applications against QuickBooks' limit of 500 requests/min per company.

The emulator enforces 10/s and 500/min (`QBOEmulator(limits=(10, 500))`); the bot uses its real
RateLimiter (integrations/http.py defaults) and its real JobRunner (4 workers). 300 clients, each with one
$80 invoice and a $20 credit memo; the sweep's plan is built in-process from the ClientView the picker would
show (workflow/sweep.py plan_client; the plan's reads are not part of this figure, as a single request's
picker reads are not), posted for approval in the fake Slack and approved through SweepService.approve.
Counted from the approval to the sweep's end: every QuickBooks /v3/ request. The baseline is the same sweep
with `bulk_reads=False` (one read per document, as before bulk reads), measured in the same run on a
fresh world; the result is the sweep as it runs now. Sync runs are fast here: this measures QuickBooks.

    python -m bench.throughput [--items 300] [--no-baseline]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal

from bench.rig import APPROVER, CHANNEL, Rig, add_client, machine, quiet, tmpdir
from data.events import EventKind
from data.states import BatchState
from messages.blocks.sweep import batch_message
from sandbox.run import APPROVER_2
from workflow.lookup import ClientView, CreditOption, InvoiceOption
from workflow.sweep import Plan, plan_client

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


def sweep(items: int, *, bulk: bool, timeout: float) -> dict:
    """One sweep of `items` applications on a fresh world; its figures."""
    chosen = clients(items)

    def build(ledger) -> None:
        for name, cid, first_id, doc_base in chosen:
            add_client(ledger, cid=cid, name=name, invoices=1, invoice_amount=Decimal("80.00"),
                       credit=Decimal("20.00"), first_id=first_id, doc_base=doc_base)

    rig = Rig(limits=LIMIT, build=build)
    try:
        bot = rig.start_bot(tmpdir("throughput") / "bot.db", settings={"sync_poll_seconds": 0.5})
        sweeps = bot.service.sweeps
        sweeps.bulk_reads = bulk
        plan = Plan()
        for name, cid, first_id, _ in chosen:
            plan.items += plan_client(view_for(rig, name, cid, first_id))
        for seq, item in enumerate(plan.items):
            item["seq"] = seq
        batch, _ = sweeps.plan(sweeps.claim(user_id=APPROVER_2, channel_id=CHANNEL), plan=plan)
        text, blocks = batch_message(batch, [])  # what handlers/sweep.py posts for approval
        posted = bot.slack.chat_postMessage(channel=CHANNEL, text=text, blocks=blocks)
        sweeps.batches.set_parent(batch.id, posted["ts"])
        q0 = len(rig.qbo.requests)
        started = time.monotonic()
        sweeps.approve(batch_id=batch.id, user_id=APPROVER, channel_id=CHANNEL, message_ts=posted["ts"])
        end = started + timeout
        while time.monotonic() < end and sweeps.batches.get(batch.id).state != BatchState.FINISHED:
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        jobs = bot.store.in_batch(batch.id)
        states = Counter(str(j.state) for j in jobs)
        events = [e for j in jobs for e in bot.store.events(j.id)]
        reads = Counter(f"{e.kind.removeprefix('quickbooks_')}:{e.details.get('read')}" for e in events
                        if e.kind in (EventKind.QUICKBOOKS_WRITE_STARTED, EventKind.QUICKBOOKS_BALANCE_CONFIRMED))
        reqs = [r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")]
    finally:
        rig.close()
    ok = [r["at"] for r in reqs if r["status"] != 429]
    span = (max(ok) - min(ok)) if len(ok) > 1 else 0.0
    low, high = windows(ok)
    kinds = Counter(f"{r['method']} {r['path'].split('/')[4]}" for r in reqs)
    return {"items": items, "bulk": bulk, "states": states, "elapsed": elapsed, "requests": len(reqs),
            "rejected": sum(1 for r in reqs if r["status"] == 429), "kinds": kinds, "reads": reads,
            "per_minute": len(ok) / span * 60 if span else 0.0, "window_low": low, "window_high": high,
            "full_window": span >= 60.0, "span": span}


def run(items: int = 300, timeout: float = 600.0, baseline: bool = True) -> dict:
    quiet()
    print(f"== 4. throughput: a sweep of {items} applications against QuickBooks' {LIMIT[1]}/min "
          "(emulator-enforced) ==")
    before = sweep(items, bulk=False, timeout=timeout) if baseline else None
    if before is not None:
        report("baseline (one read per document)", before)
    after = sweep(items, bulk=True, timeout=timeout)
    report("bulk reads (now)", after)
    per = after["requests"] / items
    print(f"   requests per application: {per:.2f} (target <= 1.5: {'met' if per <= 1.5 else 'MISSED'})"
          + (f"; ratio to the baseline {after['requests'] / before['requests']:.2f}, time "
             f"{after['elapsed'] / before['elapsed']:.2f}" if before else ""))
    return {"before": before, "after": after}


def report(label: str, f: dict) -> None:
    limit = LIMIT[1]
    failed = f["items"] - f["states"].get("verified", 0)
    print(f"   {label}: states {dict(f['states'])}; done in {f['elapsed']:.1f} s, of which QuickBooks "
          f"{f['span']:.1f} s (first to last request; then the one sync and verification)")
    print(f"     QuickBooks requests: {f['requests']} ({f['requests'] / f['items']:.2f} per application), "
          f"429 answers: {f['rejected']} (target 0: {'met' if f['rejected'] == 0 else 'MISSED'}); "
          f"failed items: {failed}")
    print(f"     detail: {', '.join(f'{k} x{n}' for k, n in sorted(f['kinds'].items()))}")
    print(f"     how items read (check / confirmation): {dict(sorted(f['reads'].items()))}")
    rate = f["per_minute"] / limit
    if f["full_window"]:
        print(f"     sustained rate: {f['per_minute']:.0f}/min = {rate:.2f} of the limit; any full 60 s window: "
              f"{f['window_low']}..{f['window_high']} requests = {f['window_low'] / limit:.2f}.."
              f"{f['window_high'] / limit:.2f} of the limit")
    else:
        print(f"     rate: {f['per_minute']:.0f}/min over {f['span']:.0f} s (no full 60 s window)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-read-per-document sweep")
    args = parser.parse_args(argv)
    print(machine())
    run(args.items, baseline=not args.no_baseline)


if __name__ == "__main__":
    main()
