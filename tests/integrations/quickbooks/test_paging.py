"""Paged reads through the real client against an emulator whose queries without ORDERBY answer in a new order each
time (QuickBooks documents no order): a result of many pages comes back complete, each row sent once."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.qbo_seed import invoice_record

CUSTOMER, FIRST_ID, ROWS = "58", 700_000, 2_500


def add_invoices(emu, count: int = ROWS) -> set[str]:
    """`count` open $1.00 invoices for customer 58 with a few shared TxnDates (ties for any date order)."""
    ledger = emu.ledger
    with ledger._lock:  # bulk set-up: one balance refresh instead of one per invoice
        for n in range(count):
            iid = str(FIRST_ID + n)
            day = f"2026-07-{n % 28 + 1:02d}"
            ledger._docs["Invoice"][iid] = invoice_record(iid, str(900_000 + n), CUSTOMER, "Atomar's Best Tackle",
                                                          day, day, Decimal("1.00"))
        ledger._refresh_customer(CUSTOMER, 0, bump=False)
        ledger._next_id = max(ledger._next_id, FIRST_ID + count)
    return {str(FIRST_ID + n) for n in range(count)}


def record_pages(session) -> list[list[str]]:
    """The Ids of every query page the server sent, in order (a response hook on the real Session)."""
    pages: list[list[str]] = []

    def hook(response, *args, **kwargs):
        if "/query?" in response.url and response.status_code == 200:
            rows = next(iter(v for v in response.json()["QueryResponse"].values() if isinstance(v, list)), [])
            pages.append([r["Id"] for r in rows])
    session.hooks["response"].append(hook)
    return pages


@pytest.fixture
def raw_query(emu, minted):
    """Run one query statement straight against the emulator; the Invoice rows of its answer."""
    def run(statement: str) -> list[dict]:
        r = requests.get(f"{emu.api_base}/query", params={"query": statement, "minorversion": 75}, timeout=10,
                         headers={"Authorization": f"Bearer {minted['access_token']}", "Accept": "application/json"})
        assert r.status_code == 200, r.text
        return r.json()["QueryResponse"].get("Invoice", [])
    return run


def statements(session) -> list[str]:
    return [parse_qs(urlsplit(e.url).query)["query"][0] for e in session.exchanges if "/query?" in e.url]


def test_2500_open_invoices_in_pages_of_100_come_back_complete_each_row_once(emu, make_client, session):
    wanted = add_invoices(emu) | {"120", "130"}  # and the customer's two seeded open invoices
    pages = record_pages(session)
    invoices = make_client(page_size=100).list_open_invoices(customer_id=CUSTOMER)
    assert {i.id for i in invoices} == wanted and len(invoices) == len(wanted)
    sent = [row for page in pages for row in page]
    assert len(sent) == len(set(sent)) == len(wanted)  # the server sent each row once: no repeat, no gap
    assert len(pages) == 26 and len(pages[-1]) == 2  # 25 full pages, then a short one ends the loop
    assert all(" ORDERBY Id STARTPOSITION " in s for s in statements(session))
    # The client's own order: oldest first, then number (QuickBooks' order is only for paging).
    assert [i.txn_date for i in invoices] == sorted(i.txn_date for i in invoices)


def test_the_same_paging_without_orderby_loses_rows_on_this_emulator(emu, raw_query):
    """Why the client orders: the naive loop the client used to run skips and repeats rows here."""
    wanted = add_invoices(emu, 1_000)
    seen: list[str] = []
    for start in range(1, 1_002, 100):  # 10 full pages and a short one, as the loop ran
        statement = f"SELECT * FROM Invoice WHERE CustomerRef = '{CUSTOMER}' STARTPOSITION {start} MAXRESULTS 100"
        seen += [r["Id"] for r in raw_query(statement)]
    assert len(seen) == 1_002 and set(seen) != wanted | {"120", "130"}
    assert len(set(seen)) < len(seen)  # some rows came twice, so others never came


def test_bulk_reads_by_id_are_ordered_too(emu, client, session):
    invoices = client.get_invoices(ids=["130", "120", "141"])
    assert set(invoices) == {"120", "130", "141"}
    assert statements(session) == [
        "SELECT * FROM Invoice WHERE Id IN ('130', '120', '141') ORDERBY Id STARTPOSITION 1 MAXRESULTS 3"]
