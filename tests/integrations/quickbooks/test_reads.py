"""Reads against the seeded emulator: customers, open invoices, credits, single records, pagination."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.quickbooks import Credit, Customer, Invoice


def queries(session) -> list[str]:
    return [parse_qs(urlsplit(e.url).query)["query"][0] for e in session.exchanges if "/query?" in e.url]


def test_find_customer_exact_with_apostrophe(client, session):
    found = client.find_customers(name="Atomar's Best Tackle", exact=True)
    assert found == [Customer(id="58", display_name="Atomar's Best Tackle", currency="USD",
                              balance=Decimal("195.00"), active=True)]
    assert queries(session) == [
        "SELECT * FROM Customer WHERE DisplayName = 'Atomar\\'s Best Tackle' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000"
    ]


def test_find_customers_partial_is_deduplicated_across_apostrophe_variants(client, session):
    found = client.find_customers(name="Atomar's")
    assert [c.id for c in found] == ["65", "58"]  # sorted by name: Bait Shop, Best Tackle
    assert len(queries(session)) == 2  # as typed (straight) and curly


def test_straight_apostrophe_finds_curly_customer(client):
    found = client.find_customers(name="O'Malley's")
    assert [(c.id, c.display_name) for c in found] == [("61", "O\u2019Malley\u2019s Marina")]


def test_curly_name_exact(client):
    assert [c.id for c in client.find_customers(name="O\u2019Malley\u2019s Marina", exact=True)] == ["61"]
    assert client.find_customers(name="O'Malley's Marina", exact=True) == []  # exact is exact


def test_backslash_and_quote_are_escaped_not_parsed(client, session):
    assert client.find_customers(name="Back\\slash' Co") == []
    assert "DisplayName LIKE '%Back\\\\slash\\' Co%'" in queries(session)[0]


def test_blank_name_finds_nothing_without_a_call(client, session):
    assert client.find_customers(name="  ") == []
    assert session.exchanges == []


def test_markup_name_is_returned_verbatim(client):
    assert [c.display_name for c in client.find_customers(name="<!channel>")] == ["<!channel> Holdings"]


def test_get_customer(client):
    customer = client.get_customer(customer_id="59")
    assert (customer.id, customer.display_name, customer.currency, customer.active) == (
        "59", "Blue Heron Marine", "USD", True)
    assert isinstance(customer.balance, Decimal)


def test_list_open_invoices_oldest_first(client):
    invoices = client.list_open_invoices(customer_id="58")
    assert [(i.id, i.number, i.balance) for i in invoices] == [
        ("120", "10031", Decimal("85.00")), ("130", "10040", Decimal("120.00"))]
    first = invoices[0]
    assert (first.customer_id, first.txn_date, first.due_date, first.currency) == (
        "58", "2026-08-14", "2026-09-13", "USD")
    assert first.total == Decimal("85.00") and first.sync_token != ""


def test_paid_invoice_is_not_open(client):
    assert [i.id for i in client.list_open_invoices(customer_id="59")] == ["140"]


def test_pagination_default_page(client, session):
    invoices = client.list_open_invoices(customer_id="60")
    assert len(invoices) == 120 and len({i.id for i in invoices}) == 120
    assert [i.number for i in invoices[:2]] == ["20001", "20002"] and invoices[-1].number == "20120"
    assert len(queries(session)) == 1


def test_pagination_small_pages_until_a_short_page(make_client, session):
    invoices = make_client(page_size=50).list_open_invoices(customer_id="60")
    assert len({i.id for i in invoices}) == 120
    assert [q.rsplit("STARTPOSITION", 1)[1] for q in queries(session)] == [
        " 1 MAXRESULTS 50", " 51 MAXRESULTS 50", " 101 MAXRESULTS 50"]


def test_pagination_exact_multiple_reads_one_empty_page(make_client, session):
    invoices = make_client(page_size=40).list_open_invoices(customer_id="60")
    assert len(invoices) == 120 and len(queries(session)) == 4


def test_list_credits_credit_memo(client):
    assert client.list_credits(customer_id="58") == [Credit(
        kind="credit_memo", id="150", number="1039", customer_id="58", txn_date="2026-10-01",
        total=Decimal("10.00"), remaining=Decimal("10.00"), currency="USD",
        sync_token=client.get_credit(kind="credit_memo", credit_id="150").sync_token)]


def test_list_credits_unapplied_payment(client):
    (credit,) = client.list_credits(customer_id="59")
    assert (credit.kind, credit.id, credit.number, credit.total, credit.remaining) == (
        "unapplied_payment", "171", "171", Decimal("65.00"), Decimal("25.00"))


def test_no_credits(client):
    assert client.list_credits(customer_id="65") == []


def test_get_invoice_and_by_number(client):
    invoice = client.get_invoice(invoice_id="130")
    assert isinstance(invoice, Invoice) and (invoice.number, invoice.balance) == ("10040", Decimal("120.00"))
    assert client.find_invoice_by_number(number="10040") == invoice
    assert client.find_invoice_by_number(number="#10040") == invoice
    assert client.find_invoice_by_number(number="99999") is None


def test_get_credit_both_kinds_and_payment(client):
    memo = client.get_credit(kind="credit_memo", credit_id="150")
    assert (memo.kind, memo.remaining, memo.customer_id) == ("credit_memo", Decimal("10.00"), "58")
    payment = client.get_credit(kind="unapplied_payment", credit_id="171")
    assert (payment.remaining, payment.customer_id) == (Decimal("25.00"), "59")
    raw = client.get_payment(payment_id="171")
    assert raw["Id"] == "171" and raw["TotalAmt"] == Decimal("65.00") and isinstance(raw["UnappliedAmt"], Decimal)
    with pytest.raises(ValueError):
        client.get_credit(kind="gift_card", credit_id="1")


def test_every_request_sends_minorversion_and_accept(client, session):
    client.find_customers(name="Atomar")
    client.get_invoice(invoice_id="120")
    assert session.exchanges
    for exchange in session.exchanges:
        assert parse_qs(urlsplit(exchange.url).query)["minorversion"] == ["75"]
        assert exchange.request_headers["Accept"] == "application/json"
        assert exchange.request_headers["Authorization"].startswith("Bearer ")
    assert client.last_intuit_tid  # captured from the response header


def test_payments_for_customer(client):
    (payment,) = client.payments_for_customer(customer_id="59")
    assert payment["Id"] == "171" and payment["UnappliedAmt"] == Decimal("25.00")
    assert client.payments_for_customer(customer_id="58") == []
