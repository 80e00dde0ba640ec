"""The ConnectBooster emulator over loopback HTTP: seed, auth, shapes, paging, search, faults, idempotency."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from sandbox import seed
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.qbo_ledger import Ledger

MONEY = re.compile(r"^-?\d+\.\d{2}$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_base_url_includes_the_version(cb):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", cb.base_url)


def test_seed_mirrors_the_help_article(api, ledger):
    org = api("GET", "/organizations/501").json()
    assert org["name"] == "Atomar's Best Tackle"
    assert org["external_refs"] == [{"integration": "quickbooks_online", "type": "Customer", "id": "58"}]
    credits = api("GET", "/organizations/501/credits", params={"status": "open"}).json()
    assert credits["total"] == 1 and credits["data"][0]["id"] == 11261
    assert credits["data"][0]["remaining_amount"] == "10.00" and credits["data"][0]["currency"] == "USD"
    inv = api("GET", "/invoices", params={"number": "10040"}).json()["data"][0]
    assert (inv["id"], inv["total"], inv["balance"], inv["status"]) == (9040, "120.00", "120.00", "open")
    older = api("GET", "/invoices/9031").json()
    assert older["transaction_date"] < inv["transaction_date"]  # the oldest-open default differs
    for fixed, cb_id in seed.CB_IDS.items():
        kind = {"Customer": "organizations", "Invoice": "invoices"}.get(fixed[0], "credits")
        assert api("GET", f"/{kind}/{cb_id}").status_code == 200
    assert ledger.get("CreditMemo", "155")["RemainingCredit"] == 0  # applied in QuickBooks after the first sync
    reel = api("GET", "/organizations/507/credits").json()["data"]
    assert [(c["id"], c["status"], c["remaining_amount"]) for c in reel] == [(11267, "open", "40.00")]
    history = api("GET", "/integrations/quickbooks_online/syncs").json()
    assert [(r["id"], r["status"], r["trigger"]) for r in history["data"]] == [(7001, "finished", "scheduled")]


def test_counters_for_ids_not_in_the_seed(cb):
    snap = cb.snapshot()
    assert [i["id"] for i in snap["invoices"]][:3] == [9031, 9040, 9100]
    assert sorted(c["id"] for c in snap["credits"]) == list(range(11261, 11268))
    assert [p["id"] for p in snap["payments"]] == [8801] and [r["id"] for r in snap["syncs"]] == [7001]


def test_shapes_money_dates_timestamps(api):
    inv = api("GET", "/invoices/9040").json()
    assert set(inv) >= {"id", "number", "organization_id", "transaction_date", "due_date", "po_number", "total",
                        "balance", "currency", "status", "past_due", "pending_payment", "external_refs",
                        "last_synced_at"}
    assert MONEY.match(inv["total"]) and MONEY.match(inv["balance"]) and isinstance(inv["number"], str)
    assert STAMP.match(inv["last_synced_at"]) and re.fullmatch(r"\d{4}-\d\d-\d\d", inv["due_date"])
    bal = api("GET", "/organizations/501").json()["balance"]
    assert bal == {"total_balance": "205.00", "total_past_due": "205.00", "oldest_invoice_date": "2026-08-14",
                   "open_invoice_count": 2, "currency": "USD"}
    credit = api("GET", "/credits/11262").json()
    assert (credit["kind"], credit["amount"], credit["remaining_amount"]) == ("unapplied_payment", "65.00", "25.00")


def test_past_due_follows_the_clock(api, clock):
    assert api("GET", "/invoices/9040").json()["past_due"] is True
    clock.set(datetime(2026, 10, 1, 18, tzinfo=UTC).timestamp())
    assert api("GET", "/invoices/9040").json()["past_due"] is False
    assert api("GET", "/organizations/501").json()["balance"]["total_past_due"] == "85.00"


@pytest.mark.parametrize("key", [None, "wrong"])
def test_auth(api, key):
    resp = api("GET", "/organizations", key=key)
    assert resp.status_code == 401
    assert resp.json() == {"error": {"code": "unauthorized", "message": "missing or invalid API key", "details": {}}}


def test_not_found_envelope(api):
    for path in ("/invoices/1", "/credits/1", "/organizations/1", "/syncs/1", "/entity-resyncs/1", "/nowhere"):
        resp = api("GET", path)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found", path


def test_pagination_over_coastal_bait_cos_invoices(api):
    first = api("GET", "/organizations/503/invoices", params={"status": "open", "page_size": 100}).json()
    second = api("GET", "/organizations/503/invoices", params={"status": "open", "page_size": 100, "page": 2}).json()
    assert (first["page"], first["page_size"], first["total"], len(first["data"])) == (1, 100, 120, 100)
    assert (second["page"], len(second["data"])) == (2, 20)
    numbers = [i["number"] for i in first["data"] + second["data"]]
    assert numbers == [str(20000 + n) for n in range(1, 121)]
    default = api("GET", "/organizations/503/invoices").json()
    assert (default["page_size"], len(default["data"])) == (30, 30)
    assert api("GET", "/organizations/503/invoices", params={"page": 9}).json()["data"] == []
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page": 0}, {"page": "x"}):
        resp = api("GET", "/organizations/503/invoices", params=bad)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error", bad


def test_search_is_case_and_apostrophe_insensitive(api):
    def names(text):
        return [o["name"] for o in api("GET", "/organizations", params={"search": text}).json()["data"]]

    assert names("o'malley") == ["O\u2019Malley\u2019s Marina"]
    assert names("O\u2019MALLEY\u2019S MARINA") == ["O\u2019Malley\u2019s Marina"]
    assert names("atomar\u2019s") == ["Atomar's Bait Shop", "Atomar's Best Tackle"]
    assert names("<!channel>") == ["<!channel> Holdings"]
    assert len(names("")) == 8


def test_invoice_status_filter(api):
    def numbers(status):
        page = api("GET", "/organizations/502/invoices", params={"status": status}).json()
        return [i["number"] for i in page["data"]]

    assert numbers("open") == ["10050"] and numbers("paid") == ["10049"] and numbers("void") == []
    assert api("GET", "/organizations/502/invoices", params={"status": "closed"}).status_code == 422


def test_pending_payment_invoice(api):
    inv = api("GET", "/invoices", params={"number": "10081"}).json()["data"][0]
    assert inv["pending_payment"] is True
    pays = api("GET", "/payments", params={"invoice_id": inv["id"], "status": "pending_sync"}).json()
    assert pays["total"] == 1
    assert (pays["data"][0]["amount"], pays["data"][0]["status"]) == ("90.00", "pending_sync")
    assert api("GET", "/payments", params={"invoice_id": 9040, "status": "pending_sync"}).json()["total"] == 0


def test_http_faults(api, cb):
    cb.faults.inject("503", match="/invoices")
    assert api("GET", "/organizations/501").status_code == 200  # not matched
    resp = api("GET", "/invoices/9040")
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "unavailable"
    cb.faults.inject("500")
    assert api("GET", "/invoices/9040").json()["error"]["code"] == "internal"
    cb.faults.inject("429", seconds=3)
    resp = api("GET", "/invoices/9040")
    assert (resp.status_code, resp.headers["Retry-After"], resp.json()["error"]["code"]) == (429, "3", "rate_limited")
    cb.faults.inject("429")
    assert api("GET", "/invoices/9040").headers["Retry-After"] == "1"
    cb.faults.inject("slow", seconds=0.2)
    began = time.monotonic()
    assert api("GET", "/invoices/9040").status_code == 200
    assert time.monotonic() - began >= 0.2
    assert [r["status"] for r in cb.requests] == [200, 503, 500, 429, 429, 200]


def test_idempotency_key_replays_within_24h(api, cb, clock):
    headers = {"Idempotency-Key": "abc"}
    first = api("POST", "/entities/invoice/9040/resync", headers=dict(headers))
    again = api("POST", "/entities/invoice/9040/resync", headers=dict(headers))
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len(cb.engine.resyncs) == 1
    elsewhere = api("POST", "/entities/invoice/9031/resync", headers=dict(headers))
    assert elsewhere.status_code == 422
    clock.advance(24 * 3600 + 1)
    later = api("POST", "/entities/invoice/9040/resync", headers=dict(headers))
    assert later.status_code == 202 and later.json()["id"] != first.json()["id"]


def test_conflicts_are_not_stored_for_replay(api, cb, clock):
    cb.start_scheduled_sync()
    refused = api("POST", "/integrations/quickbooks_online/syncs", json={}, headers={"Idempotency-Key": "s"})
    assert refused.status_code == 409 and refused.json()["error"]["details"]["existing_sync_id"] == 7002
    clock.advance(1)  # the scheduled run is over: the same key now starts a run
    accepted = api("POST", "/integrations/quickbooks_online/syncs", json={}, headers={"Idempotency-Key": "s"})
    assert accepted.status_code == 202 and accepted.json()["id"] == 7003


def test_resync_of_another_entity_type_is_not_found(api):
    assert api("POST", "/entities/credit/11261/resync").status_code == 404
    assert api("POST", "/entities/invoice/1/resync").status_code == 404


def test_emulator_routes(api, cb):
    base = cb.base_url.removesuffix("/api/v1")
    snap = requests.get(base + "/_emulator/snapshot", timeout=5).json()
    assert set(snap) >= {"organizations", "credits", "invoices", "syncs"}
    assert len(snap["invoices"]) == 130 and snap["syncs"][0]["id"] == 7001
    assert requests.post(base + "/_emulator/faults", json={"kind": "503", "times": 1}, timeout=5).status_code == 201
    assert api("GET", "/integrations").status_code == 503
    run = requests.post(cb.base_url + "/_emulator/scheduled-sync", json={}, timeout=5).json()
    assert (run["trigger"], run["status"]) == ("scheduled", "pending")
    assert requests.delete(base + "/_emulator/faults", timeout=5).json() == {"data": []}
    assert requests.get(base + "/_emulator/nothing", timeout=5).status_code == 404
    assert all(not r["path"].startswith("/_emulator") for r in cb.requests)


def test_no_seed_is_empty_until_a_sync(clock):
    ledger = Ledger(clock=clock)
    emu = ConnectBoosterEmulator(qbo=ledger, timing=SyncTiming.fast(), clock=clock, seed_data=False)
    assert emu.snapshot()["organizations"] == [] and emu.snapshot()["syncs"] == []
    emu.begin_sync("quickbooks_online", "manual", datetime(2026, 1, 1).date(), "POST", "/x")
    clock.advance(1)
    snap = emu.snapshot()
    assert len(snap["invoices"]) == 130 and snap["syncs"][0]["status"] == "finished"
    assert Decimal(next(c for c in snap["credits"] if c["id"] == 11261)["remaining_amount"]) == Decimal("10")


def test_reads_the_quickbooks_emulators_ledger(clock):
    from sandbox.qbo_emulator import QBOEmulator

    qbo = QBOEmulator(seed_data=True, clock=clock)
    emu = ConnectBoosterEmulator(qbo=qbo.ledger, timing=SyncTiming.fast(), clock=clock)
    snap = emu.snapshot()
    assert next(c for c in snap["credits"] if c["id"] == 11267)["status"] == "open"  # the lag, as seeded
    assert qbo.ledger.get("CreditMemo", "155")["RemainingCredit"] == 0
