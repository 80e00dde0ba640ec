"""Never write twice when QuickBooks does not replay a requestid.

The emulator runs with `replay_requestids = False` (window expired / another data centre) and the
"commit, then drop the connection" fault: the first write lands but its answer is lost.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import requests

from integrations.errors import ValidationError
from integrations.quickbooks_payments import find_marker, write_marker

from .helpers import is_post_payment


def payment_posts(emu) -> list:
    """POST /payment requests the emulator received (dropped answers included)."""
    return [r for r in emu.requests if r["method"] == "POST" and r["path"].endswith("/payment")]


def reset(request):
    """The connection fails before the request reaches QuickBooks: nothing was written."""
    raise requests.ConnectionError("connection reset before sending")


def test_write_marker_round_trip():
    note = write_marker(12, "ap-12-1-abc")
    assert note == "applycredit job 12 (requestid ap-12-1-abc)"
    assert find_marker(f"Finance: keep\n{note}").job_id == "12"
    assert find_marker(note).request_id == "ap-12-1-abc"
    assert find_marker(write_marker(12)).request_id is None
    assert find_marker("nothing here") is None
    assert not find_marker(write_marker(12)).matches(find_marker(write_marker(123, "x")))


def test_credit_memo_answer_lost_reconcile_finds_it_no_second_write(client, emu, session):
    emu.replay_requestids = False
    emu.faults.inject("drop_after_commit", match="/payment")
    rid = str(uuid.uuid4())
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                      amount=Decimal("10.00"), request_id=rid, txn_date="2026-10-02",
                                      note=write_marker(7, rid))
    assert result.payment_id and result.payment["TotalAmt"] == 0
    assert len(payment_posts(emu)) == 1  # the lost write was found, not repeated
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    assert len([p for p in emu.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"]) == 1


def test_credit_memo_not_found_writes_once(client, emu, session):
    emu.replay_requestids = False
    # The connection fails before QuickBooks commits anything: reconcile finds nothing, so write (once).
    session.before(is_post_payment, reset)
    rid = str(uuid.uuid4())
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                      amount=Decimal("10.00"), request_id=rid, txn_date="2026-10-02",
                                      note=write_marker(8, rid))
    assert result.payment_id
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
    assert len([p for p in emu.ledger.list("Payment") if p["CustomerRef"]["value"] == "58"]) == 1


def test_unapplied_payment_answer_lost_reconcile_finds_it_no_second_line(client, emu, session):
    emu.replay_requestids = False
    emu.faults.inject("drop_after_commit", match="/payment")
    rid = str(uuid.uuid4())
    result = client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("25.00"),
                                            request_id=rid, note=write_marker(9, rid))
    assert result.payment_id == "171"
    assert len(payment_posts(emu)) == 1
    pay = emu.ledger.get("Payment", "171")
    assert [line["Amount"] for line in pay["Line"]] == [Decimal("40.00"), Decimal("25.00")]
    assert pay["UnappliedAmt"] == 0 and emu.ledger.get("Invoice", "140")["Balance"] == Decimal("35.00")


def test_unapplied_payment_not_found_writes_once(client, emu, session):
    emu.replay_requestids = False
    session.before(is_post_payment, reset)
    rid = str(uuid.uuid4())
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("5.00"), request_id=rid,
                                   note=write_marker(10, rid))
    assert emu.ledger.get("Invoice", "140")["Balance"] == Decimal("55.00")
    assert len(emu.ledger.get("Payment", "171")["Line"]) == 2


def test_retry_of_the_job_after_a_kill_finds_the_first_attempt(client, emu, session):
    # A kill after the write: the job retries later with a new requestid; the job-level marker finds it.
    first = str(uuid.uuid4())
    client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal("10.00"),
                             request_id=first, txn_date="2026-10-02", note=write_marker(11, first))
    found = client.find_credit_memo_application(customer_id="58", credit_memo_id="150", invoice_id="130",
                                                amount=Decimal("10.00"), marker=write_marker(11))
    assert found is not None and found.payment["PrivateNote"].startswith("applycredit job 11")
    assert client.find_credit_memo_application(customer_id="58", credit_memo_id="150", invoice_id="130",
                                               amount=Decimal("10.00"), marker=write_marker(12)) is None
    # and the repeat itself, with a fresh requestid, is refused (spent) -> reconciled, not an error
    again = str(uuid.uuid4())
    result = client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                      amount=Decimal("10.00"), request_id=again, txn_date="2026-10-02",
                                      note=write_marker(11, again))
    assert result.payment_id == found.payment_id
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")


def test_find_payment_application_needs_the_marker_and_the_line(client, emu):
    rid = str(uuid.uuid4())
    assert client.find_payment_application(payment_id="171", invoice_id="140", amount=Decimal(5),
                                           marker=write_marker(20)) is None
    client.apply_unapplied_payment(payment_id="171", invoice_id="140", amount=Decimal("5.00"), request_id=rid,
                                   note=write_marker(20, rid))
    assert client.find_payment_application(payment_id="171", invoice_id="140", amount=Decimal(5),
                                           marker=write_marker(20)) is not None
    assert client.find_payment_application(payment_id="171", invoice_id="140", amount=Decimal(5),
                                           marker=write_marker(21)) is None


def test_a_refusal_that_is_not_our_write_still_raises(client, emu):
    rid = str(uuid.uuid4())
    with pytest.raises(ValidationError):
        client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal(50),
                                 request_id=rid, txn_date="2026-10-02", note=write_marker(30, rid))


def test_without_a_marker_an_unknown_outcome_is_retried_by_requestid(client, emu, session):
    # Replay on (the documented case): the old behaviour stays, one application.
    emu.faults.inject("drop_after_commit", match="/payment")
    client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal("10.00"),
                             request_id=str(uuid.uuid4()), txn_date="2026-10-02")
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("110.00")
