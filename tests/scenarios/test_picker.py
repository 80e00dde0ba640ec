"""The picker: lookup, defaults, validation refusals, big clients, special names."""
from decimal import Decimal

import pytest

from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER, mrkdwn_texts


def blocks_text(view) -> str:
    return str(view["blocks"])


def input_block(view, block_id):
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_help_shows_usage_and_empty_command_opens_the_inbox(world):
    resp = world.driver.command(REQUESTER, CHANNEL, "help")
    assert resp.status == 200 and "/applycredit <client>" in resp.json()["text"]
    assert "`/applycredit inbox`" in resp.json()["text"]
    resp = world.driver.command(REQUESTER, CHANNEL, "")
    assert resp.status == 200 and not resp.text.strip()  # no usage text: the inbox modal opens instead
    inbox = world.slack.wait_for(lambda s: "clients with open credits" in str(s.views(REQUESTER)["modals"]))
    assert inbox


def test_oldest_invoice_is_preselected_with_the_default_amount(world):
    view = world.open_picker("atomar's best")
    assert input_block(view, "invoice")["element"]["initial_option"]["text"]["text"].startswith("10031 ")
    assert input_block(view, "amount")["element"]["initial_value"] == "10.00"
    job_id = world.request("atomar's best")
    job = world.job(job_id)
    assert job.invoice_number == "10031" and job.amount == Decimal("10.00")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    assert world.invoice_balance("120") == Decimal("75.00") and world.invoice_balance("130") == Decimal("120.00")


def test_unknown_client_says_what_was_searched(world):
    view = world.open_picker("Nonexistent Widgets")
    assert "No client matches" in blocks_text(view) and "Nonexistent Widgets" in blocks_text(view)


def test_ambiguous_client_offers_a_choice(world):
    view = world.open_picker("atomar")
    assert "2 clients match" in blocks_text(view)
    select = view["blocks"][1]["elements"][0]
    names = [o["text"]["text"] for o in select["options"]]
    assert names == ["Atomar's Bait Shop", "Atomar's Best Tackle"]
    world.driver.click(REQUESTER, "choose_client", source=view, selected_option=select["options"][1])
    picked = world.slack.wait_for(lambda s: "11261" in str(s.views(REQUESTER)["modals"]) and s.views(REQUESTER)["modals"][-1])
    assert "Apply a credit — Atomar's Best Tackle" in blocks_text(picked)


def test_curly_and_straight_apostrophes_find_the_same_client(world):
    for typed in ("O'Malley's Marina", "o’malley"):
        view = world.open_picker(typed)
        assert "Apply a credit — O’Malley’s Marina" in blocks_text(view), typed


def test_channel_mention_in_a_client_name_pings_no_one(world):
    view = world.open_picker("channel> Holdings")
    texts = mrkdwn_texts(view["blocks"])
    assert view["blocks"][0]["text"] == {"type": "plain_text", "text": "Apply a credit — <!channel> Holdings", "emoji": True}
    assert texts and not any("<!channel>" in t for t in texts)
    job_id = world.request("channel> Holdings")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    world.wait_thread(job_id, "Verified")
    everything = [m for m in world.slack.calls if m["method"].startswith("chat.")]
    assert everything and not any("<!channel>" in t for c in everything for t in mrkdwn_texts(c["args"].get("blocks")))
    assert not any("<!channel>" in str(c["args"].get("text", "")) for c in everything)
    assert any("&lt;!channel&gt; Holdings" in t for c in everything for t in mrkdwn_texts(c["args"].get("blocks")))


@pytest.mark.parametrize("amount,fragment", [
    ("-1", "must be positive"), ("0", "more than $0.00"), ("0.001", "at most 2 decimals"),
    ("10.005", "at most 2 decimals"), ("1e9", "not an amount"), ("ten", "not an amount"),
    ("10,00", "Use a dot"), ("NaN", "not an amount"), ("Infinity", "not an amount"),
    ("10.01", "more than the credit's remaining $10.00"),
])
def test_amount_refusals_name_the_problem(world, amount, fragment):
    view = world.open_picker("Atomar's Best Tackle")
    body = world.submit(view, invoice="10040", amount=amount).json()
    assert body["response_action"] == "errors" and fragment in body["errors"]["amount"]
    assert world.bot.store.all() == []


