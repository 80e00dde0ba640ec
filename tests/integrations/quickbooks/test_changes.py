"""The index's reads against the emulator: change data capture of credits (live, used up, deleted, capped at 1,000)
and the bulk re-read of what a webhook named, each following a payment to the credit memos it applies."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from integrations.quickbooks_models import CREDIT_MEMO, UNAPPLIED_PAYMENT


def _since(seconds_ago: float = 5) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).isoformat()


def test_cdc_reads_new_used_and_deleted_credits_with_the_server_time(client, emu):
    since = _since()
    memo = emu.ledger.create_credit_memo("58", "30.00", txn_date="2026-11-20", doc_number="1201")
    paid = emu.ledger.receive_payment("58", "45.00", txn_date="2026-11-20")
    client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id=memo["Id"], amount=Decimal("30.00"),
                             request_id="r-cdc-1", txn_date="2026-11-21")
    emu.ledger.delete_document("Invoice", emu.ledger.create_invoice("58", "5.00", txn_date="2026-11-20")["Id"])
    changes = client.credit_changes_since(since)
    found = {(c.kind, c.id): c for c in changes.credits}
    assert found[(CREDIT_MEMO, memo["Id"])].remaining == Decimal("0")  # created, then used up
    assert found[(UNAPPLIED_PAYMENT, paid["Id"])].remaining == Decimal("45.00")
    assert changes.time and not changes.capped and changes.gone == []
    # Undo of the application: the $0 payment is deleted; the memo is open again.
    zero = next(c for c in changes.credits if c.kind == UNAPPLIED_PAYMENT and c.total == 0)
    client.delete_payment(payment_id=zero.id, request_id="r-cdc-2")
    again = client.credit_changes_since(since)
    assert (UNAPPLIED_PAYMENT, zero.id) in again.gone
    assert {(c.kind, c.id): c.remaining for c in again.credits}[(CREDIT_MEMO, memo["Id"])] == Decimal("30.00")


def test_an_answer_of_1000_objects_is_flagged_capped(client, emu):
    since = _since()
    for n in range(1000):
        emu.ledger.create_credit_memo("58", "1.00", txn_date="2026-11-20", doc_number=f"B{n}")
    assert client.credit_changes_since(since).capped


def test_credits_now_follows_a_payment_to_the_memo_it_applies_and_names_the_missing(client, emu):
    memo = emu.ledger.create_credit_memo("58", "12.00", txn_date="2026-11-20", doc_number="1202")
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id=memo["Id"],
                                      amount=Decimal("5.00"), request_id="r-now-1", txn_date="2026-11-21")
    changes = client.credits_now(memo_ids=[], payment_ids=[result.payment_id, "999999"])
    found = {(c.kind, c.id): c.remaining for c in changes.credits}
    assert found == {(CREDIT_MEMO, memo["Id"]): Decimal("7.00"), (UNAPPLIED_PAYMENT, result.payment_id): Decimal("0")}
    assert changes.gone == [(UNAPPLIED_PAYMENT, "999999")]
