"""Reads of many customers at once against the emulator: the same answers as the one-customer reads, in one
request per chunk of 100 customers and per page, every paged query ordered by Id."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from integrations.quickbooks_models import CREDIT_MEMO

SEEDED = ["58", "59", "60", "61", "62", "63", "64", "65"]
UNKNOWN = [str(9000 + n) for n in range(120)]  # customers QuickBooks does not have: 128 ids, two chunks


def queries(session) -> list[str]:
    return [parse_qs(urlsplit(e.url).query)["query"][0] for e in session.exchanges if "/query?" in e.url]


def test_open_invoices_of_many_customers_match_the_one_customer_reads(make_client, session):
    client = make_client(page_size=50)  # Coastal Bait Co's 120 open invoices take three pages
    bulk = client.open_invoices_for(customer_ids=SEEDED + UNKNOWN)
    sent = queries(session)
    assert len(sent) == 4  # chunk 1 (the seeded customers among its 100 ids): three pages; chunk 2: one
    assert all("CustomerRef IN (" in q and "AND Balance > '0' ORDERBY Id" in q for q in sent)
    session.exchanges.clear()
    for cid in SEEDED:
        assert bulk.get(cid, []) == client.list_open_invoices(customer_id=cid), cid
    assert [i.number for i in bulk["58"]] == ["10031", "10040"] and not set(UNKNOWN) & bulk.keys()


def test_open_credits_of_many_customers_match_list_credits(client, session):
    memos = client.open_credit_memos_for(customer_ids=SEEDED)
    payments = client.unapplied_payments_for(customer_ids=SEEDED)
    assert len(queries(session)) == 2
    assert "FROM Payment WHERE CustomerRef IN ('58', '59'" in queries(session)[1]  # UnappliedAmt: filtered here
    for cid in SEEDED:
        together = sorted(memos.get(cid, []) + payments.get(cid, []), key=lambda c: (c.txn_date, c.kind, c.id))
        assert together == client.list_credits(customer_id=cid), cid
    assert [(c.id, c.remaining) for c in payments["59"]] == [("171", Decimal("25.00"))]


def test_customers_by_id(client, session):
    found = client.customers(ids=["58", "61", "9999"])
    assert {c: found[c].display_name for c in found} == {"58": "Atomar's Best Tackle", "61": "O\u2019Malley\u2019s Marina"}
    assert len(queries(session)) == 1 and "Id IN ('58', '61', '9999')" in queries(session)[0]


def test_used_up_credits_read_only_the_payments_since_the_lookback(client, emu, session):
    emu.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 0, "TxnDate": "2026-11-20", "Line": [
        {"Amount": 10, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
        {"Amount": 10, "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}]}]})
    used = client.used_up_credits_for(customer_ids=["58", "60"], since="2026-10-01")
    assert [(c.kind, c.id) for c in used["58"]] == [(CREDIT_MEMO, "150")] and "60" not in used
    payment_reads = [q for q in queries(session) if "FROM Payment" in q]
    assert payment_reads and all("TxnDate >= '2026-10-01'" in q for q in payment_reads)  # never the whole history
    assert client.used_up_credits(customer_id="58", since="2026-11-21") == []  # applied before that day
