"""Guided ConnectBooster mode, end to end: QuickBooks automated, ConnectBooster's half confirmed by a
person with buttons in the thread. The bot talks to the QuickBooks emulator and the fake Slack only: the
ConnectBooster emulator runs, and must see no request from the bot at all."""
import time
from decimal import Decimal

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, OUTSIDER, REQUESTER

PORTAL = "https://acme.connectboosterportal.com"
GUIDED = {"connectbooster_mode": "guided", "connectbooster_portal_url": PORTAL}


@pytest.fixture
def guided(make_world, clock):
    clock.set(time.time())  # reminders compare the clock with the steps' stored (wall-clock) times
    return make_world(settings=GUIDED, overrides={"now": clock.now})


def buttons(message: dict, job_id: int | None = None) -> set[str]:
    """The action ids of the message's buttons (only those for `job_id` when given: undo shares the thread)."""
    return {e.get("action_id") for b in message.get("blocks", []) if b.get("type") == "actions"
            for e in b.get("elements", []) if job_id is None or e.get("value") == str(job_id)}


def thread_messages(w, job_id: int) -> list[dict]:
    return w.slack.thread(CHANNEL, w.job(job_id).parent_ts)


def step(w, job_id: int, action_id: str, timeout: float = 10) -> dict:
    """The latest thread message offering `action_id` (waits for it)."""
    return w.slack.wait_for(lambda s: next((m for m in reversed(thread_messages(w, job_id))
                                            if action_id in buttons(m, job_id)), None), timeout)


def press(w, job_id: int, action_id: str, user: str = REQUESTER):
    resp = w.driver.click(user, action_id, source=step(w, job_id, action_id))
    assert resp.status == 200, resp.text
    return resp


def approved_job(w, text="Atomar's Best Tackle", **choices) -> int:
    job_id = w.request(text, **choices)
    assert w.approve(job_id, APPROVER).status == 200
    w.wait_state(job_id, "guided_resync", "guided_sync", timeout=15)
    return job_id


def parent_text(w, job_id: int) -> str:
    return str(w.parent(job_id)["blocks"])


def no_connectbooster_calls(w) -> None:
    assert [r for r in w.cb.requests if not r["path"].startswith("/_emulator")] == []


def test_credit_memo_guided_end_to_end(guided):
    w = guided
    view = w.open_picker("Atomar's Best Tackle")
    assert "1039" in str(view["blocks"]) and "10040" in str(view["blocks"])  # from QuickBooks alone
    job_id = approved_job(w, invoice="10040", amount="10")
    assert w.invoice_balance("130") == Decimal("110.00") and len(w.payments_on("130")) == 1

    first = step(w, job_id, "guided_resynced")
    text = str(first["blocks"])
    for fragment in ("Entities", "Invoices", "10040", "Resync", "$110.00 of $120.00", PORTAL):
        assert fragment in text, fragment
    w.slack.wait_for(lambda s: "Resync the invoice: active" in parent_text(w, job_id))

    press(w, job_id, "guided_resynced")
    second = step(w, job_id, "guided_sync_started")
    assert "Sync Now" in str(second["blocks"]) and "Autotask or ConnectWise" in str(second["blocks"])
    # The day before the application, or the credit's date if older: credit memo #1039 is dated 2026-10-01.
    assert "sync from *2026-10-01*" in str(second["blocks"])
    w.slack.wait_for(lambda s: "Run the sync: pending" in parent_text(w, job_id))

    press(w, job_id, "guided_sync_started")
    w.slack.wait_for(lambda s: "Run the sync: active" in parent_text(w, job_id))
    press(w, job_id, "guided_sync_finished")
    w.slack.wait_for(lambda s: "Run the sync: complete" in parent_text(w, job_id))
    third = step(w, job_id, "guided_all_clear")
    assert "Organizational Credits" in str(third["blocks"]) and "#1039" in str(third["blocks"])

    press(w, job_id, "guided_all_clear")
    w.wait_state(job_id, "verified")
    notices = w.slack.wait_for(lambda s: s.messages(NOTIFY))
    assert len(notices) == 1 and f"confirmed by <@{REQUESTER}>" in notices[0]["text"]
    assert "$10.00" in notices[0]["text"] and "10040" in notices[0]["text"]
    w.slack.wait_for(lambda s: "confirmed in ConnectBooster by a person" in parent_text(w, job_id))
    # Who clicked what, and when: the audit trail (`bot.py history`).
    mine = [(e.actor, e.kind) for e in w.bot.store.events(job_id)
            if e.kind.startswith("guided_") or e.kind == "verified"]
    assert (REQUESTER, "guided_resynced") in mine and (REQUESTER, "guided_sync_finished") in mine
    assert (REQUESTER, "verified") in mine
    assert len(w.payments_on("130")) == 1
    no_connectbooster_calls(w)


