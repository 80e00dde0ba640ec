"""What a bookkeeper does in QuickBooks' own screens, as the console and the new-credit tests do it: a new credit
memo, and Receive Payment with no invoice ticked (Intuit, Payment: a payment "created with just an amount" is
recorded as a credit: `UnappliedAmt == TotalAmt`, no lines). Both reach the webhooks and change data capture."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.qbo_wire import QBOFault
from tests.sandbox.qbo.test_webhooks import TOKEN, Receiver

LATER = datetime(2026, 11, 30, 18, tzinfo=UTC).timestamp()


@pytest.fixture
def receiver():
    r = Receiver()
    r.url = r.start()
    yield r
    r.stop()


def test_a_received_payment_is_an_unapplied_credit_and_is_announced(emu, qbo, clock, receiver):
    clock.set(LATER)
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    before = emu.ledger.get("Customer", "58")["Balance"]
    paid = emu.ledger.receive_payment("58", "40.00", txn_date="2026-11-30", ref_number="CHK-7781")
    assert paid["UnappliedAmt"] == Decimal("40.00") == paid["TotalAmt"] and paid["Line"] == []
    assert paid["PaymentRefNum"] == "CHK-7781" and paid["CurrencyRef"]["value"] == "USD"
    assert emu.ledger.get("Customer", "58")["Balance"] == before - Decimal("40.00")
    memo = emu.ledger.create_credit_memo("58", "12.50", txn_date="2026-11-30", doc_number="1101")
    assert memo["RemainingCredit"] == Decimal("12.50")
    assert emu.webhooks.flush()
    sent = {(e["type"], e["intuitentityid"]) for p in receiver.posts for e in json.loads(p["body"])}
    assert {("qbo.payment.created.v1", paid["Id"]), ("qbo.creditmemo.created.v1", memo["Id"])} <= sent
    # Read back through the API as the bot reads it: the payment's unapplied amount is there.
    qbo.token = emu.mint_tokens()["access_token"]
    read = qbo.http.get(f"{emu.api_base}/payment/{paid['Id']}", headers=qbo._headers(), timeout=10).json()
    assert Decimal(str(read["Payment"]["UnappliedAmt"])) == Decimal("40.00")


def test_a_payment_dated_in_the_closed_period_is_refused(emu):
    with pytest.raises(QBOFault) as refused:
        emu.ledger.receive_payment("58", "40.00", txn_date="2025-12-31")
    assert refused.value.code == "6210"
