"""The large sandbox company (SANDBOX_SEED=large) in the QuickBooks emulator's ledger: counts, invariants, shapes."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox import seed
from sandbox.qbo_ledger import Ledger
from sandbox.seed_large import company, generate
from tests.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
ZERO = Decimal(0)


def digest(made) -> str:
    """A fingerprint of every generated record (ids, names, dates, amounts, links)."""
    h = hashlib.sha256()
    for c in made.clients:
        h.update(repr((c.id, c.name, c.parent.id if c.parent else None, c.bill_with_parent, c.created)).encode())
        for i in c.invoices:
            h.update(repr((i.id, i.doc, i.txn, i.due, i.total)).encode())
        for p in c.payments:
            h.update(repr((p.id, p.txn, p.total, p.ref, p.note, [(d.id, a) for d, a in p.lines])).encode())
    for m in made.memos:
        h.update(repr((m.id, m.doc, m.client.id, m.txn, m.total)).encode())
    h.update(repr((made.AFTER_FIRST_SYNC, made.CB_PENDING_PAYMENTS)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def books():
    """A ledger holding the large company, and every record of it by entity and Id."""
    ledger = Ledger(clock=FakeClock())
    ledger.load_company(company())
    return ledger, {e: {r["Id"]: r for r in ledger.list(e)} for e in ("Customer", "Invoice", "CreditMemo", "Payment")}


def open_credits(docs) -> list[dict]:
    return ([m for m in docs["CreditMemo"].values() if m["RemainingCredit"] > 0]
            + [p for p in docs["Payment"].values() if p["UnappliedAmt"] > 0])


def test_counts(books):
    _, docs = books
    customers = docs["Customer"].values()
    assert sum(1 for c in customers if not c["Job"]) == 500
    assert 60 <= sum(1 for c in customers if c["Job"]) <= 120
    assert 4_500 <= len(docs["Invoice"]) <= 5_500
    assert 18_000 <= len(docs["Payment"]) <= 22_000
    credits = open_credits(docs)
    memos = [c for c in credits if "RemainingCredit" in c]
    assert 270 <= len(credits) <= 330
    assert len(memos) >= 120 and len(credits) - len(memos) >= 120  # both kinds


def test_every_payment_adds_up(books):
    _, docs = books
    for p in docs["Payment"].values():
        invoices = sum((ln["Amount"] for ln in p["Line"] if ln["LinkedTxn"][0]["TxnType"] == "Invoice"), ZERO)
        memos = sum((ln["Amount"] for ln in p["Line"] if ln["LinkedTxn"][0]["TxnType"] == "CreditMemo"), ZERO)
        assert p["UnappliedAmt"] >= 0 and invoices - memos + p["UnappliedAmt"] == p["TotalAmt"], p["Id"]
        assert invoices - memos <= p["TotalAmt"], p["Id"]
        for line in p["Line"]:
            target = docs[line["LinkedTxn"][0]["TxnType"]][line["LinkedTxn"][0]["TxnId"]]
            assert target["CustomerRef"]["value"] == p["CustomerRef"]["value"] and line["Amount"] > 0


def test_every_balance_is_total_minus_applications(books):
    _, docs = books
    applied: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    linked: dict[str, list[str]] = defaultdict(list)
    for p in docs["Payment"].values():
        for line in p["Line"]:
            link = line["LinkedTxn"][0]
            applied[(link["TxnType"], link["TxnId"])] += line["Amount"]
            if link["TxnType"] == "Invoice":
                linked[link["TxnId"]].append(p["Id"])
    for inv in docs["Invoice"].values():
        assert inv["Balance"] == inv["TotalAmt"] - applied[("Invoice", inv["Id"])] >= 0, inv["Id"]
        assert sorted(t["TxnId"] for t in inv["LinkedTxn"]) == sorted(linked[inv["Id"]])
    for memo in docs["CreditMemo"].values():
        assert memo["RemainingCredit"] == memo["Balance"] == memo["TotalAmt"] - applied[("CreditMemo", memo["Id"])] >= 0


def test_customer_balances_include_their_sub_customers(books):
    _, docs = books
    own: dict[str, Decimal] = defaultdict(Decimal)
    for inv in docs["Invoice"].values():
        own[inv["CustomerRef"]["value"]] += inv["Balance"]
    for memo in docs["CreditMemo"].values():
        own[memo["CustomerRef"]["value"]] -= memo["RemainingCredit"]
    for p in docs["Payment"].values():
        own[p["CustomerRef"]["value"]] -= p["UnappliedAmt"]
    jobs: dict[str, Decimal] = defaultdict(Decimal)
    for c in docs["Customer"].values():
        if c["Job"]:
            jobs[c["ParentRef"]["value"]] += own[c["Id"]]
    for c in docs["Customer"].values():
        assert (c["Balance"], c["BalanceWithJobs"]) == (own[c["Id"]], own[c["Id"]] + jobs[c["Id"]]), c["Id"]


def test_sub_customers(books):
    _, docs = books
    customers = docs["Customer"]
    subs = [c for c in customers.values() if c["Job"]]
    for sub in subs:
        parent = customers[sub["ParentRef"]["value"]]
        assert not parent["Job"] and "ParentRef" not in parent and sub["Level"] == 1
        assert sub["FullyQualifiedName"] == f"{parent['DisplayName']}:{sub['DisplayName']}"
        assert int(parent["Id"]) < int(sub["Id"])  # created after its parent
    assert {s["BillWithParent"] for s in subs} == {True, False}
    names = [c["DisplayName"].casefold() for c in customers.values()]
    assert len(set(names)) == len(names)  # QuickBooks refuses a duplicate DisplayName, sub-customers included
    billed = {i["CustomerRef"]["value"] for i in docs["Invoice"].values()}
    assert sum(1 for s in subs if s["Id"] in billed) >= 40


def test_credits_are_spread_unevenly(books):
    _, docs = books
    by_client: dict[str, list[dict]] = defaultdict(list)
    for credit in open_credits(docs):
        by_client[credit["CustomerRef"]["value"]].append(credit)
    open_invoices: dict[str, list[dict]] = defaultdict(list)
    for inv in sorted(docs["Invoice"].values(), key=lambda i: (i["TxnDate"], i["DocNumber"])):
        if inv["Balance"] > 0:
            open_invoices[inv["CustomerRef"]["value"]].append(inv)
    assert sum(1 for c in by_client.values() if len(c) >= 3) >= 10
    assert sum(1 for c in by_client.values() if len(c) == 1) >= 80
    assert sum(1 for cid in by_client if not open_invoices[cid]) >= 10  # a credit and no open invoice
    larger = [c for cid, cs in by_client.items() for c in cs if open_invoices[cid]
              and c.get("RemainingCredit", c.get("UnappliedAmt")) > open_invoices[cid][0]["Balance"]]
    assert len(larger) >= 10  # more than the oldest open invoice: QuickBooks' default can't take it all


def test_parents_hold_credits_for_their_sub_customers_invoices(books):
    _, docs = books
    customers = docs["Customer"]
    holders = {c["CustomerRef"]["value"] for c in open_credits(docs)}
    billed = {i["CustomerRef"]["value"] for i in docs["Invoice"].values()}
    owing = {i["CustomerRef"]["value"] for i in docs["Invoice"].values() if i["Balance"] > 0}
    parents = [cid for cid in holders if cid not in billed
               and any(s["Job"] and s["ParentRef"]["value"] == cid and s["Id"] in owing for s in customers.values())]
    assert len(parents) >= 5


def test_history_spans_three_years_with_realistic_names(books):
    _, docs = books
    years = defaultdict(int)
    for p in docs["Payment"].values():
        years[p["TxnDate"][:4]] += 1
    assert min(years) == "2023" and max(years) == "2026" and all(years[y] >= 3_000 for y in ("2024", "2025", "2026"))
    dates = sorted(i["TxnDate"] for i in docs["Invoice"].values())
    assert dates[0] <= "2023-12-31" and dates[-1] >= "2026-11-01"
    names = [c["DisplayName"] for c in docs["Customer"].values()]
    assert sum("\u2019" in n for n in names) >= 15
    for word in ("Dental", "LLP", "Logistics", "Marina"):
        assert any(word in n for n in names), word
    numbers = [i["DocNumber"] for i in docs["Invoice"].values()]
    assert len(set(numbers)) == len(numbers)


def test_the_help_article_is_inside_unchanged(books):
    ledger, _ = books
    default = Ledger(clock=FakeClock())
    for entity, ids in (("Customer", seed.CUSTOMERS), ("Invoice", [i[0] for i in seed.INVOICES]),
                        ("CreditMemo", [m[0] for m in seed.CREDIT_MEMOS]), ("Payment", [p[0] for p in seed.PAYMENTS])):
        for rid in ids:
            assert ledger.get(entity, rid) == default.get(entity, rid), (entity, rid)
    assert ledger.get("Customer", "58")["DisplayName"] == "Atomar's Best Tackle"
    assert ledger.seed_source.AFTER_FIRST_SYNC[0] == seed.AFTER_FIRST_SYNC[0]
    assert ledger.seed_source.CB_IDS == seed.CB_IDS


def test_new_ids_come_after_the_generated_ones(books):
    _, docs = books
    biggest = max(int(i) for records in docs.values() for i in records)
    ledger = Ledger(clock=FakeClock())  # its own: this one writes
    ledger.load_company(company())
    payment = ledger.create_payment({"CustomerRef": {"value": "65"}, "TotalAmt": Decimal("5.00"), "TxnDate": "2026-11-25"})
    assert int(payment["Id"]) == biggest + 1


@pytest.mark.slow
def test_same_company_every_run():
    assert digest(generate()) == digest(company())
    code = "from sandbox.seed_large import generate; from tests.sandbox.test_seed_large import digest; print(digest(generate()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # string hashing differs from this process's
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == digest(company()), out.stderr
    assert digest(generate(random_seed=7)) != digest(company())


def test_it_extends_the_default_seed_never_replaces_it():
    with pytest.raises(ValueError, match="seed_data=True"):
        Ledger(clock=FakeClock(), seed_data=False).load_company(company())
