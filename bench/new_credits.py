"""Benchmark 6: from a new credit in QuickBooks to its proposal in Slack.

1. Webhooks: a credit memo made in QuickBooks (the ledger, as its screens would), the emulator's signed webhook to
   the bot's `POST /quickbooks/webhooks` (no aggregation delay: Intuit's sandbox fires "near real time"), the time
   until the proposal's message is in the fake Slack; target 2 s. QuickBooks requests per detected credit, against
   the picker's for the same client (what a person opening /applycredit for it costs), measured in the same run.
2. CDC alone (webhooks off, as in Socket Mode), polling every P seconds: credits made at random moments of the
   interval; target P + 2 s.
3. A burst: 200 new credits (200 clients) in ONE delivery, the fake Slack enforcing Slack's documented rate tiers
   (chat.postMessage about 1 per second per channel): one proposal each, none twice, every refused call waited out.

    python -m bench.new_credits [--credits 10] [--poll 5] [--burst 200]
"""
from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

import requests

from bench.rig import Rig, add_client, machine, open_picker, pct, quiet, tmpdir
from sandbox.fake_slack import ratelimits
from sandbox.qbo_webhook_payload import WebhookEvent, cloudevents_body, sign
from sandbox.run import NOTIFY
from tests.scenarios.credits import TOKEN

CLIENTS = [(f"New Credit Client {n:03d}", str(30000 + n), 400000 + 10 * n, 800000 + 10 * n) for n in range(200)]


def build(ledger) -> None:
    for name, cid, first_id, doc_base in CLIENTS:
        add_client(ledger, cid=cid, name=name, invoices=1, invoice_amount=Decimal("90.00"), credit=Decimal("10.00"),
                   first_id=first_id, doc_base=doc_base)


def _start(rig: Rig, name: str, *, webhooks: bool, poll: float) -> None:
    extra = {"qbo_webhook_verifier_token": TOKEN} if webhooks else {}
    bot = rig.start_bot(tmpdir(name) / "bot.db", settings={"qbo_cdc_poll_seconds": poll, **extra})
    if webhooks:
        rig.qbo.webhooks.configure(url=rig.bot_url.replace("/slack/events", "/quickbooks/webhooks"),
                                   verifier_token=TOKEN)
    assert bot.watch.wait_ready(timeout=60)


def _posted(rig: Rig, number: str) -> bool:
    return any(f"#{number}" in str(m.get("blocks")) for m in rig.slack.messages(NOTIFY))