def test_amount_above_invoice_balance_is_refused(world):
    view = world.open_picker("Coastal Bait Co")
    body = world.submit(view, invoice="20001", amount="60").json()
    assert "more than invoice 20001's open balance of $50.00" in body["errors"]["amount"]


def test_dollar_sign_is_accepted(world):
    view = world.open_picker("Atomar's Best Tackle")
    body = world.submit(view, invoice="10040", amount="$10").json()
    assert body["response_action"] == "update"


def test_pending_connectbooster_payment_blocks_the_invoice(world):
    view = world.open_picker("Pier 9 Outfitters")
    assert "payment pending sync" in blocks_text(view)
    body = world.submit(view, invoice="10081", amount="30").json()
    assert "waiting to sync" in body["errors"]["invoice"]
    assert world.submit(view, invoice="10082", amount="30").json()["response_action"] == "update"


def test_client_with_more_invoices_than_a_menu_holds(world):
    view = world.open_picker("Coastal Bait Co")
    element = input_block(view, "invoice")["element"]
    assert element["type"] == "external_select" and element["initial_option"]["text"]["text"].startswith("20001 ")
    options = world.driver.options(user=REQUESTER, action_id="invoice", block_id="invoice", value="2011",
                                   source=view).json()["options"]
    assert [o["text"]["text"][:5] for o in options] == [str(n) for n in range(20110, 20120)]
    job_id = world.request("Coastal Bait Co", invoice="20120", amount="50")
    assert world.job(job_id).invoice_number == "20120"


def test_unapplied_payment_keeps_its_existing_lines(world):
    job_id = world.request("Blue Heron Marine", invoice="10050", amount="25")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    payment = world.qbo.ledger.get("Payment", "171")
    links = sorted((link["TxnId"], str(line["Amount"])) for line in payment["Line"] for link in line["LinkedTxn"])
    assert [(t, Decimal(a)) for t, a in links] == [("140", Decimal("25")), ("141", Decimal("40"))]
    assert Decimal(str(payment["UnappliedAmt"])) == 0 and Decimal(str(payment["TotalAmt"])) == Decimal("65")
    assert world.invoice_balance("140") == Decimal("35.00")


def test_resync_only_for_a_credit_already_applied_in_quickbooks(world):
    reel_deal = lambda: [p for p in world.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "64"]  # noqa: E731
    payments_before = reel_deal()
    view = world.open_picker("Reel Deal Charters")
    assert "applied in QuickBooks, waiting for a ConnectBooster sync" in blocks_text(view)
    assert not any(b.get("block_id") == "amount" for b in view["blocks"])  # nothing to apply
    world.driver.click(REQUESTER, "resync_only", source=view)
    world.slack.wait_for(lambda s: "Resync #" in str(s.views(REQUESTER)["modals"]))
    job = world.slack.wait_for(lambda s: world.bot.store.all() and world.bot.store.all()[0])
    world.wait_state(job.id, "verified", timeout=15)
    assert reel_deal() == payments_before  # nothing written to QuickBooks
    assert "11267" not in str([c["id"] for c in world.cb.snapshot()["credits"] if c["status"] == "open"])
    assert world.wait_thread(job.id, "Verified")


def test_expired_trigger_gets_a_clear_answer(world):
    world.slack.faults.inject("expired_trigger_id", match="views.open")
    world.driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle")
    texts = world.slack.wait_for(lambda s: [e["text"] for e in s.ephemerals(REQUESTER) if "run" in e.get("text", "")])
    assert "expired_trigger_id" in texts[-1] and "again" in texts[-1]
