"""ConnectBooster's copy of the large company after its first sync: the same as QuickBooks, but for the lag."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import requests

from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.cb_records import money
from sandbox.qbo_ledger import Ledger
from sandbox.seed_large import company
from tests.clock import FakeClock

KEY = "sandbox-cb-key"


def quickbooks_figures(ledger: Ledger) -> dict:
    """What ConnectBooster's first sync should copy: customers, invoices and open credits, by QuickBooks Id."""
    return {
        "customers": {c["Id"]: c for c in ledger.list("Customer")},
        "invoices": {i["Id"]: (i["DocNumber"], money(i["TotalAmt"]), money(i["Balance"]), i["CustomerRef"]["value"])
                     for i in ledger.list("Invoice")},
        "credits": {**{("CreditMemo", m["Id"]): ("credit_memo", money(m["RemainingCredit"]), m["CustomerRef"]["value"])
                       for m in ledger.list("CreditMemo") if m["RemainingCredit"] > 0},
                    **{("Payment", p["Id"]): ("unapplied_payment", money(p["UnappliedAmt"]), p["CustomerRef"]["value"])
                       for p in ledger.list("Payment") if p["UnappliedAmt"] > 0}},
    }


def build(clock: FakeClock) -> tuple[Ledger, ConnectBoosterEmulator, dict]:
    ledger = Ledger(clock=clock)
    ledger.load_company(company())
    before = quickbooks_figures(ledger)  # the emulator's seeding writes AFTER_FIRST_SYNC to QuickBooks next
    cb = ConnectBoosterEmulator(qbo=ledger, api_key=KEY, timing=SyncTiming.fast(), clock=clock)
    return ledger, cb, before


@pytest.fixture(scope="module")
def large():
    ledger, cb, before = build(FakeClock())
    return ledger, cb, cb.snapshot(), before


def ref(record: dict) -> tuple[str, str]:
    (r,) = record["external_refs"]
    return r["type"], r["id"]


def test_one_organization_per_customer_sub_customers_included(large):
    _, _, snap, before = large
    orgs = {ref(o)[1]: o for o in snap["organizations"]}
    assert orgs.keys() == before["customers"].keys()
    for cid, customer in before["customers"].items():
        assert orgs[cid]["name"] == customer["DisplayName"]
    subs = [c for c in before["customers"].values() if c["Job"]]
    assert subs and all(orgs[s["Id"]]["id"] != orgs[s["ParentRef"]["value"]]["id"] for s in subs)


def test_invoices_match_quickbooks(large):
    _, _, snap, before = large
    org_customer = {o["id"]: ref(o)[1] for o in snap["organizations"]}
    copied = {ref(i)[1]: (i["number"], i["total"], i["balance"], org_customer[i["organization_id"]])
              for i in snap["invoices"]}
    assert copied == before["invoices"]
    assert len(copied) == len(snap["invoices"])


def test_open_credits_match_quickbooks_before_the_lag(large):
    _, _, snap, before = large
    org_customer = {o["id"]: ref(o)[1] for o in snap["organizations"]}
    copied = {ref(c): (c["kind"], c["remaining_amount"], org_customer[c["organization_id"]])
              for c in snap["credits"] if c["status"] == "open"}
    assert copied == before["credits"]
    assert sum(1 for c in snap["credits"] if c["status"] == "applied") == 0


def test_organization_balances(large):
    _, _, snap, before = large
    owed: dict[str, Decimal] = {}
    for _, _, balance, cid in before["invoices"].values():
        owed[cid] = owed.get(cid, Decimal(0)) + Decimal(balance)
    for org in snap["organizations"]:
        assert Decimal(org["balance"]["total_balance"]) == owed.get(ref(org)[1], Decimal(0))


def test_the_lag_and_the_portal_payments(large):
    ledger, _, snap, _ = large
    made = company()
    credits = {ref(c): c for c in snap["credits"]}
    for applied in made.AFTER_FIRST_SYNC:  # applied in QuickBooks, still open in ConnectBooster
        assert ledger.get("CreditMemo", applied["CreditMemoId"])["RemainingCredit"] < Decimal(
            credits[("CreditMemo", applied["CreditMemoId"])]["remaining_amount"])
        assert credits[("CreditMemo", applied["CreditMemoId"])]["status"] == "open"
    by_id = {i["id"]: i for i in snap["invoices"]}
    pending = sorted((by_id[p["invoice_id"]]["number"], p["amount"]) for p in snap["payments"])
    assert pending == sorted((n, money(a)) for n, a in made.CB_PENDING_PAYMENTS)
    assert all(p["status"] == "pending_sync" for p in snap["payments"])


def test_the_help_article_example_is_there(large):
    _, cb, snap, _ = large
    history = snap["syncs"]
    assert [(r["id"], r["status"]) for r in history] == [(7001, "finished")]
    assert history[0]["counts"]["invoices"] == len(snap["invoices"]) and history[0]["sync_from"] == "2023-12-01"
    cb.start(port=0)
    try:
        def get(path, **params):
            return requests.get(cb.base_url + path, params=params, headers={"Authorization": f"Bearer {KEY}"},
                                timeout=5).json()

        (org,) = get("/organizations", search="Atomar's Best")["data"]
        assert org["id"] == 501
        assert [(c["id"], c["remaining_amount"]) for c in get("/organizations/501/credits", status="open")["data"]] == [
            (11261, "10.00")]
        assert [i["id"] for i in get("/invoices", number="10040")["data"]] == [9040]
        assert [i["number"] for i in get("/organizations/501/invoices", status="open")["data"]] == ["10031", "10040"]
        assert get("/organizations", page_size=100)["total"] == len(snap["organizations"])
        marina = get("/organizations", search="o'malley")["data"]
        assert "O\u2019Malley\u2019s Marina" in [o["name"] for o in marina] and len(marina) > 1
    finally:
        cb.stop()


def test_a_sync_after_the_lag_matches_quickbooks_exactly():
    clock = FakeClock()
    ledger, cb, _ = build(clock)
    run = cb.begin_sync("quickbooks_online", "manual", cb.state.today() - timedelta(days=1), "POST", "/x")
    clock.advance(1)
    snap = cb.snapshot()
    assert snap["syncs"][0]["id"] == run["id"] and snap["syncs"][0]["status"] == "finished"
    now = quickbooks_figures(ledger)
    org_customer = {o["id"]: ref(o)[1] for o in snap["organizations"]}
    copied = {ref(c): (c["kind"], c["remaining_amount"], org_customer[c["organization_id"]])
              for c in snap["credits"] if c["status"] == "open"}
    assert copied == now["credits"]
    assert {ref(i)[1]: i["balance"] for i in snap["invoices"]} == {k: v[2] for k, v in now["invoices"].items()}
    details = cb.engine.runs[run["id"]].details
    assert len(details) < 100  # only what changed since yesterday, not the whole company
