"""The credit inbox: every client with open credits, each credit's diagnosis, the buttons, and paging."""
import threading
from decimal import Decimal

from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER, mrkdwn_texts


def open_inbox(world, text: str = "", user: str = REQUESTER) -> dict:
    # The command returns at ack(), before the listener's views.open: an inbox the user still has open from
    # earlier must not be taken for this one (as World.open_picker does).
    earlier = {v["id"] for v in world.slack.views(user)["modals"]}
    resp = world.driver.command(user, CHANNEL, text)
    assert resp.status == 200 and not resp.text.strip(), resp.text  # no usage text: the inbox opens
    return world.slack.wait_for(lambda s: (m := [v for v in s.views(user)["modals"] if v["id"] not in earlier])
                                and "Reading every client" not in str(m[-1]["blocks"]) and m[-1])


def row(view: dict, cb_id: int) -> dict:
    """The section of one ConnectBooster credit."""
    return next(b for b in view["blocks"] if b.get("type") == "section" and f"*{cb_id}*" in b["text"]["text"])


def next_page(world, view: dict, user: str = REQUESTER) -> dict:
    before = str(view["blocks"])
    world.driver.click(user, "inbox_page_next", source=view)
    return world.slack.wait_for(lambda s: str((v := s.view(view["id"]))["blocks"]) != before and v)


def test_inbox_diagnoses_every_seeded_credit_across_pages(world):
    page1 = open_inbox(world)
    text1 = str(page1["blocks"])
    assert "7 clients with open credits · 7 credits · page 1 of 2" in text1
    atomar = row(page1, 11261)
    assert "unapplied in QuickBooks" in atomar["text"]["text"] and "oldest open invoice 10031" in atomar["text"]["text"]
    assert atomar["accessory"]["action_id"] == "inbox_apply"
    assert "Atomar's Bait Shop" not in text1  # no credit, not in the inbox
    assert "Pier 9" not in text1 and "Previous" not in text1
    page2 = next_page(world, page1)
    pier9, reel = row(page2, 11266), row(page2, 11267)
    assert "_pending ConnectBooster payment on the oldest invoice_" in pier9["text"]["text"]
    assert "invoice 10081 has a portal payment waiting to sync" in pier9["text"]["text"]
    assert pier9["accessory"]["action_id"] == "inbox_apply"  # a later invoice can still take it
    assert "_applied in QuickBooks, waiting for a sync_" in reel["text"]["text"]
    assert reel["accessory"]["action_id"] == "inbox_resync" and "$40.00" in reel["text"]["text"]
    assert "page 2 of 2" in str(page2["blocks"]) and "Next" not in str(page2["blocks"])
    world.driver.click(REQUESTER, "inbox_page_prev", source=page2)
    back = world.slack.wait_for(lambda s: "page 1 of 2" in str((v := s.view(page1["id"]))["blocks"]) and v)
    assert row(back, 11261)["text"]["text"] == atomar["text"]["text"]


def test_inbox_word_and_escaped_names(world):
    view = open_inbox(world, "inbox")
    texts = mrkdwn_texts(view["blocks"])
    assert any("*&lt;!channel&gt; Holdings* · 1 open credit · $20.00" in t for t in texts)
    assert not any("<!channel>" in t for t in texts)


def test_credit_with_no_open_invoice(world):
    # O'Malley's only invoice is paid off in QuickBooks and ConnectBooster syncs: the $15.00 credit has nowhere to go.
    world.qbo.ledger.create_payment({"CustomerRef": {"value": "61"}, "TotalAmt": 75, "TxnDate": "2026-11-01",
                                     "Line": [{"Amount": 75, "LinkedTxn": [{"TxnId": "160", "TxnType": "Invoice"}]}]})
    run = world.cb.start_scheduled_sync()
    world.slack.wait_for(lambda s: next(r for r in world.cb.snapshot()["syncs"] if r["id"] == run["id"])["status"]
                         == "finished", timeout=10)
    assert [i["status"] for i in world.cb.snapshot()["invoices"] if i["number"] == "10061"] == ["paid"]
    view = open_inbox(world)
    omalley = row(view, 11264)
    assert "_no open invoice to apply it to_" in omalley["text"]["text"] and "accessory" not in omalley


