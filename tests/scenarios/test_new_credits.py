"""Hearing QuickBooks: a signed webhook → one proposal naming the oldest open invoice → accepted → applied
once → complete; a forged delivery refused; a repeated one ignored; CDC alone in Socket Mode; nothing lost when the
bot stops between its 200 and the processing."""
from __future__ import annotations

from decimal import Decimal

import requests

from data.events import EventKind
from sandbox.qbo_webhook_payload import WebhookEvent, cloudevents_body, sign
from tests.scenarios.credits import (
    OLDEST,
    OLDEST_ID,
    TOKEN,
    batches,
    click,
    hearing_world,
    message,
    new_memo,
    notices,
    payments_using,
    proposal,
    remaining,
    shows,
    wait_state,
)
from tests.scenarios.world import APP_TOKEN, APPROVER, NOTIFY


def test_a_signed_webhook_proposes_the_oldest_invoice_and_accepting_applies_it_once(make_world):
    w = hearing_world(make_world)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    shown = str(message(w, batch)["blocks"])
    assert "Atomar's Best Tackle" in shown and "#1101" in shown and "$25.00" in shown
    assert f"invoice *{OLDEST}* (the oldest open invoice)" in shown and "$85.00 → $60.00" in shown
    assert all(label in shown for label in ("Apply as proposed", "Choose…", "Not now"))
    assert payments_using(w, key) == []  # nothing is written before a decision

    assert click(w, batch, "proposal_accept", APPROVER).status == 200
    wait_state(w, batch.id, "finished")
    [item] = w.bot.store.in_batch(batch.id)
    assert item.state == "verified" and item.invoice_number == OLDEST and item.approver_id == APPROVER
    assert len(payments_using(w, key)) == 1 and remaining(w, key) == 0
    assert w.invoice_balance(OLDEST_ID) == Decimal("60.00")
    # ConnectBooster never knew the credit open: its sync brought it in already used, and shows no open credit.
    org = next(o for o in w.cb.snapshot()["organizations"] if o["name"] == "Atomar's Best Tackle")
    assert not [c for c in w.cb.snapshot()["credits"] if c["organization_id"] == org["id"]
                and c.get("qbo_id") == key.split(":")[1] and c["status"] == "open"]
    done = shows(w, batch, "Done")
    assert "accepted by <@U0APPROVE>" in str(done["blocks"]) and "1 verified" in str(done["blocks"])
    assert "proposal_accept" not in str(done["blocks"])  # the buttons went with the decision
    w.slack.wait_for(lambda s: any("1 of 1 applications verified" in m.get("text", "")
                                   for m in w.slack.thread(NOTIFY, batch.parent_ts)), timeout=10)


def test_a_forged_or_unsigned_delivery_is_refused_and_changes_nothing(make_world):
    w = hearing_world(make_world)
    body = cloudevents_body([WebhookEvent(w.qbo.realm_id, "CreditMemo", "150", "Update", 0.0, event_id="forged-1")])
    for headers in ({"intuit-signature": sign("not-the-token", body)}, {}, {"intuit-signature": "%%%"}):
        r = requests.post(w.webhook_url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=5)
        assert r.status_code == 401
    assert notices(w) == 0
    # The same body signed with the verifier token is taken (whatever its Content-Type).
    r = requests.post(w.webhook_url, data=body, headers={"intuit-signature": sign(TOKEN, body),
                                                         "Content-Type": "text/plain"}, timeout=5)
    assert r.status_code == 200 and notices(w) == 1


def test_the_same_delivery_again_is_handled_once(make_world):
    w = hearing_world(make_world)
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    batch = proposal(w, key)
    stored = notices(w)
    for _ in range(3):
        assert w.qbo.webhooks.redeliver() == 200  # Intuit retries with the same ids
    w.qbo.webhooks.add_foreign_realm_event(entity="CreditMemo", entity_id="150")  # another company: ignored
    assert w.qbo.webhooks.flush()
    assert notices(w) == stored
    w.bot.watch.run_once()  # a pass after the repeats: nothing new to propose
    proposed = [e for e in w.bot.store.events() if e.kind == EventKind.PROPOSED]
    assert [e.details["batch"] for e in proposed] == [batch.id]
    assert len([m for m in w.slack.messages(NOTIFY) if "proposal #" in m.get("text", "")]) == 1


def test_socket_mode_hears_new_credits_through_cdc_alone(make_world):
    # A verifier token set by mistake changes nothing: Socket Mode serves no HTTP, so CDC is the only way in.
    w = hearing_world(make_world, cdc=0.2, transport="socket", webhooks=False,
                      settings={"slack_app_token": APP_TOKEN, "qbo_webhook_verifier_token": TOKEN})
    assert w.bot.settings.socket_mode and not w.bot.watch.webhooks and w.qbo.webhooks.deliveries == []
    key = new_memo(w, "25.00")
    payment = w.qbo.ledger.receive_payment("59", "40.00", txn_date="2026-11-20", ref_number="CHK-1")
    batch = proposal(w, key)
    assert OLDEST in str(message(w, batch)["blocks"])
    paid = proposal(w, f"unapplied_payment:{payment['Id']}")
    assert "unapplied payment #CHK-1" in str(message(w, paid)["blocks"])
    cdc = [r for r in w.qbo.requests if r["path"].endswith("/cdc")]
    assert cdc and all(r["query"]["entities"] == "CreditMemo,Payment" for r in cdc)


def test_an_event_answered_before_a_crash_is_processed_after_the_restart(make_world):
    w = hearing_world(make_world, cdc=3600)
    w.bot.watch.stop()  # the bot dies right after answering: nothing processes what it stored
    key = new_memo(w, "25.00")
    assert w.qbo.webhooks.flush()
    assert w.qbo.webhooks.deliveries[-1]["status"] == 200
    assert batches(w).for_credit(key) is None
    assert notices(w) == 1  # stored before the 200
    # CDC fails from now on: only the stored event can bring the credit in.
    w.qbo.faults.inject("500", times=None, match="/cdc")
    w.restart()
    batch = proposal(w, key)
    assert batch.state == "awaiting_approval"
    pending = w.bot.connections.get().execute("SELECT count(*) FROM qbo_notices WHERE processed_at IS NULL")
    assert pending.fetchone()[0] == 0
    w.qbo.faults.clear()
