"""Writes against the emulator's ledger: credit memo and unapplied-payment applications, undo, delete,
requestid replay, and the 5010 stale-object retry."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
import requests

from integrations.errors import ConflictError
from integrations.quickbooks import PaymentResult

from .helpers import REALM, is_post_payment


def rid() -> str:
    return str(uuid.uuid4())


def payments_of(emu, customer_id: str) -> list[dict]:
    return [p for p in emu.ledger.list("Payment") if p["CustomerRef"]["value"] == customer_id]


def invoice_lines(payment: dict) -> dict[str, Decimal]:
    return {t["TxnId"]: Decimal(line["Amount"]) for line in payment["Line"] for t in line["LinkedTxn"]
            if t["TxnType"] == "Invoice"}


def test_apply_credit_memo_writes_a_zero_payment_with_two_lines(client, emu, session):
    request_id = rid()
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                      amount=Decimal("10.00"), request_id=request_id, txn_date="2026-10-02",
                                      note="Slack bot: apply CM 1039 to INV 10040")
    assert isinstance(result, PaymentResult) and result.payment_id and result.intuit_tid
    assert result.payment["TotalAmt"] == Decimal("0") and result.payment["UnappliedAmt"] == Decimal("0")
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    assert emu.ledger.get("CreditMemo", "150")["RemainingCredit"] == Decimal("0")
    assert client.get_invoice(invoice_id="130").balance == Decimal("110.00")
    assert client.list_credits(customer_id="58") == []
    (post,) = [e for e in session.exchanges if e.method == "POST"]
    assert f"requestid={request_id}" in post.url and "minorversion=75" in post.url
    assert post.request_body == {
        "CustomerRef": {"value": "58"}, "TotalAmt": 0, "TxnDate": "2026-10-02",
        "PrivateNote": "Slack bot: apply CM 1039 to INV 10040",
        "Line": [{"Amount": Decimal("10.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
                 {"Amount": Decimal("10.00"), "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}]}]}


def test_amount_must_be_a_positive_decimal(client, session):
    with pytest.raises(TypeError):
        client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=10.0,
                                 request_id=rid())
    with pytest.raises(ValueError):
        client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("0"), request_id=rid())
    with pytest.raises(ValueError):
        client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                 amount=Decimal("1"), request_id="x" * 51)
    assert [e for e in session.exchanges if e.method == "POST"] == []


def test_apply_unapplied_payment_keeps_existing_lines(client, emu, session):
    result = client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("25.00"),
                                            request_id=rid())
    assert result.payment_id == "171"
    payment = emu.ledger.get("Payment", "171")
    assert invoice_lines(payment) == {"141": Decimal("40.00"), "140": Decimal("25.00")}
    assert payment["TotalAmt"] == Decimal("65.00") and payment["UnappliedAmt"] == Decimal("0")
    assert emu.ledger.get("Invoice", "140")["Balance"] == Decimal("35.00")
    assert emu.ledger.get("Invoice", "141")["Balance"] == Decimal("0")
    body = [e for e in session.exchanges if e.method == "POST"][0].request_body
    assert body["sparse"] is True and body["CustomerRef"] == {"value": "59"} and body["TotalAmt"] == 65
    assert all("LineEx" not in line for line in body["Line"])
    assert client.list_credits(customer_id="59") == []


def test_partial_application_then_undo(client, emu):
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("10.00"), request_id=rid(),
                                   note="Slack bot: apply payment 171 to INV 10050")
    assert emu.ledger.get("Payment", "171").get("PrivateNote", "").endswith("Slack bot: apply payment 171 to INV 10050")
    assert client.get_credit(kind="unapplied_payment", credit_id="171").remaining == Decimal("15.00")
    result = client.remove_invoice_line(payment_id="171", invoice_id="140", request_id=rid())
    assert invoice_lines(result.payment) == {"141": Decimal("40.00")}
    assert emu.ledger.get("Invoice", "140")["Balance"] == Decimal("60.00")
    assert emu.ledger.get("Payment", "171")["UnappliedAmt"] == Decimal("25.00")


def test_remove_invoice_line_when_already_removed_writes_nothing(client, session):
    result = client.remove_invoice_line(payment_id="171", invoice_id="140", request_id=rid())
    assert result.payment_id == "171"
    assert [e for e in session.exchanges if e.method == "POST"] == []


def test_delete_payment_undoes_a_credit_memo_application_and_is_quiet_when_gone(client, emu):
    applied = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                       amount=Decimal("10.00"), request_id=rid())
    client.delete_payment(payment_id=applied.payment_id, request_id=rid())
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("120.00")
    assert emu.ledger.get("CreditMemo", "150")["RemainingCredit"] == Decimal("10.00")
    client.delete_payment(payment_id=applied.payment_id, request_id=rid())  # already gone: quiet
    client.delete_payment(payment_id="987654", request_id=rid())  # never existed: quiet


def test_lost_response_is_replayed_by_requestid_one_payment_only(client, emu, sleeps):
    before = len(emu.ledger.list("Payment"))
    emu.faults.inject("drop_after_commit", times=1, match=lambda method, path: method == "POST")
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                      amount=Decimal("10.00"), request_id=rid())
    assert len(emu.ledger.list("Payment")) == before + 1
    assert len(sleeps) == 1  # one transient failure, one retry
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    assert result.payment_id in {p["Id"] for p in emu.ledger.list("Payment")}


def test_resumed_job_reusing_its_requestid_writes_nothing_new(client, emu):
    request_id = rid()
    kwargs = dict(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal("10.00"),
                  request_id=request_id)
    first = client.apply_credit_memo(**kwargs)
    again = client.apply_credit_memo(**kwargs)
    assert again.payment_id == first.payment_id
    assert len(payments_of(emu, "58")) == 1


def test_resumed_unapplied_payment_application_is_replayed(client, emu):
    request_id = rid()
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("25.00"), request_id=request_id)
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("25.00"), request_id=request_id)
    assert invoice_lines(emu.ledger.get("Payment", "171")) == {"141": Decimal("40.00"), "140": Decimal("25.00")}


def competing_application(emu, amount: str):
    """Someone else applies part of payment 171 in QuickBooks between our read and our write."""

    def act(request):
        url = f"{emu.base_url}/v3/company/{REALM}/payment/171?minorversion=75"
        headers = {"Authorization": f"Bearer {emu.mint_tokens()['access_token']}", "Accept": "application/json"}
        current = requests.get(url, headers=headers, timeout=5).json()["Payment"]
        lines = [{"Amount": line["Amount"], "LinkedTxn": line["LinkedTxn"]} for line in current["Line"]]
        lines.append({"Amount": float(amount), "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]})
        body = {"Id": "171", "SyncToken": current["SyncToken"], "sparse": True, "TotalAmt": current["TotalAmt"],
                "CustomerRef": current["CustomerRef"], "Line": lines}
        answer = requests.post(f"{emu.base_url}/v3/company/{REALM}/payment?minorversion=75&requestid={rid()}",
                               headers=headers, json=body, timeout=5)
        assert answer.status_code == 200, answer.text
        return None

    return act


def test_stale_sync_token_rereads_once_and_retries(client, emu, session):
    session.before(is_post_payment, competing_application(emu, "5"))
    request_id = rid()
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("20.00"), request_id=request_id)
    posts = [e for e in session.exchanges if e.method == "POST"]
    assert [p.status for p in posts] == [400, 200]
    assert posts[0].url.endswith(f"requestid={request_id}") and posts[1].url.endswith(f"requestid={request_id}-r2")
    payment = emu.ledger.get("Payment", "171")
    assert invoice_lines(payment) == {"141": Decimal("40.00"), "140": Decimal("25.00")}
    assert payment["UnappliedAmt"] == Decimal("0")
    assert emu.ledger.get("Invoice", "140")["Balance"] == Decimal("35.00")


def test_stale_twice_raises_conflict(client, emu, session):
    session.before(is_post_payment, competing_application(emu, "1"), times=2)
    with pytest.raises(ConflictError) as caught:
        client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("20.00"), request_id=rid())
    assert caught.value.code == "5010" and caught.value.status == 400 and caught.value.intuit_tid
    assert len([e for e in session.exchanges if e.method == "POST"]) == 2


def test_request_bodies_are_exact_json(session, client):
    client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                             amount=Decimal("0.10"), request_id=rid())
    raw = [e for e in session.exchanges if e.method == "POST"][0].raw_body
    assert '"Amount":0.10' in raw and json.loads(raw)["TotalAmt"] == 0
