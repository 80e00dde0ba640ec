"""Multicurrency, the company's date, bulk reads and typed payments against the emulator;
LinkedTxn in typed payments)."""
from __future__ import annotations

import logging
import time
import uuid
from decimal import Decimal

import pytest

from integrations.errors import ValidationError
from integrations.quickbooks import LinkedTxn, Payment
from integrations.quickbooks_models import CREDIT_MEMO, UNAPPLIED_PAYMENT
from sandbox.qbo_emulator import QBOEmulator

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, make_tokens


@pytest.fixture
def cad_emu():
    e = QBOEmulator(realm_id=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, multicurrency=True)
    e.start(port=0)
    yield e
    e.stop()


@pytest.fixture
def cad_client(cad_emu, store, make_client):
    tokens = cad_emu.mint_tokens()
    store.save(REALM, access_token=tokens["access_token"], access_expires_at=time.time() + 3600,
               refresh_token=tokens["refresh_token"], refresh_expires_at=time.time() + 8_726_400)
    return make_client(base_url=cad_emu.base_url, tokens=make_tokens(cad_emu, store))


def queries(session) -> list:
    return [x for x in session.exchanges if "/query?" in x.url]


# ---- multicurrency (real-world.md 6.2) ----------------------------------------------------------------

def test_preferences_read_once_and_cached(cad_client, session):
    prefs = cad_client.preferences()
    assert (prefs.multicurrency, prefs.home_currency) == (True, "USD")
    cad_client.preferences()
    assert len([x for x in session.exchanges if "/preferences" in x.url]) == 1


def test_credit_memo_in_cad_lands_with_currency_ref_and_rate(cad_client, cad_emu):
    memo = cad_client.get_credit(kind=CREDIT_MEMO, credit_id="157")
    assert (memo.currency, memo.exchange_rate) == ("CAD", Decimal("0.73"))
    result = cad_client.apply_credit_memo(customer_id="66", invoice_id="210", credit_memo_id="157",
                                          amount=Decimal("20.00"), request_id=str(uuid.uuid4()),
                                          txn_date="2026-10-31")
    stored = cad_emu.ledger.get("Payment", result.payment_id)
    assert stored["CurrencyRef"]["value"] == "CAD" and stored["ExchangeRate"] == Decimal("0.73")
    assert cad_emu.ledger.get("Invoice", "210")["Balance"] == Decimal("80.00")


def test_unapplied_payment_in_cad_lands_with_currency_ref(cad_client, cad_emu):
    credit = cad_client.get_credit(kind=UNAPPLIED_PAYMENT, credit_id="173")
    assert (credit.currency, credit.remaining) == ("CAD", Decimal("30.00"))
    cad_client.apply_unapplied_payment(payment_id="173", invoice_id="210", amount=Decimal("30.00"),
                                       request_id=str(uuid.uuid4()))
    stored = cad_emu.ledger.get("Payment", "173")
    assert stored["CurrencyRef"]["value"] == "CAD" and stored["ExchangeRate"] == Decimal("0.72")
    assert stored["UnappliedAmt"] == 0 and cad_emu.ledger.get("Invoice", "210")["Balance"] == Decimal("70.00")


@pytest.mark.parametrize("kind", [CREDIT_MEMO, UNAPPLIED_PAYMENT])
def test_without_the_currency_fix_the_emulator_refuses(cad_client, cad_emu, kind):
    # The client as it was (single currency assumed): Preferences say multicurrency is off.
    from integrations.quickbooks_transport import CompanyPreferences
    cad_client._prefs = CompanyPreferences(multicurrency=False, home_currency="USD")
    cad_client._prefs_read_at = cad_client._prefs_clock()  # read a moment ago: reused
    with pytest.raises(ValidationError) as caught:
        if kind == CREDIT_MEMO:
            cad_client.apply_credit_memo(customer_id="66", invoice_id="210", credit_memo_id="157",
                                         amount=Decimal(5), request_id=str(uuid.uuid4()), txn_date="2026-10-31")
        else:
            cad_client.apply_unapplied_payment(payment_id="173", invoice_id="210", amount=Decimal(5),
                                               request_id=str(uuid.uuid4()))
    assert caught.value.code == "6000"
    assert cad_emu.ledger.get("Invoice", "210")["Balance"] == Decimal("100.00")


def test_usd_customer_in_a_multicurrency_company_sends_home_currency_without_rate(cad_client, cad_emu):
    result = cad_client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                          amount=Decimal("10.00"), request_id=str(uuid.uuid4()),
                                          txn_date="2026-10-31")
    stored = cad_emu.ledger.get("Payment", result.payment_id)
    assert stored["CurrencyRef"]["value"] == "USD" and stored["ExchangeRate"] == 1


# ---- the company's date (real-world.md 6.3) ---------------------------------------------------------------

def test_txn_date_is_sent_and_a_missing_one_is_warned(client, emu, caplog):
    emu.today = lambda: "2026-11-01"  # Intuit's server clock, already tomorrow
    ok = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal(4),
                                  request_id=str(uuid.uuid4()), txn_date="2026-10-31")
    assert emu.ledger.get("Payment", ok.payment_id)["TxnDate"] == "2026-10-31" and emu.missing_txn_date == []
    with caplog.at_level(logging.WARNING, logger="integrations.quickbooks"):
        late = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                        amount=Decimal(4), request_id=str(uuid.uuid4()))
    assert "without txn_date" in caplog.text and emu.missing_txn_date == [late.payment_id]


def test_sparse_update_keeps_the_payments_own_date(client, emu):
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal(5),
                                   request_id=str(uuid.uuid4()), txn_date="2026-10-31")
    assert emu.ledger.get("Payment", "171")["TxnDate"] == "2026-08-20"


# ---- bulk reads ------------------------------------------------------------------------

def test_get_invoices_one_request_per_100_ids(client, session):
    ids = [str(1000 + n) for n in range(1, 121)] + ["130", "130", "999999"]
    got = client.get_invoices(ids=ids)
    assert len(queries(session)) == 2  # 121 distinct ids -> chunks of 100 and 21
    assert len(got) == 121 and "999999" not in got and got["130"].balance == Decimal("120.00")
    assert "Id IN (" in queries(session)[0].url.replace("+", " ").replace("%28", "(")


def test_get_credits_in_bulk_for_both_kinds(client, session):
    memos = client.get_credits(kind=CREDIT_MEMO, ids=["150", "151"])
    payments = client.get_credits(kind=UNAPPLIED_PAYMENT, ids=["171"])
    assert set(memos) == {"150", "151"} and memos["151"].remaining == Decimal("175.00")
    assert payments["171"].remaining == Decimal("25.00") and len(queries(session)) == 2
    assert client.get_invoices(ids=[]) == {} and len(queries(session)) == 2


# ---- typed payments -----------------------------------------------------------------------------

def test_payment_model_and_applied_invoice_for_credit(client, emu):
    payment = client.payment("171")
    assert isinstance(payment, Payment) and payment.customer_id == "59" and payment.unapplied == Decimal("25.00")
    assert payment.lines[0].linked == [LinkedTxn("141", "Invoice")] and not payment.deleted
    assert client.applied_invoice_for_credit(customer_id="59", kind=UNAPPLIED_PAYMENT, credit_id="171").id == "141"
    assert client.applied_invoice_for_credit(customer_id="64", kind=CREDIT_MEMO, credit_id="155") is None
    emu.ledger.apply_after_first_sync()
    invoice = client.applied_invoice_for_credit(customer_id="64", kind=CREDIT_MEMO, credit_id="155")
    assert invoice is not None and (invoice.id, invoice.number) == ("190", "10091")
