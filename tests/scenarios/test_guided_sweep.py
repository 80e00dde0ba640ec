"""A sweep in guided ConnectBooster mode: planned from QuickBooks alone, the QuickBooks items as in API
mode, then ONE ConnectBooster checklist for the whole batch (every invoice to resync, one Sync Now), confirmed
once. The ConnectBooster emulator runs, and must see no request from the bot at all."""
import time
from decimal import Decimal

import pytest

from tests.scenarios.sweeps import BALANCES_AFTER, EXPECTED, batch, planned, propose, wait_finished
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, OUTSIDER, REQUESTER

PORTAL = "https://acme.connectboosterportal.com"
GUIDED = {"connectbooster_mode": "guided", "connectbooster_portal_url": PORTAL}
# QuickBooks alone cannot see the payment pending in ConnectBooster on Pier 9's invoice 10081 (API mode skips it
# and takes 10082): guided mode plans the oldest invoice, and the checklist asks to tell an approver about it.
PIER_9_API, PIER_9_GUIDED = ("Pier 9 Outfitters", "1054", "10082", "181", "30.00"), \
    ("Pier 9 Outfitters", "1054", "10081", "180", "30.00")
EXPECTED_GUIDED = (EXPECTED - {PIER_9_API}) | {PIER_9_GUIDED}


@pytest.fixture
def guided(make_world, clock):
    clock.set(time.time())  # the reminder compares the clock with the stored (wall-clock) checklist time
    return make_world(settings=GUIDED, overrides={"now": clock.now})


def no_connectbooster_calls(w) -> None:
    assert [r for r in w.cb.requests if not r["path"].startswith("/_emulator")] == []


def thread(w, message: dict) -> list[dict]:
    return w.slack.thread(CHANNEL, message["ts"])


def checklist(w, message: dict) -> dict:
    """The checklist reply in the sweep's thread (waits for it)."""
    return w.slack.wait_for(lambda s: next((m for m in thread(w, message)
                                            if "sweep_guided_done" in str(m.get("blocks"))), None), timeout=20)


def approved_sweep(w) -> tuple[dict, dict]:
    message = propose(w)
    assert w.driver.click(APPROVER, "sweep_approve", source=message).status == 200
    return message, checklist(w, message)


def test_sweep_plans_from_quickbooks_and_one_checklist_is_confirmed_once(guided):
    w = guided
    message = propose(w)
    assert planned(w) == EXPECTED_GUIDED
    assert "Guided mode: planned from QuickBooks alone" in str(message["blocks"])
    w.driver.click(APPROVER, "sweep_approve", source=message)
    listed = checklist(w, message)

    # QuickBooks is done, item by item, exactly as in API mode; ConnectBooster waits for the person.
    assert batch(w).state == "guided_checklist"
    items = w.bot.store.in_batch(1)
    assert [j.state for j in items] == ["awaiting_batch_sync"] * 9
    for _, _, _, invoice_id, _ in EXPECTED_GUIDED:
        assert len(w.payments_on(invoice_id)) == 1, invoice_id
    for invoice_id, balance in {**BALANCES_AFTER, "180": "60.00", "181": "45.00"}.items():
        assert w.invoice_balance(invoice_id) == Decimal(balance), invoice_id

    # ONE checklist: every invoice with its new balance, one Sync Now with the sync date, the check, two buttons.
    text = str(listed["blocks"])
    for _, _, number, _, _ in EXPECTED_GUIDED:
        assert f"invoice *{number}*" in text, number
    assert "*10031* → *$75.00 of $85.00*" in text and "*20004* → *$25.00 of $50.00*" in text
    assert "Resync 9 invoices" in text and text.count("Sync Now") == 1
    assert "sync from *2026-08-20*" in text  # Blue Heron's payment is the oldest credit
    assert f"<{PORTAL}|ConnectBooster>" in text and "&lt;!channel&gt; Holdings" in text
    assert sum("sweep_guided_done" in str(m.get("blocks")) for m in thread(w, message)) == 1
    w.slack.wait_for(lambda s: "ConnectBooster checklist in the thread" in str(s.message(CHANNEL, message["ts"])))

    # Nobody but the proposer or an approver may close nine applications with one click.
    w.driver.click(OUTSIDER, "sweep_guided_done", source=listed)
    w.slack.wait_for(lambda s: any("Only the sweep's proposer or an approver" in t
                                   for t in w.ephemeral_texts(OUTSIDER)))
    assert batch(w).state == "guided_checklist"

    # The proposer confirms once: every item verified, the sweep finished, one summary, one notice.
    assert w.driver.click(APPROVER_2, "sweep_guided_done", source=listed).status == 200
    wait_finished(w)
    assert [j.state for j in w.bot.store.in_batch(1)] == ["verified"] * 9
    assert batch(w).confirmed_by == APPROVER_2
    summary = w.slack.wait_for(lambda s: [m for m in thread(w, message) if "finished" in m["text"]], timeout=10)
    assert "9 of 9 applications verified" in summary[0]["text"]
    assert f"checklist confirmed by <@{APPROVER_2}>" in summary[0]["text"]
    notices = w.slack.wait_for(lambda s: s.messages(NOTIFY), timeout=10)
    assert len(notices) == 1 and f"confirmed by <@{APPROVER_2}> (guided mode)" in notices[0]["text"]
    # Who confirmed, and when: each item's audit trail (`bot.py history --job N`) names the person.
    for job in w.bot.store.in_batch(1):
        verified = [e for e in w.bot.store.events(job.id) if e.kind == "verified"]
        assert [(e.actor, e.details["confirmed_by"]) for e in verified] == [(APPROVER_2, APPROVER_2)]

    # A second click (a colleague, or a double click) changes nothing and says who confirmed.
    w.driver.click(APPROVER, "sweep_guided_done", source=listed)
    w.slack.wait_for(lambda s: any(f"already confirmed by <@{APPROVER_2}>" in t for t in w.ephemeral_texts(APPROVER)))
    assert len(w.slack.messages(NOTIFY)) == 1
    assert sum(len(w.payments_on(i)) for _, _, _, i, _ in EXPECTED_GUIDED) == 9
    no_connectbooster_calls(w)


