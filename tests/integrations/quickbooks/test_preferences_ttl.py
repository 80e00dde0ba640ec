"""Preferences change under a running bot (multicurrency switched on, the books closed): the client reuses them for
five minutes at most, and reads them again at once after a write QuickBooks refused for a reason they hold."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from integrations.errors import ValidationError
from integrations.quickbooks_transport import PREFS_TTL
from tests.clock import FakeClock


def preference_reads(session) -> int:
    return sum("/preferences" in x.url for x in session.exchanges)


def apply_memo(client, amount: str = "5.00"):
    return client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150", amount=Decimal(amount),
                                    request_id=str(uuid.uuid4()), txn_date="2026-11-26")


@pytest.fixture
def prefs_clock() -> FakeClock:
    return FakeClock()  # its own: the rate limiter's sleeps move the shared one


def test_reused_for_five_minutes_then_read_again(make_client, emu, session, prefs_clock):
    client = make_client(prefs_clock=prefs_clock)
    assert client.preferences().book_close_date == "2025-12-31"
    emu.ledger.close_books("2026-06-30")  # a bookkeeper closes the first half-year meanwhile
    prefs_clock.advance(PREFS_TTL - 1)
    assert client.preferences().book_close_date == "2025-12-31" and preference_reads(session) == 1
    prefs_clock.advance(1)
    assert client.preferences().book_close_date == "2026-06-30" and preference_reads(session) == 2


def test_multicurrency_switched_on_mid_run(make_client, emu, session, prefs_clock):
    client = make_client(prefs_clock=prefs_clock)
    assert client.preferences().multicurrency is False
    emu.company.enable_multicurrency()  # from QuickBooks' settings, while the bot runs
    with pytest.raises(ValidationError, match="CurrencyRef is required"):  # sent as single-currency: refused
        apply_memo(client)
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("120.00")
    result = apply_memo(client)  # no five minutes' wait: the refusal made the next use read Preferences
    assert client.preferences().multicurrency is True and preference_reads(session) == 2
    assert emu.ledger.get("Payment", result.payment_id)["CurrencyRef"]["value"] == "USD"
    assert emu.ledger.get("Invoice", "130")["Balance"] == Decimal("115.00")


def test_a_closed_period_refusal_reads_the_closing_date_again(make_client, emu, session, prefs_clock):
    client = make_client(prefs_clock=prefs_clock)
    assert client.preferences().book_close_date == "2025-12-31"
    emu.ledger.close_books("2099-12-31")
    with pytest.raises(ValidationError) as refused:
        apply_memo(client)
    assert refused.value.code == "6210"
    assert client.preferences().book_close_date == "2099-12-31" and preference_reads(session) == 2


def test_other_refusals_keep_the_preferences(make_client, emu, session, prefs_clock):
    client = make_client(prefs_clock=prefs_clock)
    client.preferences()
    with pytest.raises(ValidationError):
        apply_memo(client, "500.00")  # more than the credit memo holds: nothing Preferences explain
    assert any(x.method == "POST" and "/payment" in x.url for x in session.exchanges)  # QuickBooks refused it
    client.preferences()
    assert preference_reads(session) == 1
