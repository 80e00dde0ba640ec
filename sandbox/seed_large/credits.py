"""The open credits (about 300, both kinds, spread unevenly) and the records ConnectBooster must lag behind on.

Credit memos with credit left and payments with an unapplied amount, placed so the awkward cases exist:
several credits on one client, credits larger than the client's oldest open invoice, clients with a credit and
no open invoice (clients who left; parents whose invoices all belong to their branches), credit memos already
partly used.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sandbox.seed_large.history import CUTOFF, MEMO_NOTES, MONTHS, cents
from sandbox.seed_large.model import Client, Invoice, Memo, Payment, pay

OPEN_MEMOS, UNAPPLIED = 155, 140  # targets for the generated clients (the help article's add 6 and 1)
PER_HOLDER = (1,) * 70 + (2,) * 18 + (3,) * 6 + (4,) * 3 + (5,) * 2 + (7,)
DEFAULT_BASE = 100_000  # cents; for a parent billed only through its branches


def _base(client: Client) -> int:
    return client.habits.base if client.habits else DEFAULT_BASE


def _oldest_open(client: Client) -> Invoice | None:
    return next((i for i in client.invoices if i.open > 0), None)


def _credit_day(rng: random.Random, client: Client) -> date:
    """Mostly this year's; some lingering for two years."""
    back = rng.randint(0, 170) if rng.random() < 0.7 else rng.randint(171, 900)
    return max(CUTOFF - timedelta(days=back), client.created + timedelta(days=1))


def holders(rng: random.Random, clients: list[Client], slots: int) -> list[Client]:
    """Who gets the next `slots` credits: clients who left (no open invoice), parents billed only through their
    branches, then active clients, most with one credit and a few with many."""
    left = [c for c in clients if c.habits and c.habits.end < MONTHS - 1 and c.invoices
            and _oldest_open(c) is None][:14]
    parents = [c for c in clients if c.habits is None]
    out = left + parents + parents[:3]
    owing = [c for c in clients if _oldest_open(c) is not None]
    paid_up = [c for c in clients if c.invoices and _oldest_open(c) is None and all(c is not x for x in left)]
    while len(out) < slots:
        out += [rng.choice(owing if rng.random() < 0.85 else paid_up)] * rng.choice(PER_HOLDER)
    return out[:slots]


def open_memo(rng: random.Random, client: Client, memos: list[Memo]) -> None:
    """A credit memo with credit left; some larger than the oldest open invoice, some already partly used."""
    oldest = _oldest_open(client)
    if rng.random() < 0.12:
        amount = cents(rng, oldest.total if oldest else _base(client), 1.3, 3.0)
    else:
        amount = cents(rng, _base(client), 0.03, 0.4)
    memo = Memo(client, _credit_day(rng, client), amount, amount, rng.choice(MEMO_NOTES))
    memos.append(memo)
    if oldest is None or rng.random() >= 0.2:
        return
    target = next((i for i in client.invoices if i.open > 0 and i.txn <= CUTOFF), None)
    part = min(target.open, amount * rng.randint(2, 7) // 10) if target else 0
    if part > 0:
        when = min(CUTOFF, max(memo.txn, target.txn) + timedelta(days=rng.randint(0, 15)))
        pay(client, when, 0, [(target, part), (memo, part)])


def unapplied(rng: random.Random, client: Client) -> None:
    """An overpayment, a duplicate payment, or a prepayment nobody applied."""
    singles = [p for p in client.payments if len(p.lines) == 1 and p.total > 0]
    roll = rng.random()
    if singles and roll < 0.4:
        p = rng.choice(singles)
        p.total += cents(rng, _base(client), 0.02, 0.25)  # paid a bit more than the invoice
    elif singles and roll < 0.7:
        p = rng.choice(singles)
        when = min(CUTOFF, p.txn + timedelta(days=rng.randint(0, 3)))
        pay(client, when, p.total, [], ref=p.ref, note="Duplicate payment")
    else:
        amount = round(_base(client) * rng.uniform(0.5, 2.0), -2)
        pay(client, _credit_day(rng, client), amount, [], note="Prepayment")


def place(rng: random.Random, clients: list[Client], memos: list[Memo]) -> None:
    """Top the open credits up to the targets (memos issued but not applied yet already count)."""
    natural = sum(1 for m in memos if m.left > 0)
    want_memos = max(0, OPEN_MEMOS - natural)
    chosen = holders(rng, clients, want_memos + UNAPPLIED)
    rng.shuffle(chosen)
    for n, client in enumerate(chosen):
        if n < want_memos:
            open_memo(rng, client, memos)
        else:
            unapplied(rng, client)


def lagging(rng: random.Random, clients: list[Client], memos: list[Memo]) -> list[tuple[Memo, Invoice, int]]:
    """Credit memos to apply in QuickBooks after ConnectBooster's first sync (as seed.AFTER_FIRST_SYNC)."""
    out = []
    for memo in rng.sample([m for m in memos if m.left > 0], 40):
        target = _oldest_open(memo.client)
        if target is not None and all(target is not t for _, t, _ in out):
            out.append((memo, target, min(memo.left, target.open)))
        if len(out) == 4:
            break
    return out


def portal_payments(rng: random.Random, clients: list[Client], memos: list[Memo], busy: list[Invoice]) -> list[Invoice]:
    """Open invoices with a payment made in the ConnectBooster portal, not synced yet; some on clients with a
    credit (the known failure: apply the credit first and the payment fails to sync)."""
    with_credit = {id(p.client) for c in clients for p in c.payments if p.unapplied > 0}
    with_credit.update(id(m.client) for m in memos if m.left > 0)
    candidates = [i for c in clients for i in c.invoices if i.open == i.total and all(i is not b for b in busy)]
    trap = [i for i in candidates if id(i.client) in with_credit]
    return rng.sample(trap, 3) + rng.sample([i for i in candidates if id(i.client) not in with_credit], 5)


def all_payments(clients: list[Client]) -> list[Payment]:
    return [p for c in clients for p in c.payments]
