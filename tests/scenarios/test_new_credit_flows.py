"""A proposal's other ways: Choose… (the picker, prefilled) and the request it makes; Not now; a
legacy-format delivery; guided mode proposing from QuickBooks alone, its checklist, and its inbox read from the
index instead of every payment; verification of a credit ConnectBooster learnt of before the application."""
from __future__ import annotations

from tests.scenarios.credits import (
    OLDEST,
    batches,
    click,
    hearing_world,
    listen,
    message,
    new_memo,
    payments_using,
    proposal,
    shows,
    wait_state,
)
from tests.scenarios.world import APPROVER, CHANNEL, NOTIFY, REQUESTER

GUIDED = {"connectbooster_mode": "guided", "connectbooster_portal_url": "https://acme.connectboosterportal.com"}


def _settled_modal(w, user: str) -> dict:
    return w.slack.wait_for(lambda s: (m := s.views(user)["modals"]) and "Looking up" not in str(m[-1]["blocks"])
                            and m[-1], timeout=10)


def test_choose_opens_the_picker_on_that_credit_and_the_request_closes_the_proposal(make_world):
    w = hearing_world(make_world)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    assert click(w, batch, "proposal_choose", REQUESTER).status == 200
    view = _settled_modal(w, REQUESTER)
    credit = next(b for b in view["blocks"] if b.get("block_id") == "credit")["element"]
    assert credit["initial_option"]["value"] == key  # not Atomar's older credit 1039
    amount = next(b for b in view["blocks"] if b.get("block_id") == "amount")["element"]
    assert amount["initial_value"] == "25.00"
    resp = w.submit(view)
    job_id = int(str(resp.json()["view"]["blocks"]).split("Request #")[1].split(" ")[0])
    job = w.job(job_id)
    assert (job.qbo_credit_id, job.invoice_number, job.channel_id) == (key.split(":")[1], OLDEST, NOTIFY)
    closed = shows(w, batch, f"Requested as #{job_id} by <@{REQUESTER}>")
    assert not any(b.get("type") == "actions" for b in closed["blocks"])


def test_not_now_closes_it_for_an_approver_only(make_world):
    w = hearing_world(make_world)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    click(w, batch, "proposal_not_now", REQUESTER)
    w.slack.wait_for(lambda s: any("Only approvers can decide" in e.get("text", "") for e in s.ephemerals(REQUESTER)))
    click(w, batch, "proposal_not_now", APPROVER)
    shows(w, batch, "Not now, said <@U0APPROVE>")
    assert batches(w).get(batch.id).state == "rejected" and payments_using(w, key) == []


def test_a_legacy_delivery_proposes_too(make_world):
    w = hearing_world(make_world)
    w.qbo.webhooks.configure(url=w.webhook_url, verifier_token=w.bot.settings.qbo_webhook_verifier_token,
                             format="legacy")
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    assert proposal(w, key).state == "awaiting_approval"


def test_guided_mode_proposes_from_quickbooks_alone_and_its_checklist_follows(make_world):
    w = hearing_world(make_world, settings=GUIDED)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    assert "Guided mode: planned from QuickBooks alone" in str(message(w, batch)["blocks"])
    click(w, batch, "proposal_accept", APPROVER)
    listed = w.slack.wait_for(lambda s: next((m for m in s.thread(NOTIFY, batch.parent_ts)
                                              if "sweep_guided_done" in str(m.get("blocks"))), None), timeout=20)
    assert f"<@{APPROVER}>: do the three steps" in str(listed["blocks"]) and f"invoice *{OLDEST}*" in str(listed)
    assert len(payments_using(w, key)) == 1
    w.driver.click(APPROVER, "sweep_guided_done", source=listed)
    wait_state(w, batch.id, "finished")
    assert [j.state for j in w.bot.store.in_batch(batch.id)] == ["verified"]
    assert [r for r in w.cb.requests if not r["path"].startswith("/_emulator")] == []


def test_guided_inbox_reads_the_index_not_every_payment(make_world):
    w = hearing_world(make_world, settings=GUIDED)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    proposal(w, key)
    before = len(w.qbo.requests)
    assert w.driver.command(REQUESTER, CHANNEL, "inbox").status == 200
    inbox = w.slack.wait_for(lambda s: (m := s.views(REQUESTER)["modals"]) and "Reading" not in str(m[-1]["blocks"])
                             and m[-1], timeout=10)
    assert "#1101" in str(inbox["blocks"]) and "Atomar" in str(inbox["blocks"])
    queries = [r["query"].get("query", "") for r in w.qbo.requests[before:]]
    assert not [q for q in queries if "FROM Payment" in q or "FROM CreditMemo" in q], queries


def test_a_new_credit_connectbooster_still_shows_open_is_not_verified(make_world):
    w = hearing_world(make_world, cdc=0)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)  # planned while ConnectBooster did not know the credit
    run = w.cb.start_scheduled_sync()  # …which its next scheduled sync copies, open
    w.slack.wait_for(lambda s: next(r for r in w.cb.snapshot()["syncs"] if r["id"] == run["id"])["status"]
                     == "finished", timeout=10)
    w.cb.faults.inject("skip_changes")  # the bot's sync then picks up nothing
    click(w, batch, "proposal_accept", APPROVER)
    wait_state(w, batch.id, "finished")
    [item] = w.bot.store.in_batch(batch.id)
    assert item.state == "needs_attention" and "still shows credit #1101 (new in QuickBooks)" in item.error
    assert len(payments_using(w, key)) == 1


def test_a_second_bot_address_keeps_working_after_a_restart(make_world):
    """The route is registered where the bot serves HTTP: a restarted bot answers at its new address."""
    w = hearing_world(make_world)
    w.restart()
    listen(w)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    assert proposal(w, key).state == "awaiting_approval"


def test_choose_is_gated_like_the_command(make_world):
    from tests.scenarios.world import OUTSIDER

    w = hearing_world(make_world, settings={"requester_ids": (REQUESTER,)})
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    assert click(w, batch, "proposal_choose", OUTSIDER).status == 200
    assert click(w, batch, "proposal_choose", REQUESTER).status == 200
    _settled_modal(w, REQUESTER)
    assert w.slack.views(OUTSIDER)["modals"] == []  # no client data for someone who may not use the bot


def test_a_client_connectbooster_does_not_have_yet_is_proposed_without_a_plan(make_world):
    w = hearing_world(make_world)
    customer = w.qbo.ledger.create_customer("Brand New Marina")
    w.qbo.ledger.create_invoice(customer["Id"], "90.00", txn_date="2026-11-20")
    key = new_memo(w, "25.00", customer=customer["Id"])
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    shown = str(message(w, batch)["blocks"])
    assert "I couldn't plan it" in shown and "not linked to a ConnectBooster organization" in shown
    assert "Apply as proposed" not in shown and "Not now" in shown and batch.plan == []
