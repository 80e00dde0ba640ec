"""Undo of a guided sweep: QuickBooks reversed item by item as in API mode, then ONE ConnectBooster checklist for
the whole undo in the sweep's thread (every invoice to resync with its balance back, one Sync Now, the credits
back), confirmed once; the ConnectBooster emulator sees no request from the bot."""
from decimal import Decimal

from tests.scenarios.sweeps import batch, wait_finished
from tests.scenarios.test_guided_sweep import EXPECTED_GUIDED, approved_sweep, guided, no_connectbooster_calls, thread
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, OUTSIDER

__all__ = ["guided"]  # the fixture
INVOICES = sorted({e[3] for e in EXPECTED_GUIDED})


def test_a_guided_sweep_is_undone_with_one_checklist_confirmed_once(guided, clock):
    w = guided
    before = {i: w.invoice_balance(i) for i in INVOICES}
    message, listed = approved_sweep(w)
    w.driver.click(APPROVER_2, "sweep_guided_done", source=listed)
    wait_finished(w)
    finished = w.slack.wait_for(lambda s: "sweep_undo" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                and s.message(CHANNEL, message["ts"]), timeout=10)

    w.driver.click(APPROVER, "sweep_undo", source=finished)
    undo_list = w.slack.wait_for(lambda s: next((m for m in thread(w, message) if "undo: ConnectBooster checklist"
                                                 in m["text"]), None), timeout=20)
    # QuickBooks is reversed item by item; ConnectBooster waits for the person's one checklist.
    assert batch(w).state == "undo_checklist"
    assert [u.state for u in w.bot.store.in_batch(1, undos=True)] == ["awaiting_batch_sync"] * 9
    for invoice_id in INVOICES:
        assert w.payments_on(invoice_id) == [] and w.invoice_balance(invoice_id) == before[invoice_id], invoice_id
    text = str(undo_list["blocks"])
    assert "Resync 9 invoices" in text and text.count("Sync Now") == 1 and "shows again" in text
    assert "*10031* → *$85.00 of $85.00*" in text and f"sync from *{batch(w).sync_from}*" in text

    # One reminder to the person who undid it, as for the sweep's own checklist.
    clock.advance(31 * 60)
    assert w.bot.guided.remind_due() == 1 and w.bot.guided.remind_due() == 0
    reminder = w.slack.wait_for(lambda s: next((m["text"] for m in thread(w, message) if "reminder" in m["text"]),
                                               None), timeout=10)
    assert f"<@{APPROVER}> reminder" in reminder

    # Only the people who may close it; then once, for the whole undo.
    w.driver.click(OUTSIDER, "sweep_undo_done", source=undo_list)
    w.slack.wait_for(lambda s: any("Only the sweep's proposer or an approver" in t for t in w.ephemeral_texts(OUTSIDER)))
    assert w.driver.click(APPROVER, "sweep_undo_done", source=undo_list).status == 200
    w.slack.wait_for(lambda s: batch(w).state == "undone", timeout=20)
    assert [j.state for j in w.bot.store.in_batch(1)] == ["undone"] * 9
    assert batch(w).confirmed_by == APPROVER_2 and batch(w).undo_confirmed_by == APPROVER  # each checklist's own
    for undo in w.bot.store.in_batch(1, undos=True):
        verified = [e for e in w.bot.store.events(undo.id) if e.kind == "verified"]
        assert [(e.actor, e.details["confirmed_by"]) for e in verified] == [(APPROVER, APPROVER)]
    summary = w.slack.wait_for(lambda s: next((m["text"] for m in thread(w, message) if "undone by" in m["text"]),
                                              None), timeout=10)
    assert "9 of 9 applications reversed" in summary and f"checklist confirmed by <@{APPROVER}>" in summary
    assert w.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "Sweep #1 undone" in m["text"]])

    w.driver.click(APPROVER_2, "sweep_undo_done", source=undo_list)  # a second click changes nothing
    w.slack.wait_for(lambda s: any(f"already confirmed by <@{APPROVER}>" in t for t in w.ephemeral_texts(APPROVER_2)))
    w.driver.click(APPROVER, "sweep_guided_done", source=listed)  # nor does the sweep's own, older checklist
    w.slack.wait_for(lambda s: any(f"already confirmed by <@{APPROVER_2}>; the undo's checklist" in t
                                   for t in w.ephemeral_texts(APPROVER)))
    assert sum(Decimal(len(w.payments_on(i))) for i in INVOICES) == 0
    no_connectbooster_calls(w)
