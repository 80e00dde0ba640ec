"""Undo of a whole sweep, by an approver other than its proposer: every item reversed under the undo rules
(each re-reads QuickBooks first), one ConnectBooster sync, one summary in the sweep's thread, one notice."""
import threading
from datetime import timedelta
from decimal import Decimal

from tests.scenarios.sweeps import EXPECTED, batch, propose, sync_posts, wait_finished
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, REQUESTER

INVOICES = sorted({e[3] for e in EXPECTED})
CREDIT_MEMOS = {e[3] for e in EXPECTED if e[0] != "Blue Heron Marine"}  # Blue Heron's is an unapplied payment


def finished_sweep(world) -> tuple[dict, dict]:
    """A sweep proposed by APPROVER_2 and approved by APPROVER, finished; and the invoices' balances before it."""
    before = {i: world.invoice_balance(i) for i in INVOICES}
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    return world.slack.wait_for(lambda s: "sweep_undo" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                and s.message(CHANNEL, message["ts"]), timeout=10), before


def wait_undone(world, timeout=40):
    return world.slack.wait_for(lambda s: (b := batch(world)) and b.state == "undone" and b, timeout)


def undo_summary(world, message: dict) -> str:
    return world.slack.wait_for(lambda s: next((m["text"] for m in s.thread(CHANNEL, message["ts"])
                                                if "undone by" in m["text"]), None), timeout=10)


def undos(world):
    return world.bot.store.in_batch(1, undos=True)


def test_undo_by_the_proposer_or_a_non_approver_is_refused(world):
    message, _ = finished_sweep(world)
    world.driver.click(APPROVER_2, "sweep_undo", source=message)
    world.driver.click(REQUESTER, "sweep_undo", source=message)
    assert world.slack.wait_for(lambda s: any("You proposed this sweep, so a colleague" in t
                                              for t in world.ephemeral_texts(APPROVER_2)))
    assert world.slack.wait_for(lambda s: any("Only approvers can undo a sweep" in t
                                              for t in world.ephemeral_texts(REQUESTER)))
    assert batch(world).state == "finished" and undos(world) == []
    assert all(len(world.payments_on(i)) == 1 for i in INVOICES)


def test_undo_by_another_approver_reverses_every_item_with_one_sync_and_one_summary(world):
    message, before = finished_sweep(world)
    payments = {j.id: j.qbo_payment_id for j in world.bot.store.in_batch(1)}
    world.driver.click(APPROVER, "sweep_undo", source=message)  # APPROVER approved it; APPROVER_2 proposed it
    wait_undone(world)

    assert [j.state for j in world.bot.store.in_batch(1)] == ["undone"] * 9
    assert [u.state for u in undos(world)] == ["verified"] * 9 and {u.requester_id for u in undos(world)} == {APPROVER}
    for invoice_id in INVOICES:  # the ledger as it was before the sweep
        assert world.payments_on(invoice_id) == [] and world.invoice_balance(invoice_id) == before[invoice_id]
    for job_id, payment_id in payments.items():
        if payment_id != "171":  # each credit memo's $0 Payment deleted
            assert world.qbo.ledger.get("Payment", payment_id) is None, job_id
    payment_171 = world.qbo.ledger.get("Payment", "171")  # the cash receipt stays, only our line removed
    assert Decimal(str(payment_171["UnappliedAmt"])) == Decimal("25") and len(payment_171["Line"]) == 1
    credits = {c.id: c for org in (501, 502, 503, 504, 505, 506) for c in world.bot.cb.list_credits(org_id=org)}
    assert len(credits) == 6 and all(c.status == "open" for c in credits.values())  # the credits show again
    assert len(sync_posts(world)) == 2  # the sweep's one sync, then the undo's one sync

    text = undo_summary(world, message)
    assert f"undone by <@{APPROVER}>: 9 of 9 applications reversed" in text and "$275.00" in text
    final = world.slack.wait_for(lambda s: "9 undone" in (shown := str(s.message(CHANNEL, message["ts"])["blocks"]))
                                 and shown)  # its last update (the summary never waits behind it)
    assert "Undone" in final and "sweep_undo" not in final
    assert len([m for m in world.slack.thread(CHANNEL, message["ts"]) if "undone by" in m["text"]]) == 1
    notices = world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "Sweep #1 undone" in m["text"]])
    assert len(notices) == 1 and "9 applications reversed" in notices[0]["text"]
    trail = [(e.actor, e.kind, e.details.get("summary")) for e in world.bot.store.events()
             if e.kind in ("sweep_undo_requested", "sweep_undone")]  # what `bot.py history` words
    assert trail == [(APPROVER, "sweep_undo_requested", None),
                     ("bot", "sweep_undone", "sweep #1 undone: 9 of 9 applications reversed")]