def _time_to_proposal(rig: Rig, customer: str, number: str, timeout: float) -> tuple[float, int]:
    """Seconds from the credit memo's creation to its proposal in Slack, and QuickBooks requests meanwhile."""
    q0 = len(rig.qbo.requests)
    start = time.monotonic()
    rig.qbo.ledger.create_credit_memo(customer, "25.00", txn_date="2026-11-20", doc_number=number)
    while not _posted(rig, number):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"no proposal for #{number} within {timeout} s")
        time.sleep(0.01)
    took = time.monotonic() - start
    time.sleep(0.3)  # let the pass that posted it finish its reads before counting
    return took, len([r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")])


def webhooks(credits: int) -> dict:
    rig = Rig(build=build)
    try:
        _start(rig, "webhooks", webhooks=True, poll=0)
        q0 = len(rig.qbo.requests)
        open_picker(rig, "U0BENCH01", CLIENTS[0][0])
        picker = len([r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")])
        figures = [_time_to_proposal(rig, CLIENTS[n][1], f"W{n}", 30) for n in range(credits)]
    finally:
        rig.close()
    times, reqs = [t for t, _ in figures], [r for _, r in figures]
    return {"p50": pct(times, 50), "max": max(times), "requests": reqs, "picker": picker}


def cdc(credits: int, poll: float) -> dict:
    rig = Rig(build=build)
    try:
        _start(rig, "cdc", webhooks=False, poll=poll)
        rng = random.Random(22)
        times = []
        for n in range(credits):
            time.sleep(rng.uniform(0, poll))
            times.append(_time_to_proposal(rig, CLIENTS[n][1], f"C{n}", poll + 30)[0])
    finally:
        rig.close()
    return {"p50": pct(times, 50), "max": max(times)}


def burst(count: int) -> dict:
    rig = Rig(build=build)
    # Slack's documented tiers (sandbox/fake_slack/ratelimits.py), switched on for this run only.
    rig.slack.rate_limits = ratelimits.resolve(True)
    rig.slack._limiter = ratelimits.RateLimiter(rig.slack.rate_limits, rig.slack.clock)
    try:
        _start(rig, "burst", webhooks=True, poll=0)
        url = rig.bot_url.replace("/slack/events", "/quickbooks/webhooks")
        answer = _answer_time(url, rig.qbo.realm_id, count)
        rig.qbo.webhooks.configure(url=url, verifier_token=TOKEN, delay=2.0)  # one aggregation window: one delivery
        q0, start = len(rig.qbo.requests), time.monotonic()
        for n in range(count):
            rig.qbo.ledger.create_credit_memo(CLIENTS[n][1], "25.00", txn_date="2026-11-20", doc_number=f"B{n}")
        deadline = start + 120 + 2 * count
        while len(_proposals(rig)) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        took = time.monotonic() - start
        time.sleep(3)  # anything posted twice would show now
        posted = _proposals(rig)
        batches = rig.bot.connections.get().execute("SELECT count(*), count(DISTINCT credit_key) FROM batches "
                                                    "WHERE kind = 'proposal'").fetchone()
        calls = rig.slack.call_log("chat.postMessage")
        return {"deliveries": len([d for d in rig.qbo.webhooks.deliveries if not d["redelivery"]]), "answer": answer,
                "posted": len(posted), "distinct": len({m["text"] for m in posted}), "batches": batches,
                "seconds": took, "ratelimited": rig.slack.ratelimited_counts(), "post_calls": len(calls),
                "qbo": len([r for r in rig.qbo.requests[q0:] if r["path"].startswith("/v3/")])}
    finally:
        rig.close()


def _answer_time(url: str, realm: str, count: int) -> float:
    """Seconds the bot takes to answer one signed delivery of `count` events (customers: stored, then ignored)."""
    events = [WebhookEvent(realm, "Customer", str(900000 + n), "Update", time.time()) for n in range(count)]
    body = cloudevents_body(events)
    start = time.monotonic()
    r = requests.post(url, data=body, headers={"intuit-signature": sign(TOKEN, body),
                                               "Content-Type": "application/cloudevents-batch+json"}, timeout=10)
    assert r.status_code == 200, r.status_code
    return time.monotonic() - start


def _proposals(rig: Rig) -> list[dict]:
    return [m for m in rig.slack.messages(NOTIFY) if "proposal #" in m.get("text", "")]


def run(credits: int = 10, poll: float = 5.0, burst_size: int = 200) -> dict:
    quiet()
    w = webhooks(credits)
    print(f"6. webhook → proposal ({credits} credits, one at a time): p50 {w['p50']:.2f} s, max {w['max']:.2f} s "
          f"= {w['max'] / 2.0:.2f} of the 2 s target; QuickBooks requests per credit {sorted(set(w['requests']))} "
          f"(the picker for the same client: {w['picker']}; ratio {max(w['requests']) / w['picker']:.2f})", flush=True)
    c = cdc(max(3, credits // 2), poll)
    print(f"6. CDC every {poll:g} s → proposal: p50 {c['p50']:.2f} s, max {c['max']:.2f} s = "
          f"{c['max'] / (poll + 2):.2f} of the P + 2 s target", flush=True)
    b = burst(burst_size)
    print(f"6. burst of {burst_size} in {b['deliveries']} delivery: {b['posted']} proposals posted "
          f"({b['distinct']} distinct; batches {b['batches'][0]}, credits {b['batches'][1]}) in {b['seconds']:.0f} s; "
          f"chat.postMessage calls {b['post_calls']}, 429s {b['ratelimited']} (each waited out as Retry-After "
          f"asked); QuickBooks requests {b['qbo']} = {b['qbo'] / burst_size:.2f} per credit; a signed delivery of "
          f"{burst_size} events answered in {b['answer'] * 1000:.0f} ms = {b['answer'] / 3:.3f} of Intuit's 3 s",
          flush=True)
    return {"webhooks": w, "cdc": c, "burst": b}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=10)
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    print(machine())
    run(args.credits, args.poll, args.burst)