def test_something_off_answers_with_the_article_advice_and_the_checklist_stays(guided):
    w = guided
    message, listed = approved_sweep(w)
    assert w.driver.click(REQUESTER, "sweep_guided_problem", source=listed).status == 200
    w.slack.wait_for(lambda s: any("Only the sweep's proposer" in t for t in w.ephemeral_texts(REQUESTER)))
    assert w.driver.click(APPROVER, "sweep_guided_problem", source=listed).status == 200
    advice = w.slack.wait_for(lambda s: next((m["text"] for m in thread(w, message)
                                              if "something is off" in m["text"]), None), timeout=10)
    assert "resync it again" in advice and "widen the sync date range" in advice and "2026-08-20" in advice
    assert batch(w).state == "guided_checklist" and not w.slack.messages(NOTIFY)
    assert [(e.actor, e.details["batch"]) for e in w.bot.store.events()
            if e.kind == "sweep_guided_problem"] == [(APPROVER, 1)]
    w.driver.click(APPROVER, "sweep_guided_done", source=listed)  # the checklist's buttons still work
    wait_finished(w)


def test_one_reminder_for_an_unconfirmed_checklist_at_a_fixed_clock(guided, clock):
    w = guided
    message, _ = approved_sweep(w)
    clock.advance(29 * 60)
    assert w.bot.guided.remind_due() == 0
    clock.advance(2 * 60)
    assert w.bot.guided.remind_due() == 1
    assert w.bot.guided.remind_due() == 0  # one reminder
    reminder = w.slack.wait_for(lambda s: next((m["text"] for m in thread(w, message) if "reminder" in m["text"]),
                                               None), timeout=10)
    assert f"<@{APPROVER_2}> reminder" in reminder and "Sweep #1's ConnectBooster checklist" in reminder
    assert "31 minutes" in reminder

    # After a day it is listed under "needs attention": the digest, and App Home for approvers and the proposer.
    w.bot.digest.post(clock.now().date().isoformat())
    digest = w.slack.wait_for(lambda s: next((m for m in s.messages(NOTIFY) if "Credit digest" in m["text"]), None))
    assert "sweep checklist" not in digest["text"]  # 31 minutes is not a day
    clock.advance(24 * 3600)
    w.bot.digest.post(clock.now().date().isoformat())
    digest = w.slack.wait_for(lambda s: next((m for m in reversed(s.messages(NOTIFY)) if "1 sweep checklist"
                                              in m["text"]), None))
    assert "Sweep #1 — its ConnectBooster checklist (9 applications) has waited a day" in str(digest["blocks"])
    for user, shown in ((APPROVER, True), (APPROVER_2, True), (REQUESTER, False)):
        before = len(w.slack.calls_to("views.publish"))
        assert w.driver.app_home_opened(user).status == 200
        w.slack.wait_for(lambda s, before=before: len(s.calls_to("views.publish")) > before)
        assert ("Sweep #1 — its ConnectBooster checklist" in str(w.slack.views(user)["home"])) is shown, user
    assert w.bot.guided.remind_due() == 0  # still one reminder


def test_a_restart_between_the_confirmation_and_the_items_finishes_once(guided):
    w = guided
    message, listed = approved_sweep(w)
    # The confirmation is stored before the items move: a crash right after it leaves all nine parked.
    sweeps = w.bot.service.sweeps
    sweeps.batches.transition(1, from_states=["guided_checklist"], to_state="guided_checklist",
                              confirmed_by=APPROVER_2)
    w.restart()
    wait_finished(w)
    assert [j.state for j in w.bot.store.in_batch(1)] == ["verified"] * 9
    notices = w.slack.wait_for(lambda s: s.messages(NOTIFY), timeout=10)
    assert len(notices) == 1 and f"confirmed by <@{APPROVER_2}>" in notices[0]["text"]
    assert sum(len(w.payments_on(i)) for _, _, _, i, _ in EXPECTED_GUIDED) == 9  # nothing written again
    no_connectbooster_calls(w)


def test_a_credit_the_sweep_used_cannot_be_requested_while_its_checklist_is_open(guided):
    w = guided
    approved_sweep(w)
    # Credit memo #1039 went to invoice 10031 in the sweep: QuickBooks shows it used up, so the picker offers
    # nothing to apply, only the ConnectBooster-only guide for it.
    view = w.open_picker("Atomar's Best Tackle")
    text = str(view["blocks"])
    assert "invoice" not in {b.get("block_id") for b in view["blocks"]}, text
    assert "1039" in text and "Guide me through the ConnectBooster steps" in text
    assert w.invoice_balance("130") == Decimal("120.00") and len(w.payments_on("130")) == 0
    assert batch(w).state == "guided_checklist"
