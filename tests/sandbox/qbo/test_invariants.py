"""Property test: random create / update / void / delete sequences keep the spec's accounting invariants.

Runs against the Ledger directly (the same code the HTTP layer calls) so hundreds of writes stay fast, and
takes one snapshot per write (the state after one write is the state before the next): the snapshots, not the
writes, are what an example costs.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.qbo_ledger import Ledger
from sandbox.qbo_wire import QBOFault
from tests.hypothesis_budget import budget

pytestmark = pytest.mark.slow  # a property test over random ledger writes: scheduled first (tests/conftest.py)

CUSTOMERS = ["58", "59", "60"]
TARGETS = [("Invoice", "120"), ("Invoice", "130"), ("Invoice", "140"), ("Invoice", "141"),
           ("Invoice", "1001"), ("Invoice", "1002"), ("CreditMemo", "150"), ("CreditMemo", "151"),
           ("Invoice", "999")]  # 999 does not exist
amounts = st.decimals(min_value=0, max_value=130, places=2, allow_nan=False, allow_infinity=False)
lines = st.lists(st.tuples(st.sampled_from(TARGETS), amounts), max_size=3)

create = st.tuples(st.just("create"), st.sampled_from(CUSTOMERS), amounts, lines)
update = st.tuples(st.just("update"), st.integers(0, 5), st.booleans(), st.one_of(st.none(), amounts), lines,
                   st.booleans())
delete = st.tuples(st.just("delete"), st.integers(0, 5), st.booleans())
void = st.tuples(st.just("void"), st.integers(0, 5))
ops = st.lists(st.one_of(create, create, update, delete, void), min_size=1, max_size=12)


def _lines(spec):
    return [{"Amount": amt, "LinkedTxn": [{"TxnId": tid, "TxnType": ttype}]} for (ttype, tid), amt in spec]


def _snapshot(ledger: Ledger) -> dict:
    return {e: {r["Id"]: r for r in ledger.list(e)} for e in ("Customer", "Invoice", "CreditMemo", "Payment")}


def _check(s: dict, voided: set[str]) -> None:
    """The accounting invariants over one snapshot of the ledger."""
    applied: dict[tuple[str, str], D] = defaultdict(D)
    links: dict[str, set[str]] = defaultdict(set)
    for p in s["Payment"].values():
        net = D(0)
        for line in p["Line"]:
            [link] = line["LinkedTxn"]
            doc = s[link["TxnType"]][link["TxnId"]]
            assert doc["CustomerRef"]["value"] == p["CustomerRef"]["value"]
            applied[(link["TxnType"], link["TxnId"])] += line["Amount"]
            net += line["Amount"] if link["TxnType"] == "Invoice" else -line["Amount"]
            if link["TxnType"] == "Invoice" and p["Id"] not in voided:
                links[link["TxnId"]].add(p["Id"])
        assert p["UnappliedAmt"] >= 0
        assert p["TotalAmt"] == net + p["UnappliedAmt"]
    for ttype in ("Invoice", "CreditMemo"):
        for doc in s[ttype].values():
            assert doc["Balance"] == doc["TotalAmt"] - applied[(ttype, doc["Id"])]
            assert 0 <= doc["Balance"] <= doc["TotalAmt"]
            if ttype == "CreditMemo":
                assert doc["RemainingCredit"] == doc["Balance"]
            else:
                assert {lt["TxnId"] for lt in doc["LinkedTxn"]} == links[doc["Id"]]
    for cid, cust in s["Customer"].items():
        mine = lambda e, cid=cid: [d for d in s[e].values() if d["CustomerRef"]["value"] == cid]
        expected = (sum((d["Balance"] for d in mine("Invoice")), D(0))
                    - sum((d["RemainingCredit"] for d in mine("CreditMemo")), D(0))
                    - sum((d["UnappliedAmt"] for d in mine("Payment")), D(0)))
        assert cust["Balance"] == expected


def _apply(ledger: Ledger, op: tuple, created: list[str], voided: set[str]) -> None:
    kind = op[0]
    if kind == "create":
        _, cid, total, spec = op
        p = ledger.create_payment({"CustomerRef": {"value": cid}, "TotalAmt": total, "Line": _lines(spec)})
        created.append(p["Id"])
        return
    pid = (["171"] + created)[op[1] % (len(created) + 1)]
    cur = ledger.get("Payment", pid)
    token = cur["SyncToken"] if cur else "0"
    if kind == "update":
        _, _, sparse, total, spec, stale = op
        body = {"Id": pid, "SyncToken": str(int(token) + 1) if stale else token, "sparse": sparse,
                "CustomerRef": (cur or {}).get("CustomerRef", {"value": "58"}), "Line": _lines(spec)}
        if total is not None:
            body["TotalAmt"] = total
        ledger.save_payment(body)
    elif kind == "delete":
        ledger.delete_payment({"Id": pid, "SyncToken": "99" if op[2] else token})
        voided.discard(pid)
    else:
        ledger.void_payment({"Id": pid, "SyncToken": token})
        voided.add(pid)


@budget(100)
@given(ops)
def test_accounting_invariants_hold_over_random_writes(sequence):
    ledger = Ledger(clock=lambda: 1_790_000_000.0)
    created: list[str] = []
    voided: set[str] = set()
    before = _snapshot(ledger)
    _check(before, voided)
    for op in sequence:
        version = ledger.version
        try:
            _apply(ledger, op, created, voided)
        except QBOFault as f:
            assert f.code in {"6000", "610", "5010", "2020"}, f
            after = _snapshot(ledger)
            assert after == before and ledger.version == version  # refused writes change nothing
        else:
            assert ledger.version == version + 1
            after = _snapshot(ledger)
            for e in ("Invoice", "CreditMemo", "Customer"):  # balance changed <=> SyncToken bumped
                for id_, doc in after[e].items():
                    old = before[e][id_]
                    changed = doc["Balance"] != old["Balance"]
                    assert (int(doc["SyncToken"]) == int(old["SyncToken"]) + 1) == changed
        _check(after, voided)
        before = after
