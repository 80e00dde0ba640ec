"""The books panel's bookkeeper actions (a new credit memo, a payment received with no invoice), through the
console's API: QuickBooks gets the credit, its signed webhook reaches the bot, the proposal appears."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.console import start_console
from tests.console.test_api import post
from tests.scenarios.credits import TOKEN, listen
from tests.scenarios.world import NOTIFY, REQUESTER, World


@pytest.fixture
def hearing_console(tmp_path):
    world = World(tmp_path, settings={"qbo_webhook_verifier_token": TOKEN}, transport="http")
    world.sandbox.bot_url = world.driver.bot_url
    listen(world)  # QuickBooks' webhooks at the bot, as `make run` sets them up
    assert world.bot.watch.wait_ready(timeout=20)
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds)
    yield world
    world.console.stop()
    world.close()


def test_new_credit_memo_and_received_payment_are_proposed(hearing_console):
    w = hearing_console
    r = post(w, "books", user=REQUESTER, do="credit_memo", client="Atomar's Best Tackle", amount="25.00")
    assert r.status_code == 200 and "recorded in QuickBooks" in r.json()["message"]
    r = post(w, "books", user=REQUESTER, do="payment", client="Blue Heron Marine", amount="$40")
    assert r.status_code == 200
    assert w.qbo.webhooks.flush()
    posted = w.slack.wait_for(lambda s: len([m for m in s.messages(NOTIFY) if "proposal #" in m.get("text", "")]) == 2
                              and s.messages(NOTIFY), timeout=15)
    texts = " ".join(str(m.get("blocks")) for m in posted)
    assert "$25.00" in texts and "$40.00" in texts and "unapplied payment" in texts
    memos = [m for m in w.qbo.ledger.list("CreditMemo") if m["TotalAmt"] == Decimal("25.00")]
    assert len(memos) == 1


@pytest.mark.parametrize("body, error", [
    ({"do": "credit_memo", "client": "Atomar's Best Tackle", "amount": "-5"}, "Type an amount above 0"),
    ({"do": "credit_memo", "client": "Atomar's Best Tackle", "amount": "1.234"}, "Type an amount above 0"),
    ({"do": "credit_memo", "client": "Nobody Ltd", "amount": "5"}, "not a QuickBooks customer"),
    ({"do": "invoice", "client": "Atomar's Best Tackle", "amount": "5"}, "Unknown bookkeeper action"),
])
def test_bad_input_is_answered_with_what_to_fix(hearing_console, body, error):
    r = post(hearing_console, "books", user=REQUESTER, **body)
    assert r.status_code == 400 and error in r.json()["error"]
