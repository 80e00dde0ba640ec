"""Company-level behaviour: Preferences, CompanyInfo, multicurrency Payments, the company's date.

See real-world.md 6.1-6.3.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox import seed
from sandbox.qbo_emulator import QBOEmulator
from tests.sandbox.qbo.helpers import CLIENT_ID, CLIENT_SECRET, QBO, cm_payment, fault


@pytest.fixture
def cad(clock):
    """A multicurrency company (home USD) with the CAD customer 66, invoice 210, credit memo 157, payment 173."""
    e = QBOEmulator(realm_id=seed.REALM_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock,
                    multicurrency=True)
    e.start(port=0)
    yield e, QBO(e, e.mint_tokens()["access_token"])
    e.stop()


def cad_cm_body(**extra) -> dict:
    body = cm_payment(5, invoice="210", credit_memo="157", customer="66")
    body.update(extra)
    return body


# ---- 6.1 Preferences and CompanyInfo --------------------------------------------------------------------

def test_preferences_read_and_query_in_documented_shape(emu, qbo):
    r = qbo.http.get(f"{emu.api_base}/preferences", headers=qbo._headers(), params={"minorversion": 75}, timeout=10)
    assert r.status_code == 200 and "time" in r.json()
    prefs = r.json()["Preferences"]
    assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}}
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] and prefs["Id"] == "1"
    q = qbo.query("SELECT * FROM Preferences").json()["QueryResponse"]
    assert q["Preferences"][0]["CurrencyPrefs"] == prefs["CurrencyPrefs"]


def test_company_info_read_and_other_id(emu, qbo):
    r = qbo.http.get(f"{emu.api_base}/companyinfo/{emu.realm_id}", headers=qbo._headers(), timeout=10)
    info = r.json()["CompanyInfo"]
    assert r.status_code == 200 and info["CompanyName"] and info["Country"] == "US"
    assert {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"} in info["NameValue"]
    assert "CurrencyRef" not in info  # no currency here (6.1): it lives in Preferences
    assert qbo.query("SELECT * FROM CompanyInfo").json()["QueryResponse"]["CompanyInfo"][0]["CompanyName"]
    r = qbo.http.get(f"{emu.api_base}/companyinfo/42", headers=qbo._headers(), timeout=10)
    assert r.status_code == 400 and fault(r)["code"] == "610"


def test_multicurrency_company_preferences_and_cad_records(cad):
    _emu, qbo = cad
    prefs = qbo.query("SELECT * FROM Preferences").json()["QueryResponse"]["Preferences"][0]
    assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}
    assert qbo.entity("Customer", "66")["CurrencyRef"]["value"] == "CAD"
    inv, memo, pay = qbo.entity("Invoice", "210"), qbo.entity("CreditMemo", "157"), qbo.entity("Payment", "173")
    assert (inv["CurrencyRef"]["value"], inv["ExchangeRate"]) == ("CAD", Decimal("0.74"))
    assert (memo["CurrencyRef"]["value"], memo["RemainingCredit"]) == ("CAD", Decimal("20.00"))
    assert (pay["CurrencyRef"]["value"], pay["UnappliedAmt"], pay["ExchangeRate"]) == ("CAD", 30, Decimal("0.72"))


# ---- 6.2 Payment currency rules ---------------------------------------------------------------------------

def test_multicurrency_payment_without_currency_ref_is_refused(cad):
    emu, qbo = cad
    r = qbo.payment(cad_cm_body())
    assert r.status_code == 400 and r.json()["Fault"]["type"] == "ValidationFault" and fault(r)["code"] == "6000"
    assert emu.ledger.get("Invoice", "210")["Balance"] == 100  # nothing written
    # the USD customer of the same company too: CurrencyRef is required on every Payment
    assert fault(qbo.payment(cm_payment(5)))["code"] == "6000"


def test_multicurrency_payment_in_another_currency_is_refused(cad):
    _emu, qbo = cad
    r = qbo.payment(cad_cm_body(CurrencyRef={"value": "USD"}))
    assert r.status_code == 400 and fault(r)["code"] == "6000" and "CAD" in fault(r)["Detail"]


def test_multicurrency_payment_with_currency_ref_records_rate_or_one(cad):
    emu, qbo = cad
    r = qbo.payment(cad_cm_body(CurrencyRef={"value": "CAD"}, ExchangeRate=0.74))
    assert r.status_code == 200, r.text
    p = r.json(parse_float=Decimal)["Payment"]
    assert p["CurrencyRef"]["value"] == "CAD" and p["ExchangeRate"] == Decimal("0.74")
    assert emu.ledger.get("Invoice", "210")["Balance"] == 95
    # omitted ExchangeRate: recorded as 1, no error (silently wrong, as Intuit does)
    r = qbo.payment(cad_cm_body(CurrencyRef={"value": "CAD"}))
    assert r.status_code == 200 and r.json()["Payment"]["ExchangeRate"] == 1


def test_multicurrency_sparse_update_needs_currency_ref(cad):
    _emu, qbo = cad
    p = qbo.entity("Payment", "173")
    body = {"Id": "173", "SyncToken": p["SyncToken"], "sparse": True, "CustomerRef": {"value": "66"},
            "TotalAmt": 30, "Line": [{"Amount": 30, "LinkedTxn": [{"TxnId": "210", "TxnType": "Invoice"}]}]}
    assert fault(qbo.payment(body))["code"] == "6000"
    r = qbo.payment({**body, "CurrencyRef": {"value": "CAD"}, "ExchangeRate": 0.72})
    assert r.status_code == 200 and r.json()["Payment"]["UnappliedAmt"] == 0


def test_single_currency_company_refuses_a_foreign_currency_ref(emu, qbo):
    r = qbo.payment({**cm_payment(5), "CurrencyRef": {"value": "CAD"}})
    assert r.status_code == 400 and fault(r)["code"] == "6000"
    ok = qbo.payment({**cm_payment(5), "CurrencyRef": {"value": "USD"}})
    assert ok.status_code == 200 and "ExchangeRate" not in ok.json()["Payment"]


# ---- 6.3 TxnDate omitted ------------------------------------------------------------------------------------

def test_missing_txn_date_is_dated_from_the_settable_clock_and_recorded(emu, qbo):
    emu.today = lambda: "2026-10-31"
    body = cm_payment(5)
    del body["TxnDate"]
    p = qbo.payment(body).json()["Payment"]
    assert p["TxnDate"] == "2026-10-31" and emu.missing_txn_date == [p["Id"]]
    sent = qbo.payment(cm_payment(5)).json()["Payment"]
    assert sent["TxnDate"] == "2026-10-01" and sent["Id"] not in emu.missing_txn_date
