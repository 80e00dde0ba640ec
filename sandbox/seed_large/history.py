"""Three years of an MSP's billing: clients (some with branch sub-customers), their invoices, and how they paid.

Each client draws its habits once (cadence, usual amount, terms, pays in full or in installments, how late),
so one client's history is consistent. Payments dated after CUTOFF never happened: that is what leaves the
recent invoices open or partly paid, and the slow payers' older ones too.
"""
from __future__ import annotations

import math
import random
from datetime import date, timedelta

from sandbox import seed
from sandbox.seed_large.model import Client, Habits, Invoice, Memo, pay
from sandbox.seed_large.names import client_name, site_name

CUTOFF = date(2026, 11, 20)  # the last day with records (tests run on 2026-11-26)
MONTHS = 36  # 2023-12 .. 2026-11
TOP_LEVEL = 500 - len(seed.CUSTOMERS)  # with the help article's clients: 500 top-level clients
PARENTS, PARENT_ONLY = 36, 10  # clients with branches; of them, billed only through their branches
MEMO_NOTES = ("SLA credit", "Service credit", "Hardware return", "Billing adjustment", "Unused project hours")


def month_day(month: int, day: int = 1) -> date:
    """Day `day` of month `month` counted from 2023-12 (month 0)."""
    return date(2023 + (11 + month) // 12, (11 + month) % 12 + 1, day)


def cents(rng: random.Random, around: int, low: float, high: float) -> int:
    """An amount near `around` cents, between low and high times it, never below $25."""
    return max(2500, round(around * rng.uniform(low, high)))


def habits(rng: random.Random, *, branch: bool = False) -> Habits:
    """One client's billing and paying habits."""
    start = 0 if rng.random() < 0.3 else rng.randint(1, 33)
    end = rng.randint(min(start + 2, 33), 33) if rng.random() < 0.12 else MONTHS - 1
    cadence = rng.choices((1, 3, 0), (0.08, 0.5, 0.42) if not branch else (0.2, 0.2, 0.6))[0]
    base = min(1_800_000, max(15_000, round(math.exp(rng.gauss(math.log(140_000), 0.85)), -3)))
    if branch:
        base = max(15_000, base // 3)
    terms = rng.choices((30, 15, 0), (0.7, 0.2, 0.1))[0]
    installments = 1 if rng.random() < 0.3 else rng.randint(3, 9)
    delay = rng.choices(((3, 25), (20, 60), (45, 120)), (0.6, 0.3, 0.1))[0]
    return Habits(start, end, cadence, base, terms, installments, delay, rng.choice((7, 14)))


def _created(rng: random.Random, h: Habits, after: date | None = None) -> date:
    if h.start == 0:
        when = date(2021, 1, 4) + timedelta(days=rng.randint(0, 1030))  # a client since before the history
    else:
        when = month_day(h.start) - timedelta(days=rng.randint(3, 25))
    return max(when, after + timedelta(days=rng.randint(1, 30))) if after else when


def clients(rng: random.Random) -> list[Client]:
    """The top-level clients, then the branch sub-customers of some of them."""
    taken = {name.casefold(): None for name in seed.CUSTOMERS.values()}
    tops, multi = [], []
    for _ in range(TOP_LEVEL):
        name, multi_site = client_name(rng, taken)
        h = habits(rng)
        tops.append(Client(name, _created(rng, h), h))
        if multi_site:
            multi.append(tops[-1])
    subs = []
    for n, parent in enumerate(rng.sample(multi, PARENTS)):
        if n < PARENT_ONLY:
            parent.habits = None  # everything is billed to its branches
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))):
            h = habits(rng, branch=True)
            subs.append(Client(site_name(rng, parent.name, taken), _created(rng, h, parent.created), h,
                               parent=parent, bill_with_parent=rng.random() < 0.5))
    return tops + subs


def invoices(rng: random.Random, client: Client) -> None:
    """The client's invoices: its cadence's, the odd project, none after CUTOFF."""
    h = client.habits
    if h is None:
        return
    found = []
    for m in range(h.start, h.end + 1):
        if h.cadence and (m - h.start) % h.cadence == 0:
            found.append((month_day(m), cents(rng, h.base, 0.9, 1.15)))
        elif not h.cadence and rng.random() < 0.25:
            found.append((month_day(m, rng.randint(2, 28)), cents(rng, h.base, 0.5, 1.5)))
        if rng.random() < 0.02:
            found.append((month_day(m, rng.randint(2, 28)), cents(rng, h.base, 0.5, 3.0)))
    for txn, total in sorted(found, key=lambda f: f[0]):
        if txn <= client.created:
            txn = client.created + timedelta(days=1)
        if txn <= CUTOFF:
            client.invoices.append(Invoice(client, txn, txn + timedelta(days=h.terms), total, total))


def _check_number(rng: random.Random) -> str | None:
    """PaymentRefNum: a check number for about a third of payments; ACH and cards usually leave it empty."""
    return str(rng.randint(1001, 99999)) if rng.random() < 0.35 else None


def _used_memo(rng: random.Random, inv: Invoice, memos: list[Memo]) -> int:
    """A credit memo issued against the invoice and applied to it ($0 payment); the cents it took off."""
    amount = cents(rng, inv.total, 0.05, 0.3)
    issued = inv.txn + timedelta(days=rng.randint(2, 20))
    if issued > CUTOFF:
        return 0
    memo = Memo(inv.client, issued, amount, amount, rng.choice(MEMO_NOTES))
    memos.append(memo)
    applied = issued + timedelta(days=rng.randint(0, 10))
    if applied > CUTOFF:
        return 0  # issued, not applied yet: one of the open credits
    pay(inv.client, applied, 0, [(inv, amount), (memo, amount)])
    return amount


def _installments(rng: random.Random, inv: Invoice, owed: int) -> None:
    h = inv.client.habits
    k = h.installments
    when = inv.txn + timedelta(days=rng.randint(*h.delay))
    for n in range(k):
        part = owed // k + (owed % k if n == k - 1 else 0)
        if when > CUTOFF:
            return
        pay(inv.client, when, part, [(inv, part)], ref=_check_number(rng))
        when += timedelta(days=h.spacing)


def settle(rng: random.Random, client: Client, memos: list[Memo]) -> None:
    """Payments for the client's invoices; a full payer sometimes pays two invoices with one payment."""
    carried: list[tuple[Invoice, int]] = []
    for n, inv in enumerate(client.invoices):
        if inv.txn < CUTOFF - timedelta(days=180) and rng.random() < 0.01:
            continue  # disputed: still open years later
        owed = inv.total - (_used_memo(rng, inv, memos) if rng.random() < 0.04 else 0)
        if owed <= 0:
            continue
        if client.habits.installments > 1:
            _installments(rng, inv, owed)
            continue
        when = inv.txn + timedelta(days=rng.randint(*client.habits.delay))
        if when > CUTOFF:
            continue
        if not carried and n + 1 < len(client.invoices) and rng.random() < 0.2:
            carried = [(inv, owed)]  # paid together with the next invoice
            continue
        lines = carried + [(inv, owed)]
        carried = []
        pay(client, when, sum(a for _, a in lines), lines, ref=_check_number(rng))