def test_unapplied_payment_guided_end_to_end(guided):
    w = guided
    job_id = approved_job(w, "Blue Heron Marine", invoice="10050", amount="25")
    assert w.invoice_balance("140") == Decimal("35.00")
    for action in ("guided_resynced", "guided_sync_finished", "guided_all_clear"):
        press(w, job_id, action, user=APPROVER)  # an approver may confirm too
    w.wait_state(job_id, "verified")
    notices = w.slack.wait_for(lambda s: s.messages(NOTIFY))
    assert len(notices) == 1 and f"confirmed by <@{APPROVER}>" in notices[0]["text"]
    no_connectbooster_calls(w)


def test_shows_something_else_records_and_explains(guided):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="10")
    press(w, job_id, "guided_mismatch")
    modal = w.slack.wait_for(lambda s: next((v for v in w.slack.views(REQUESTER)["modals"]
                                             if v.get("callback_id") == "guided_mismatch"), None))
    resp = w.driver.submit_view(REQUESTER, modal, {"shown": {"shown": {"type": "plain_text_input",
                                                                       "value": "$120.00 of $120.00"}}})
    assert resp.status == 200, resp.text
    thread = w.wait_thread(job_id, "balance from before the payment")
    assert any("$120.00 of $120.00" in t for t in thread)
    recorded = [e for e in w.bot.store.events(job_id) if e.kind == "guided_mismatch"]
    assert recorded[0].actor == REQUESTER and recorded[0].details["cause"] == "not_picked_up"
    assert w.job(job_id).state == "guided_resync"  # still waiting for "Resynced"
    press(w, job_id, "guided_resynced")  # the buttons under the explanation work
    w.wait_state(job_id, "guided_sync")


def test_credit_still_shows_answers_with_the_article_advice(guided):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="10")
    press(w, job_id, "guided_resynced")
    press(w, job_id, "guided_sync_finished")
    press(w, job_id, "guided_still_shows")
    thread = w.wait_thread(job_id, "still shows")
    advice = next(t for t in thread if "still shows" in t)
    assert "widen the sync date range" in advice and "Resync" in advice
    assert w.job(job_id).state == "guided_check"
    assert not w.slack.messages(NOTIFY)


def test_reminder_at_a_fixed_clock_then_needs_attention_after_a_day(guided, clock):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="10")
    clock.advance(29 * 60)
    assert w.bot.guided.remind_due() == 0
    clock.advance(2 * 60)
    assert w.bot.guided.remind_due() == 1
    assert w.bot.guided.remind_due() == 0  # one reminder per step
    thread = w.wait_thread(job_id, "reminder")
    assert any(f"<@{REQUESTER}> reminder" in t and "Resync the invoice" in t for t in thread)
    clock.advance(25 * 3600)
    assert w.bot.guided.remind_due() == 1
    w.wait_state(job_id, "needs_attention")
    attention = [j.id for j in w.bot.store.in_states(["needs_attention"])]
    assert job_id in attention  # App Home lists these (handlers/home.py reads the same state)
    w.bot.digest.post(clock.now().date().isoformat())  # the digest, its open credits read from QuickBooks
    digest = w.slack.wait_for(lambda s: next((m for m in s.messages(NOTIFY) if "Credit digest" in m["text"]), None))
    assert "1 job needing attention" in digest["text"] and "open credits" in digest["text"]
    press(w, job_id, "job_retry")  # "Continue the checklist" resumes step 1
    w.wait_state(job_id, "guided_resync")


def test_same_credit_refused_while_the_checklist_is_open(guided):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="4")  # $6.00 of credit memo #1039 left
    view = w.open_picker("Atomar's Best Tackle")
    resp = w.submit(view, invoice="10031", amount="6")
    body = resp.json()
    assert body["response_action"] == "errors" and "already has an open request" in str(body["errors"])
    assert w.job(job_id).state == "guided_resync"


