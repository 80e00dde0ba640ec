"""Contract tests of the client's read operations against the emulator over loopback HTTP."""
from __future__ import annotations

from decimal import Decimal

from integrations.connectbooster import CBCredit, CBInvoice, Integration, Organization, SyncDetail, SyncRun


def test_search_organizations_is_case_and_apostrophe_insensitive(client):
    names = [o.name for o in client.search_organizations(text="ATOMAR")]
    assert names == ["Atomar's Bait Shop", "Atomar's Best Tackle"]
    (omalley,) = client.search_organizations(text="o'malley")
    assert omalley.name == "O\u2019Malley\u2019s Marina"
    assert [o.id for o in client.search_organizations(text="O\u2019MALLEY\u2019S")] == [omalley.id]
    assert client.search_organizations(text="no such company") == []


def test_get_organization_parses_balance_as_decimal(client):
    org = client.get_organization(org_id=501)
    assert isinstance(org, Organization)
    assert (org.name, org.qbo_customer_id) == ("Atomar's Best Tackle", "58")
    assert org.balance["total_balance"] == Decimal("205.00")  # credits are left out of the balance
    assert org.balance["open_invoice_count"] == 2
    assert org.balance["oldest_invoice_date"] == "2026-08-14"
    assert org.balance["currency"] == "USD"
    assert org.last_synced_at and org.last_synced_at.endswith("Z")


def test_list_and_get_credits(client):
    (credit,) = client.list_credits(org_id=501)
    assert credit == client.get_credit(credit_id=11261)
    assert isinstance(credit, CBCredit)
    assert (credit.kind, credit.number, credit.amount, credit.remaining_amount, credit.status) == (
        "credit_memo", "1039", Decimal("10.00"), Decimal("10.00"), "open")
    assert (credit.qbo_type, credit.qbo_id, credit.currency, credit.date) == ("CreditMemo", "150", "USD", "2026-10-01")
    (unapplied,) = client.list_credits(org_id=502)
    assert (unapplied.id, unapplied.kind, unapplied.remaining_amount, unapplied.qbo_type, unapplied.qbo_id) == (
        11262, "unapplied_payment", Decimal("25.00"), "Payment", "171")
    assert client.list_credits(org_id=501, status="applied") == []


def test_list_invoices_oldest_first_and_by_number(client):
    invoices = client.list_invoices(org_id=501)
    assert [(i.id, i.number, i.balance) for i in invoices] == [(9031, "10031", Decimal("85.00")),
                                                               (9040, "10040", Decimal("120.00"))]
    (inv,) = client.find_invoices_by_number(number="10040")
    assert inv == client.get_invoice(invoice_id=9040)
    assert isinstance(inv, CBInvoice)
    assert (inv.total, inv.status, inv.qbo_id, inv.due_date, inv.pending_payment) == (
        Decimal("120.00"), "open", "130", "2026-10-20", False)
    assert inv.past_due is True  # due 2026-10-20, the clock says 2026-11-26
    assert client.find_invoices_by_number(number="99999") == []
    paid = client.list_invoices(org_id=502, status="paid")
    assert [i.number for i in paid] == ["10049"]


def test_list_invoices_reads_every_page(client, cb):
    invoices = client.list_invoices(org_id=503)
    assert len(invoices) == 120
    assert [i.number for i in invoices[:2]] == ["20001", "20002"]
    assert len({i.id for i in invoices}) == 120
    pages = [r["query"].get("page") for r in cb.requests if r["path"] == "/organizations/503/invoices"]
    assert pages == ["1", "2"]


def test_pending_payments(client):
    (inv,) = client.find_invoices_by_number(number="10081")
    assert inv.pending_payment is True
    (payment,) = client.pending_payments(invoice_id=inv.id)
    assert (payment.invoice_id, payment.amount, payment.status, payment.currency) == (
        inv.id, Decimal("90.00"), "pending_sync", "USD")
    assert client.pending_payments(invoice_id=9040) == []


def test_integrations(client):
    by_id = {i.id: i for i in client.list_integrations()}
    assert set(by_id) == {"quickbooks_online", "autotask", "connectwise"}
    qbo = by_id["quickbooks_online"]
    assert isinstance(qbo, Integration)
    assert (qbo.category, qbo.primary, qbo.enabled, qbo.connection_status) == ("accounting", True, True, "connected")
    assert qbo.last_sync["id"] == 7001 and qbo.last_sync["status"] == "finished"
    assert by_id["autotask"].category == "psa"
    assert by_id["connectwise"].enabled is False


def test_sync_history_and_details_of_the_first_sync(client):
    (first,) = client.sync_history()
    assert isinstance(first, SyncRun)
    assert (first.id, first.status, first.trigger, first.attached) == (7001, "finished", "scheduled", False)
    assert [s.integration_id for s in first.stages] == ["autotask", "quickbooks_online"]
    assert first.counts["invoices"] == 130
    details = client.sync_details(sync_id=7001)  # 137 rows: more than one page
    assert len(details) == 137 and all(isinstance(d, SyncDetail) for d in details)
    assert {d.action for d in details} == {"created"}
    assert SyncDetail("credit", 11261, "1039", "created", "quickbooks_online", None) in details
    assert client.get_sync(sync_id=7001) == first