def test_apply_button_opens_the_picker_for_that_client(world):
    inbox = open_inbox(world)
    world.driver.click(REQUESTER, "inbox_apply", source=inbox, block_id=row(inbox, 11261).get("block_id"),
                       value=row(inbox, 11261)["accessory"]["value"])
    picker = world.slack.wait_for(lambda s: len(m := s.views(REQUESTER)["modals"]) == 2 and
                                  "Looking up" not in str(m[-1]["blocks"]) and m[-1])
    assert picker["blocks"][0]["text"]["text"] == "Apply a credit — Atomar's Best Tackle"
    resp = world.submit(picker, invoice="10040", amount="10")
    assert resp.json()["response_action"] == "update"
    job = world.slack.wait_for(lambda s: world.bot.store.all() and world.bot.store.all()[0])
    assert (job.client_name, job.invoice_number, job.amount, job.channel_id) == \
        ("Atomar's Best Tackle", "10040", Decimal("10.00"), CHANNEL)
    world.approve(job.id, APPROVER)
    world.wait_state(job.id, "verified", timeout=15)
    assert world.invoice_balance("130") == Decimal("110.00")


def test_resync_only_button_starts_the_resync_job(world):
    reel_deal = lambda: [p for p in world.qbo.ledger.list("Payment") if p["CustomerRef"]["value"] == "64"]  # noqa: E731
    before = reel_deal()
    page2 = next_page(world, open_inbox(world))
    reel = row(page2, 11267)
    world.driver.click(REQUESTER, "inbox_resync", source=page2, value=reel["accessory"]["value"])
    updated = world.slack.wait_for(lambda s: "Resync #" in str((v := s.view(page2["id"]))["blocks"]) and v)
    assert "Resync #1 started." in row(updated, 11267)["text"]["text"] and "accessory" not in row(updated, 11267)
    job = world.job(1)
    assert (job.kind, job.cb_credit_id, job.channel_id) == ("resync_only", 11267, CHANNEL)
    world.wait_state(1, "verified", timeout=15)
    assert reel_deal() == before  # nothing written to QuickBooks
    again = open_inbox(world)
    assert "Reel Deal" not in str(again["blocks"]) and "6 clients with open credits" in str(again["blocks"])


def test_a_client_that_cannot_be_read_does_not_hide_the_others(world):
    world.cb.faults.inject("500", times=None, match="/organizations/503/credits")  # Coastal Bait Co
    view = open_inbox(world)
    coastal = next(b["text"]["text"] for b in view["blocks"] if b.get("type") == "section"
                   and "Coastal Bait Co" in b["text"]["text"])
    assert ":warning: couldn't read connectbooster (TransientError)" in coastal
    assert "unapplied in QuickBooks" in row(view, 11261)["text"]["text"]  # the others are still diagnosed


def test_connectbooster_down_says_so(world):
    world.cb.faults.inject("503", times=None, match="/organizations")
    view = open_inbox(world)
    assert "couldn't read from ConnectBooster just now" in str(view["blocks"]) and world.bot.store.all() == []


def test_a_slow_answer_for_a_view_the_person_moved_past_is_dropped_quietly(world, caplog):
    """Resync only reads ConnectBooster and QuickBooks before it answers in the inbox; meanwhile the person went back
    to page 1. The late answer carries the view's hash, Slack refuses it (hash_conflict) and the bot lets it go:
    the person keeps the page they chose, and the resync still starts (its thread says so)."""
    page2 = next_page(world, open_inbox(world))
    reel = row(page2, 11267)
    looking, moved_on = threading.Event(), threading.Event()

    def held(method: str, path: str) -> bool:  # the resync's reads wait until the person has moved on
        looking.set()
        moved_on.wait(10)
        return False

    world.cb.faults.inject("slow", times=None, match=held)
    world.driver.click(REQUESTER, "inbox_resync", source=page2, value=reel["accessory"]["value"])
    looking.wait(10)
    page1 = world.driver.click(REQUESTER, "inbox_page_prev", source=page2)
    assert page1.status == 200
    world.slack.wait_for(lambda s: "page 1 of 2" in str(s.view(page2["id"])["blocks"]))
    moved_on.set()
    world.cb.faults.clear()
    refused = world.slack.wait_for(lambda s: [c for c in s.call_log("views.update") if c["error"] == "hash_conflict"])
    assert len(refused) == 1
    assert world.wait_state(1, "verified", timeout=15).kind == "resync_only"  # started all the same
    shown = str(world.slack.view(page2["id"])["blocks"])
    assert "page 1 of 2" in shown and "Resync #" not in shown  # what the person chose stays
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # nothing went wrong: they moved on
