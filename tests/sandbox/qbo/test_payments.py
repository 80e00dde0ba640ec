"""Payment writes over HTTP: the spec's credit-memo and unapplied-payment examples and every refusal."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.sandbox.qbo.helpers import cm_payment, fault


def ok(r) -> dict:
    assert r.status_code == 200, r.text
    return r.json(parse_float=D)["Payment"]


def test_credit_memo_zero_dollar_payment(emu, qbo):
    """Spec §1.2: CM 150 ($10) to invoice 130: 120 -> 110, CM remaining 0, customer balance unchanged."""
    cust_before = qbo.entity("Customer", "58")
    r = qbo.payment(cm_payment(D("10.00")))
    p = ok(r)
    assert r.headers["intuit_tid"] and r.json()["time"]
    assert p["TotalAmt"] == 0 and p["UnappliedAmt"] == 0 and p["SyncToken"] == "0"
    assert p["CustomerRef"] == {"value": "58", "name": "Atomar's Best Tackle"}
    assert [line["LinkedTxn"][0]["TxnId"] for line in p["Line"]] == ["130", "150"]
    assert p["Line"][0]["LineEx"]["any"][0]["value"] == {"Name": "txnId", "Value": "130"}
    assert p["MetaData"]["CreateTime"] == p["MetaData"]["LastUpdatedTime"]
    inv = qbo.entity("Invoice", "130")
    assert inv["Balance"] == D("110.00") and inv["TotalAmt"] == D("120.00") and inv["SyncToken"] == "1"
    assert inv["LinkedTxn"] == [{"TxnId": p["Id"], "TxnType": "Payment"}]
    cm = qbo.entity("CreditMemo", "150")
    assert cm["RemainingCredit"] == 0 and cm["Balance"] == 0 and cm["SyncToken"] == "1"
    cust = qbo.entity("Customer", "58")
    assert cust["Balance"] == cust_before["Balance"] == D("195.00")
    assert cust["SyncToken"] == cust_before["SyncToken"]  # unchanged balance: no new SyncToken
    assert emu.ledger.version == 1 and emu.ledger.get("Payment", p["Id"])["Line"][0]["Amount"] == 10
    assert "LineEx" not in emu.ledger.get("Payment", p["Id"])["Line"][0]


def test_unapplied_payment_sparse_update_keeps_existing_line(qbo):
    """Spec §1.6 with the seed: payment 171 ($65, $40 on invoice 141, $25 unapplied) + invoice 140 $25."""
    old = qbo.entity("Payment", "171")
    assert old["UnappliedAmt"] == D("25.00")
    lines = [{k: v for k, v in line.items() if k != "LineEx"} for line in old["Line"]]
    body = {"Id": "171", "SyncToken": old["SyncToken"], "sparse": True,
            "Line": lines + [{"Amount": D("25.00"), "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]}]}
    p = ok(qbo.payment(body))
    assert p["SyncToken"] == "1" and p["TotalAmt"] == D("65.00") and p["UnappliedAmt"] == 0
    assert [(line["LinkedTxn"][0]["TxnId"], line["Amount"]) for line in p["Line"]] == [("141", 40), ("140", 25)]
    assert qbo.entity("Invoice", "140")["Balance"] == D("35.00")
    inv141 = qbo.entity("Invoice", "141")
    assert inv141["Balance"] == 0 and inv141["SyncToken"] == "1"  # untouched by this write
    assert qbo.entity("Customer", "59")["Balance"] == D("35.00")  # 60 - 25 before and after


def test_sparse_update_without_line_keeps_lines_full_update_nulls(qbo):
    p = ok(qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True, "PrivateNote": "note"}))
    assert len(p["Line"]) == 1 and p["TotalAmt"] == 65 and p["PrivateNote"] == "note"
    # A full update without TotalAmt and Line: both become empty (Intuit's example), the note goes too.
    p = ok(qbo.payment({"Id": "171", "SyncToken": "1", "CustomerRef": {"value": "59"}}))
    assert p["Line"] == [] and p["TotalAmt"] == 0 and "PrivateNote" not in p
    assert qbo.entity("Invoice", "141")["Balance"] == D("40.00")
    assert qbo.entity("Invoice", "141")["LinkedTxn"] == []


def test_unapplied_payment_create_and_identity(qbo):
    p = ok(qbo.payment({"CustomerRef": {"value": "58"}, "TotalAmt": 65,
                        "Line": [{"Amount": 55, "LinkedTxn": [{"TxnId": "120", "TxnType": "Invoice"}]}]}))
    assert p["UnappliedAmt"] == 10 and p["TotalAmt"] == 65
    assert qbo.entity("Customer", "58")["Balance"] == D("195.00") - 55 - 10
    bare = ok(qbo.payment({"CustomerRef": {"value": "58"}, "TotalAmt": D("25.005")}))
    assert bare["Line"] == [] and bare["UnappliedAmt"] == D("25.005")  # exact, no float rounding


@pytest.mark.parametrize("body", [
    cm_payment(D("10.01")),                                               # more than the credit memo has
    cm_payment(D("85.01"), invoice="120"),                                # more than... the credit memo too
    {"CustomerRef": {"value": "58"}, "TotalAmt": 100,
     "Line": [{"Amount": D("120.01"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]},  # > Balance
    {"CustomerRef": {"value": "58"}, "TotalAmt": 5,
     "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]},  # UnappliedAmt < 0
    cm_payment(10, invoice="140"),                                        # invoice of customer 59
    cm_payment(10, credit_memo="151"),                                    # credit memo of customer 60
    {"CustomerRef": {"value": "58"}, "TotalAmt": -1},                     # negative cash
])
def test_business_validation_6000(emu, qbo, body):
    r = qbo.payment(body)
    assert r.status_code == 400 and fault(r)["code"] == "6000", r.text
    assert r.json()["Fault"]["type"] == "ValidationFault"
    assert emu.ledger.version == 0 and len(emu.ledger.list("Payment")) == 1


def test_over_application_counts_earlier_payments(qbo):
    ok(qbo.payment(cm_payment(D("6.00"))))
    r = qbo.payment(cm_payment(D("4.01")))
    assert r.status_code == 400 and fault(r)["code"] == "6000"
    ok(qbo.payment(cm_payment(D("4.00"))))


@pytest.mark.parametrize("txn", [("9043", "Invoice"), ("10040", "Invoice"), ("999", "CreditMemo"),
                                 ("130", "CreditMemo"), ("5", "JournalEntry")])
def test_unknown_txn_is_610(qbo, txn):
    body = {"CustomerRef": {"value": "58"}, "TotalAmt": 10,
            "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": txn[0], "TxnType": txn[1]}]}]}
    r = qbo.payment(body)
    assert r.status_code == 400 and fault(r)["code"] == "610" and fault(r)["Message"] == "Object Not Found"


def test_reads_of_unknown_ids_are_610(qbo):
    assert fault(qbo.get("Invoice", "10040"))["code"] == "610"
    assert fault(qbo.get("Payment", "1"))["code"] == "610"


def test_stale_sync_token_is_5010(qbo):
    assert ok(qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True, "PrivateNote": "a"}))
    r = qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True, "PrivateNote": "b"})
    assert r.status_code == 400 and fault(r)["code"] == "5010" and fault(r)["Message"] == "Stale Object Error"
    r = qbo.payment({"Id": "171", "SyncToken": "0"}, operation="delete")
    assert fault(r)["code"] == "5010"


def test_delete_restores_balances(emu, qbo):
    p = ok(qbo.payment(cm_payment(10)))
    r = qbo.payment({"Id": p["Id"], "SyncToken": p["SyncToken"]}, operation="delete")
    assert r.status_code == 200
    assert r.json()["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": p["Id"]}
    inv, cm = qbo.entity("Invoice", "130"), qbo.entity("CreditMemo", "150")
    assert inv["Balance"] == 120 and inv["LinkedTxn"] == [] and inv["SyncToken"] == "2"
    assert cm["RemainingCredit"] == 10 and cm["Balance"] == 10
    assert fault(qbo.get("Payment", p["Id"]))["code"] == "610"
    assert emu.ledger.get("Payment", p["Id"]) is None and emu.ledger.version == 2
    r = qbo.payment({"Id": "171", "SyncToken": "0"}, operation="delete")
    assert r.status_code == 200 and qbo.entity("Customer", "59")["Balance"] == D("100.00")
    assert fault(qbo.payment({"Id": "171", "SyncToken": "1"}, operation="delete"))["code"] == "610"


def test_void_zeroes_amounts(qbo):
    p = ok(qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True}, operation="update", include="void"))
    assert p["TotalAmt"] == 0 and p["UnappliedAmt"] == 0 and p["PrivateNote"] == "Voided"
    assert [line["Amount"] for line in p["Line"]] == [0]
    inv = qbo.entity("Invoice", "141")
    assert inv["Balance"] == 40 and inv["LinkedTxn"] == []


def test_closed_books_6210(emu, qbo):
    emu.ledger.close_books(through="2026-09-30")
    r = qbo.payment({**cm_payment(10), "TxnDate": "2026-09-30"})
    assert r.status_code == 400 and fault(r)["code"] == "6210" and fault(r)["Message"] == "Account Period Closed"
    r = qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True, "TxnDate": "2026-10-05"})
    assert fault(r)["code"] == "6210"  # payment 171 is dated 2026-08-20, inside the closed period
    assert fault(qbo.payment({"Id": "171", "SyncToken": "0"}, operation="delete"))["code"] == "6210"
    ok(qbo.payment({**cm_payment(10), "TxnDate": "2026-10-01"}))


@pytest.mark.parametrize("body,code", [
    ({"TotalAmt": 0}, "2020"),
    ({"CustomerRef": {"value": "58"}}, "2020"),
    ({"CustomerRef": {"value": "4242"}, "TotalAmt": 1}, "2500"),
    ({"CustomerRef": {"value": "58"}, "TotalAmt": 1, "Bogus": 1}, "2010"),
    ({"CustomerRef": {"value": "58"}, "TotalAmt": 1, "Line": [{"Amount": 1}]}, "2020"),
    ({"Id": "171", "sparse": True}, "2020"),
])
def test_malformed_bodies(qbo, body, code):
    r = qbo.payment(body)
    assert r.status_code == 400 and fault(r)["code"] == code, r.text


def test_apply_after_first_sync_and_ledger_api(emu):
    before = emu.ledger.get("Invoice", "190")
    assert before["Balance"] == 100
    [p] = emu.ledger.apply_after_first_sync()
    assert emu.ledger.get("Invoice", "190")["Balance"] == 60
    assert emu.ledger.get("CreditMemo", "155")["RemainingCredit"] == 0
    assert emu.ledger.apply_after_first_sync() == [p] and emu.ledger.version == 1
    assert {c["Id"] for c in emu.ledger.list("Customer")} == set(__import__("sandbox.seed").seed.CUSTOMERS)
    copy = emu.ledger.get("Invoice", "190")
    copy["Balance"] = 0
    assert emu.ledger.get("Invoice", "190")["Balance"] == 60  # deep copies
    direct = emu.ledger.create_payment(cm_payment(D("1.50")))
    assert direct["Id"] and emu.ledger.get("Invoice", "130")["Balance"] == D("118.50")
    assert "LineEx" not in direct["Line"][0]  # LineEx is only on the wire
