"""Change data capture (sandbox/qbo_cdc.py) against Intuit's documented limits, on the emulator's clock."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.qbo_seed import invoice_record
from sandbox.qbo_wire import stamp
from tests.sandbox.qbo.helpers import fault

DAY = 86400
LATER = datetime(2026, 11, 30, 18, tzinfo=UTC).timestamp()  # after every seeded record's last change


@pytest.fixture(autouse=True)
def later(clock, emu, qbo):
    """The clock moved past the seed (dated up to mid-October), with a fresh access token."""
    clock.set(LATER)
    qbo.token = emu.mint_tokens()["access_token"]


def cdc(qbo, entities: str, since: str):
    return qbo.http.get(f"{qbo.emu.api_base}/cdc", headers=qbo._headers(), timeout=10,
                        params={"entities": entities, "changedSince": since, "minorversion": 75})


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def answers(r) -> dict[str, list[dict]]:
    """Entity -> its objects, from the CDCResponse."""
    assert r.status_code == 200, r.text
    out: dict[str, list[dict]] = {}
    for part in r.json()["CDCResponse"][0]["QueryResponse"]:
        out.update({k: v for k, v in part.items() if isinstance(v, list)})
    return out


def test_look_back_is_30_days_at_most(qbo, clock):
    assert cdc(qbo, "Invoice", iso(clock() - 30 * DAY)).status_code == 200
    since = iso(clock() - 30 * DAY - 1)
    r = cdc(qbo, "Invoice,Payment", since)
    assert r.status_code == 400 and r.json()["Fault"]["type"] == "ValidationFault"
    err = fault(r)
    assert err["code"] == "500" and err["Message"] == "Unsupported Operation"
    assert err["Detail"] == (f"Operation cdc with changedSince date {since} which is older than fixed days is not "
                             f"supported.")
    clock.advance(DAY)  # the window moves with the emulator's clock
    qbo.token = qbo.emu.mint_tokens()["access_token"]
    assert cdc(qbo, "Invoice", iso(clock() - 30 * DAY + 1)).status_code == 200


def test_only_changes_after_changed_since_on_the_emulators_clock(qbo, emu, clock):
    since = iso(clock())
    assert answers(cdc(qbo, "Customer,Invoice", since)) == {}
    clock.advance(60)
    cust = emu.ledger.create_customer("Harbor Freight Lines")
    inv = emu.ledger.create_invoice(cust["Id"], "42.00", txn_date="2026-11-30")
    got = answers(cdc(qbo, "Customer,Invoice", since))
    assert [c["Id"] for c in got["Customer"]] == [cust["Id"]]
    assert [i["Id"] for i in got["Invoice"]] == [inv["Id"]] and got["Invoice"][0]["Balance"] == 42.0
    assert answers(cdc(qbo, "Customer,Invoice", iso(clock() + 1))) == {}


def test_at_most_1000_objects_per_entity_per_call(qbo, emu, clock):
    since = iso(clock() - 1)
    with emu.ledger._lock:  # 1,100 invoices changed just now
        for n in range(1_100):
            iid = str(900_000 + n)
            rec = invoice_record(iid, iid, "65", "Atomar's Bait Shop", "2026-09-20", "2026-10-20", 1)
            rec["MetaData"] = {"CreateTime": stamp(clock()), "LastUpdatedTime": stamp(clock())}
            emu.ledger._docs["Invoice"][iid] = rec
    emu.ledger.create_customer("One More Customer")
    r = cdc(qbo, "Invoice,Customer", since)
    parts = r.json()["CDCResponse"][0]["QueryResponse"]
    assert len(parts[0]["Invoice"]) == 1_000 and parts[0]["maxResults"] == 1_000
    assert len({i["Id"] for i in parts[0]["Invoice"]}) == 1_000
    assert len(parts[1]["Customer"]) == 1  # the cap is per entity


def test_deleted_objects_of_every_deletable_entity(qbo, emu, clock):
    since = iso(clock())
    clock.advance(5)
    emu.ledger.delete_document("Invoice", "195")
    emu.ledger.delete_document("CreditMemo", "152")
    pay = emu.ledger.get("Payment", "171")
    emu.ledger.delete_payment({"Id": "171", "SyncToken": pay["SyncToken"]})
    got = answers(cdc(qbo, "Invoice,CreditMemo,Payment", since))
    when = stamp(clock())
    for entity, doc_id in (("Invoice", "195"), ("CreditMemo", "152"), ("Payment", "171")):
        stub = next(x for x in got[entity] if x["Id"] == doc_id)
        assert stub == {"Id": doc_id, "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime": when}}
    # Deleting payment 171 reopened invoice 141: an ordinary change, with the full object.
    assert next(x for x in got["Invoice"] if x["Id"] == "141")["Balance"] == 40.0


def test_unknown_entity_and_missing_parameters(qbo, clock):
    since = iso(clock() - DAY)
    assert fault(cdc(qbo, "Invoice,Bill", since))["code"] == "2010"
    assert fault(cdc(qbo, "", since))["code"] == "2020"
    assert fault(cdc(qbo, "Invoice", ""))["code"] == "2020"
    assert fault(cdc(qbo, "Invoice", (datetime.now(UTC) - timedelta(days=1)).strftime("%d/%m/%Y")))["code"] == "2010"