def test_only_the_requester_or_an_approver_confirms(guided):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="10")
    press(w, job_id, "guided_resynced", user=OUTSIDER)
    w.slack.wait_for(lambda s: any("Only the requester or an approver" in t for t in w.ephemeral_texts(OUTSIDER)))
    assert w.job(job_id).state == "guided_resync"


def test_inbox_lists_unapplied_credits_from_quickbooks_oldest_first(guided):
    w = guided
    assert w.driver.command(REQUESTER, CHANNEL, "").status == 200
    view = w.slack.wait_for(lambda s: next((v for v in w.slack.views(REQUESTER)["modals"]
                                            if "unapplied in QuickBooks" in str(v.get("blocks"))), None))
    text = str(view["blocks"])
    assert text.index("Blue Heron Marine") < text.index("Atomar")  # its payment (2026-08-20) waited longest
    assert "days old" in text and "would go to invoice *10031*" in text and "would go to invoice *10050*" in text
    assert "Reel Deal" not in text  # its credit is used up in QuickBooks
    resp = w.driver.click(REQUESTER, "inbox_apply", source=view,
                          value=next(e["value"] for b in view["blocks"] if "Atomar" in str(b.get("text"))
                                     for e in [b["accessory"]]))
    assert resp.status == 200
    picker = w.slack.wait_for(lambda s: next((v for v in w.slack.views(REQUESTER)["modals"]
                                              if "Apply a credit" in str(v.get("blocks"))), None))
    assert "10040" in str(picker["blocks"])
    no_connectbooster_calls(w)


def test_guide_me_through_connectbooster_for_a_credit_already_applied(guided):
    w = guided
    view = w.open_picker("Reel Deal Charters")
    assert "Guide me through the ConnectBooster steps" in str(view["blocks"])
    assert w.driver.click(REQUESTER, "resync_only", source=view).status == 200
    job = w.slack.wait_for(lambda s: next(iter(w.bot.store.in_states(["guided_resync"])), None), 10)
    first = step(w, job.id, "guided_resynced")
    assert "10091" in str(first["blocks"]) and "$60.00 of $100.00" in str(first["blocks"])
    for action in ("guided_resynced", "guided_sync_finished", "guided_all_clear"):
        press(w, job.id, action)
    w.wait_state(job.id, "verified")
    notices = w.slack.wait_for(lambda s: s.messages(NOTIFY))
    assert "ConnectBooster resynced for *Reel Deal Charters*" in notices[0]["text"]
    assert w.payments_on("190") and len(w.payments_on("190")) == 1  # nothing new written
    no_connectbooster_calls(w)


def test_undo_reverses_quickbooks_and_guides_connectbooster(guided):
    w = guided
    job_id = approved_job(w, invoice="10040", amount="10")
    for action in ("guided_resynced", "guided_sync_finished", "guided_all_clear"):
        press(w, job_id, action)
    w.wait_state(job_id, "verified")
    press(w, job_id, "job_undo", user=APPROVER_2)
    undo = w.slack.wait_for(lambda s: next((j for j in w.bot.store.all() if j.kind == "undo"
                                            and j.state == "guided_resync"), None), 15)
    assert w.invoice_balance("130") == Decimal("120.00") and w.payments_on("130") == []
    first = step(w, undo.id, "guided_resynced")
    assert "$120.00 of $120.00" in str(first["blocks"])
    press(w, undo.id, "guided_resynced")  # the original requester is not this undo's requester nor an approver
    w.slack.wait_for(lambda s: any("Only the requester or an approver" in t for t in w.ephemeral_texts(REQUESTER)))
    for action in ("guided_resynced", "guided_sync_finished"):
        press(w, undo.id, action, user=APPROVER_2)
    third = step(w, undo.id, "guided_all_clear")
    assert "shows again" in str(third["blocks"])
    press(w, undo.id, "guided_all_clear", user=APPROVER_2)
    w.wait_state(undo.id, "verified")
    w.wait_state(job_id, "undone")
    notices = w.slack.wait_for(lambda s: len(s.messages(NOTIFY)) == 2 and s.messages(NOTIFY))
    assert any("undone" in n["text"] and "confirmed by" in n["text"] for n in notices)
    no_connectbooster_calls(w)
