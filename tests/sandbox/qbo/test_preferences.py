"""Preferences that change at runtime (real-world.md 6.1, month-end): multicurrency on (never off again) and the
closing date, both visible in GET /preferences and both enforced on writes."""
from __future__ import annotations

import pytest

from sandbox.qbo_company import BOOK_CLOSE_DATE, MulticurrencyError
from sandbox.qbo_wire import QBOFault, stamp
from tests.sandbox.qbo.helpers import cm_payment, fault


def preferences(qbo) -> dict:
    r = qbo.http.get(f"{qbo.emu.api_base}/preferences", headers=qbo._headers(), params={"minorversion": 75},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["Preferences"]


def test_multicurrency_switched_on_at_runtime_and_never_off(emu, qbo, clock):
    before = preferences(qbo)
    assert before["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
    clock.advance(120)
    emu.company.enable_multicurrency()
    after = preferences(qbo)
    assert after["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}
    assert int(after["SyncToken"]) == int(before["SyncToken"]) + 1
    assert after["MetaData"]["LastUpdatedTime"] == stamp(clock())
    emu.company.enable_multicurrency()  # idempotent: no second change
    assert preferences(qbo)["SyncToken"] == after["SyncToken"]
    with pytest.raises(MulticurrencyError):
        emu.company.disable_multicurrency()
    with pytest.raises(MulticurrencyError):
        emu.company.multicurrency = False
    assert preferences(qbo)["CurrencyPrefs"]["MultiCurrencyEnabled"] is True


def test_payments_need_currency_ref_once_multicurrency_is_on(emu, qbo):
    assert qbo.payment(cm_payment(1)).status_code == 200
    emu.company.enable_multicurrency()
    r = qbo.payment(cm_payment(1))  # the same body a moment later: CurrencyRef is now required (6.2)
    assert r.status_code == 400 and fault(r)["code"] == "6000" and "CurrencyRef" in fault(r)["Detail"]
    assert qbo.payment({**cm_payment(1), "CurrencyRef": {"value": "USD"}}).status_code == 200


def test_seeded_closing_date_is_shown_and_enforced(qbo):
    assert preferences(qbo)["AccountingInfoPrefs"]["BookCloseDate"] == BOOK_CLOSE_DATE
    r = qbo.payment({**cm_payment(1), "TxnDate": BOOK_CLOSE_DATE})
    assert r.status_code == 400 and fault(r)["code"] == "6210"


def test_close_books_sets_book_close_date_and_refuses_writes_on_or_before_it(emu, qbo, clock):
    token = int(preferences(qbo)["SyncToken"])
    emu.ledger.close_books(through="2026-08-31")
    prefs = preferences(qbo)
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2026-08-31" and int(prefs["SyncToken"]) == token + 1
    # A new payment dated on the closing date.
    r = qbo.payment({**cm_payment(1), "TxnDate": "2026-08-31"})
    assert r.status_code == 400 and fault(r) == {
        "Message": "Account Period Closed", "code": "6210", "element": "", "Detail": fault(r)["Detail"]}
    # An update of the old unapplied payment 171 (TxnDate 2026-08-20, in the closed period), even re-dated.
    apply = {"Id": "171", "SyncToken": "0", "sparse": True, "TotalAmt": 65,
             "Line": [{"Amount": 40, "LinkedTxn": [{"TxnId": "141", "TxnType": "Invoice"}]},
                      {"Amount": 25, "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]}]}
    assert fault(qbo.payment(apply))["code"] == "6210"
    assert fault(qbo.payment({**apply, "TxnDate": "2026-10-05"}))["code"] == "6210"
    assert emu.ledger.get("Payment", "171")["UnappliedAmt"] == 25  # nothing written
    assert qbo.payment({**cm_payment(1), "TxnDate": "2026-09-01"}).status_code == 200  # the day after is open
    emu.ledger.close_books(through=None)  # the closing date removed: the field goes, the old payment is open
    assert "BookCloseDate" not in preferences(qbo)["AccountingInfoPrefs"]
    assert qbo.payment(apply).status_code == 200


def test_bookkeeper_changes_respect_the_closing_date(emu):
    emu.ledger.close_books(through="2026-09-30")
    with pytest.raises(QBOFault) as caught:
        emu.ledger.create_invoice("58", "10.00", txn_date="2026-09-30")
    assert caught.value.code == "6210"
    with pytest.raises(QBOFault) as caught:
        emu.ledger.delete_document("Invoice", "120")  # dated 2026-08-14
    assert caught.value.code == "6210"
    assert emu.ledger.create_invoice("58", "10.00", txn_date="2026-10-01")["Balance"] == 10