def test_an_item_whose_invoice_was_paid_meanwhile_is_refused_and_named_the_others_undone(world):
    message, before = finished_sweep(world)
    pier_9 = world.qbo.ledger.get("Invoice", "181")  # Pier 9's invoice 10082: $15.00 left after the sweep
    world.qbo.ledger.create_payment({"CustomerRef": pier_9["CustomerRef"], "TotalAmt": 15, "TxnDate": "2026-11-20",
                                     "Line": [{"Amount": 15, "LinkedTxn": [{"TxnId": "181", "TxnType": "Invoice"}]}]})
    world.driver.click(APPROVER, "sweep_undo", source=message)
    wait_undone(world)

    states = {j.invoice_number: j.state for j in world.bot.store.in_batch(1)}
    assert states.pop("10082") == "verified" and set(states.values()) == {"undone"}
    assert len([p for p in world.payments_on("181") if "applycredit job" in (p.get("PrivateNote") or "")]) == 1
    assert world.invoice_balance("181") == 0  # left as it is: nothing written
    for invoice_id in set(INVOICES) - {"181"}:
        assert world.invoice_balance(invoice_id) == before[invoice_id], invoice_id
    text = undo_summary(world, message)
    assert "8 of 9 applications reversed" in text and "1 not undone" in text
    summary = next(m for m in world.slack.thread(CHANNEL, message["ts"]) if "undone by" in m["text"])
    shown = str(summary["blocks"])
    assert "Pier 9 Outfitters, invoice 10082" in shown and "refused, nothing written" in shown
    assert "balance is now 0.00" in shown
    # The sweep's message shows it too (its update is not what the summary waited for: posts never wait behind it).
    world.slack.wait_for(lambda s: "Undone in part" in str(s.message(CHANNEL, message["ts"])["blocks"]))


def test_undo_past_the_window_is_refused(world):
    message, _ = finished_sweep(world)
    world.bot.service.policy.undo_window = timedelta(0)
    world.driver.click(APPROVER, "sweep_undo", source=message)
    assert world.slack.wait_for(lambda s: any("past the undo window" in t for t in world.ephemeral_texts(APPROVER)))
    assert batch(world).state == "finished" and undos(world) == []
    assert all(len(world.payments_on(i)) == 1 for i in INVOICES)


def test_a_double_click_undoes_once(world):
    message, before = finished_sweep(world)
    clicks = [threading.Thread(target=world.driver.click, args=(APPROVER, "sweep_undo"), kwargs={"source": message})
              for _ in range(3)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    wait_undone(world)
    assert sorted(u.undo_of for u in undos(world)) == sorted(j.id for j in world.bot.store.in_batch(1))  # one each
    # The other two clicks are told, whichever moment they came at ("undoing" or "already being undone").
    assert world.slack.wait_for(lambda s: len([t for t in world.ephemeral_texts(APPROVER)
                                               if "undoing" in t or "already being undone" in t]) == 2)
    assert all(world.invoice_balance(i) == before[i] for i in INVOICES)
    undo_summary(world, message)
    assert len([m for m in world.slack.thread(CHANNEL, message["ts"]) if "undone by" in m["text"]]) == 1


def _reversing(world):
    """The invoice of the undo now writing to QuickBooks (the fault's selector)."""
    return next((u.invoice_qbo_id for u in undos(world) if u.state == "undoing_in_quickbooks"), None)


def test_an_undo_that_needs_attention_is_named_then_retried_from_the_sweeps_message(make_world):
    world = make_world(overrides={"workers": 1})  # one step at a time: the fault below takes the first reversal
    message, before = finished_sweep(world)
    # QuickBooks refuses the reversal of Coastal Bait's latest application (invoice 20004): its credit 1051 also
    # went to the client's three earlier invoices, whose undos then find the credit held.
    world.qbo.faults.inject("6000", match=lambda m, p: m == "POST" and p.endswith("/payment")
                            and _reversing(world) == "1004")
    world.driver.click(APPROVER, "sweep_undo", source=message)
    wait_undone(world)
    [stuck] = [u for u in undos(world) if u.state == "needs_attention"]
    items = world.bot.store.in_batch(1)
    item = next(j for j in items if j.id == stuck.undo_of)
    held = {j.id for j in items if j.qbo_credit_id == item.qbo_credit_id and j.id != item.id}  # its credit is held
    assert {j.id for j in items if j.state == "undone"} == {j.id for j in items} - {item.id} - held
    assert item.state == "verified" and world.invoice_balance(item.invoice_qbo_id) != before[item.invoice_qbo_id]
    undo_summary(world, message)
    summary = str(next(m for m in world.slack.thread(CHANNEL, message["ts"]) if "undone by" in m["text"])["blocks"])
    assert f"invoice {item.invoice_number}" in summary and "can be retried from the sweep's message" in summary
    assert summary.count(f"is held by open job #{stuck.id} (needs attention)") == len(held) == 3  # Coastal Bait: 4 items, 1 credit

    shown = world.slack.wait_for(lambda s: f"Retry #{stuck.id}" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                 and s.message(CHANNEL, message["ts"]), timeout=10)
    world.driver.click(APPROVER, "job_retry", source=shown, value=str(stuck.id))  # who undid it: a colleague retries
    assert world.slack.wait_for(lambda s: any("a colleague has to retry" in t for t in world.ephemeral_texts(APPROVER)))
    world.driver.click(APPROVER_2, "job_retry", source=shown, value=str(stuck.id))
    world.slack.wait_for(lambda s: world.bot.store.get(stuck.id).state == "verified", timeout=20)
    assert world.bot.store.get(item.id).state == "undone"
    assert world.invoice_balance(item.invoice_qbo_id) == before[item.invoice_qbo_id]
    assert len([m for m in world.slack.thread(CHANNEL, message["ts"]) if "undone by" in m["text"]]) == 1
