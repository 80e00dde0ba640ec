"""Credits in a closed period (QuickBooks' BookCloseDate): QuickBooks refuses to change a record dated on or before it
(6210), so an old unapplied payment (applied by updating that Payment) is shown as closed and never offered nor
planned; a credit memo (applied by a NEW Payment dated today) still goes ahead, whatever its or the invoice's date."""
from decimal import Decimal

import pytest

from tests.scenarios.sweeps import BALANCES_AFTER, EXPECTED, planned, propose, wait_finished
from tests.scenarios.test_guided_sweep import EXPECTED_GUIDED, GUIDED
from tests.scenarios.test_inbox import row
from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER

# After Blue Heron's payment 171 (2026-08-20), Atomar's credit memo 150 (2026-10-01) and every seeded invoice but
# three; before the clock's today (2026-11-26), the date every application is written with.
CLOSED = "2026-10-15"
SHOWN = f"in a closed period (books closed through {CLOSED})"
BLUE_HERON = ("Blue Heron Marine", "171", "10050", "140", "25.00")


@pytest.fixture
def closed(make_world, clock):
    w = make_world(overrides={"now": clock.now})
    w.qbo.ledger.close_books(CLOSED)  # a bookkeeper closes the books through mid-October
    return w


def inbox(world, timeout: float = 5) -> dict:
    """Open the inbox (either mode's) and wait until it has read (the large company's takes seconds: `timeout`)."""
    earlier = {v["id"] for v in world.slack.views(REQUESTER)["modals"]}
    assert world.driver.command(REQUESTER, CHANNEL, "").status == 200
    return world.slack.wait_for(lambda s: (m := [v for v in s.views(REQUESTER)["modals"] if v["id"] not in earlier])
                                and "hourglass" not in str(m[-1]["blocks"]) and m[-1], timeout=timeout)


def thread_texts(world, message: dict) -> str:
    """The sweep's thread once its "Not in this sweep" reply is there (the plan's pages may come before it)."""
    return str([m.get("text") for m in world.slack.wait_for(
        lambda s: any("Not in this sweep" in (m.get("text") or "") for m in s.thread(CHANNEL, message["ts"]))
        and s.thread(CHANNEL, message["ts"]), timeout=20)])


def test_the_picker_shows_an_old_payment_as_closed_and_offers_nothing(closed):
    view = closed.open_picker("Blue Heron Marine")
    text = str(view["blocks"])
    assert f"_{SHOWN}: QuickBooks refuses to change it_" in text
    assert f"Nothing to request: the credits left are {SHOWN}" in text
    assert view["callback_id"] == "applycredit_info" and "block_id': 'credit'" not in text  # no form


def test_a_credit_memo_of_the_closed_period_is_applied_by_a_payment_dated_today(closed):
    text = str(closed.open_picker("Atomar's Best Tackle")["blocks"])
    assert "closed period" not in text  # credit memo 150 (2026-10-01) is offered
    job_id = closed.request(invoice="10031", amount="10")  # invoice 10031 is dated 2026-08-14
    closed.approve(job_id, APPROVER)
    closed.wait_state(job_id, "verified", timeout=15)
    (payment,) = closed.payments_on("120")
    assert payment["TxnDate"] == "2026-11-26" and closed.invoice_balance("120") == Decimal("75.00")


def test_the_sweep_leaves_the_closed_payment_out_says_why_and_runs_the_rest(closed):
    message = propose(closed)
    assert planned(closed) == EXPECTED - {BLUE_HERON}
    assert (f"Blue Heron Marine: payment #171 of 2026-08-20 ($25.00) is {SHOWN}: QuickBooks refuses to change it"
            in thread_texts(closed, message))
    assert closed.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    finished = wait_finished(closed)
    assert all(j.state == "verified" for j in closed.bot.store.in_batch(finished.id))  # no 6210 anywhere
    for invoice_id, balance in BALANCES_AFTER.items():
        assert closed.invoice_balance(invoice_id) == Decimal("60.00" if invoice_id == "140" else balance), invoice_id


def test_the_inbox_shows_it_closed_without_a_button(closed):
    shown = row(inbox(closed), 11262)
    assert f"_in a closed period_: books closed through {CLOSED}: QuickBooks refuses to change it" in \
        shown["text"]["text"]
    assert "accessory" not in shown
    assert row(inbox(closed), 11261)["accessory"]["action_id"] == "inbox_apply"  # the credit memo can go


def test_a_write_refused_for_closed_books_shows_the_closing_date_at_once(make_world, clock):
    w = make_world(overrides={"now": clock.now})
    job_id = w.request("Blue Heron Marine", invoice="10050", amount="25")  # books open: offered
    w.qbo.ledger.close_books(CLOSED)
    w.approve(job_id, APPROVER)
    assert "accounting period is closed" in w.wait_state(job_id, "needs_attention", timeout=15).error
    # No five minutes' wait for the cached Preferences: the refusal made the next read fetch them.
    assert SHOWN in str(w.open_picker("Blue Heron Marine")["blocks"])


def test_guided_mode_shows_it_and_plans_without_it(make_world, clock):
    w = make_world(settings=GUIDED, overrides={"now": clock.now})
    w.qbo.ledger.close_books(CLOSED)
    text = str(inbox(w)["blocks"])
    blue_heron = text[text.index("*Blue Heron Marine*"):]
    assert f"_{SHOWN}_: QuickBooks refuses to change it" in blue_heron.split("*Coastal")[0]
    message = propose(w)
    assert planned(w) == EXPECTED_GUIDED - {BLUE_HERON}
    assert f"Blue Heron Marine: payment #171 of 2026-08-20 ($25.00) is {SHOWN}" in thread_texts(w, message)
