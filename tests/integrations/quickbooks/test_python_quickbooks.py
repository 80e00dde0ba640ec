"""The emulator driven by a client nobody here wrote: python-quickbooks 0.9.12.

python-quickbooks is written against the real API, so it checks the emulator's wire format independently of
our own client. It builds its base URL from `api_url_v3` (we point it at the emulator) and authenticates with
an intuit-oauth AuthClient whose `environment` is the emulator's discovery document.

python-quickbooks pins intuit-oauth==1.2.6 while the bot runs 1.2.7 (same HTTP code paths, real-world.md 7),
so it is installed without its dependencies: `pip install --no-deps -r requirements-python-quickbooks.txt`
(`make test` does it). It is imported outright, not through importorskip: a missing dev dependency should fail
loudly instead of silently skipping the only independent check of the wire format.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.exceptions import (
    AuthorizationException,
    QuickbooksException,
    UnsupportedException,
)
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.preferences import Preferences

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM


@pytest.fixture
def qb(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # requests-oauthlib refuses http:// otherwise
    auth = AuthClient(CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1:1/callback", emu.discovery_url)
    tokens = emu.mint_tokens()
    # No access token: python-quickbooks refreshes in its constructor, through the emulator's token endpoint.
    client = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"], company_id=REALM, minorversion=75)
    client.api_url_v3 = f"{emu.base_url}/v3"
    client.sandbox = False
    yield client
    client.session.close()


def test_reads_of_customer_invoice_credit_memo_payment(qb):
    assert Customer.get("58", qb=qb).DisplayName == "Atomar's Best Tackle"
    invoice = Invoice.get("130", qb=qb)
    assert invoice.DocNumber == "10040" and float(invoice.Balance) == 120.0
    assert float(CreditMemo.get("150", qb=qb).RemainingCredit) == 10.0
    payment = Payment.get("171", qb=qb)
    assert payment.Line[0].LinkedTxn[0].TxnId == "141" and float(payment.UnappliedAmt) == 25.0


def test_queries(qb):
    found = Customer.filter(DisplayName="Atomar's Best Tackle", qb=qb)
    assert [c.Id for c in found] == ["58"]
    assert Invoice.count("CustomerRef = '58'", qb=qb) == 2
    open_invoices = Invoice.where("CustomerRef = '58' AND Balance > '0'", order_by="TxnDate", qb=qb)
    assert [i.Id for i in open_invoices] == ["120", "130"]
    assert Invoice.where("DocNumber = 'nope'", qb=qb) == []


def test_company_info_and_preferences(qb, emu):
    info = CompanyInfo.get(REALM, qb=qb)
    assert info.CompanyName and info.Country == "US"
    prefs = Preferences.get(qb=qb)
    assert prefs.CurrencyPrefs.MultiCurrencyEnabled is False and prefs.CurrencyPrefs.HomeCurrency.value == "USD"


def _zero_payment(amount: float) -> Payment:
    payment = Payment()
    payment.TotalAmt = 0
    payment.TxnDate = "2026-10-02"
    customer = Ref()
    customer.value = "58"
    payment.CustomerRef = customer
    for txn_id, txn_type in (("130", "Invoice"), ("150", "CreditMemo")):
        line = PaymentLine()
        line.Amount = amount
        link = LinkedTxn()
        link.TxnId, link.TxnType = txn_id, txn_type
        link.TxnLineId = None  # a bare LinkedTxn serializes TxnLineId 0 (quickbooks-api.md §7)
        line.LinkedTxn = [link]
        payment.Line.append(line)
    return payment


def test_create_zero_payment_with_request_id(qb, emu):
    saved = _zero_payment(10).save(qb=qb, request_id=str(uuid.uuid4()))
    assert saved.Id and float(saved.TotalAmt) == 0
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    assert emu.ledger.get("CreditMemo", "150")["RemainingCredit"] == 0


def test_batch_create_reports_successes_and_faults(qb, emu):
    result = batch_create([_zero_payment(4), _zero_payment(50)], qb=qb)
    assert len(result.successes) == 1 and len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6000"
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("116.00")


def test_unsupported_operation_maps_to_unsupported_exception(qb, emu):
    with pytest.raises(UnsupportedException) as caught:
        qb.get(f"{emu.base_url}/v3/company/{REALM}/bill/1", params={})
    assert caught.value.error_code == 500 and "not supported" in caught.value.detail


def test_token_for_another_realm_is_an_authorization_failure(qb, emu):
    other = QuickBooks.__new__(QuickBooks)
    other.__dict__.update(qb.__dict__)
    other.company_id = "123"
    with pytest.raises(AuthorizationException) as caught:
        Invoice.get("130", qb=other)
    assert caught.value.error_code == 401 and isinstance(caught.value, QuickbooksException)
