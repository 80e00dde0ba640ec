"""Undo of a verified application: each kind, refusals (QuickBooks changed, not an approver, too late), double clicks."""
import threading
from datetime import timedelta
from decimal import Decimal

from tests.scenarios.world import APPROVER, APPROVER_2, BOTH_TRANSPORTS, CHANNEL, NOTIFY, REQUESTER


def applied(world, **request) -> int:
    job_id = world.request(**request)
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    return job_id


def undo_button(world, job_id) -> dict:
    """The verified reply in the job's thread, which carries the Undo button."""
    job = world.job(job_id)
    return world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, job.parent_ts)
                                           if "job_undo" in str(m.get("blocks"))], timeout=10)[-1]


def undo_jobs(world, job_id):
    return [j for j in world.bot.store.all() if j.kind == "undo" and j.undo_of == job_id]


def qbo_payment_posts(world) -> int:
    return len([r for r in world.qbo.requests if r["method"] == "POST" and "/payment" in r["path"]])


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_undo_credit_memo_deletes_the_payment_and_the_credit_shows_again(world):
    job_id = applied(world, invoice="10040", amount="10")
    payment_id = world.job(job_id).qbo_payment_id
    assert world.bot.cb.get_credit(credit_id=11261).status == "applied"
    world.driver.click(APPROVER_2, "job_undo", source=undo_button(world, job_id))
    undo = world.slack.wait_for(lambda s: (u := undo_jobs(world, job_id)) and u[0].state == "verified" and u[0],
                                timeout=20)
    assert world.job(job_id).state == "undone"
    assert world.qbo.ledger.get("Payment", payment_id) is None and world.payments_on("130") == []
    assert world.invoice_balance("130") == Decimal("120.00")
    credit = world.bot.cb.get_credit(credit_id=11261)
    assert credit.status == "open" and credit.remaining_amount == Decimal("10.00")
    assert world.bot.cb.get_invoice(invoice_id=9040).balance == Decimal("120.00")
    thread = world.wait_thread(job_id, "Undo verified")
    assert any(f"Payment *{payment_id}* deleted" in t and "$110.00 → $120.00" in t for t in thread)
    assert any("credit 11261 shows again in ConnectBooster" in t for t in thread)
    assert undo.parent_ts == world.job(job_id).parent_ts  # the original's thread
    parent = world.slack.wait_for(lambda s: "Undone" in str(world.parent(job_id)["blocks"]) and world.parent(job_id))
    assert "Undone" in str(parent["blocks"])
    assert world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if f"#{job_id}" in m["text"]
                                           and "undone" in m["text"]])


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_undo_unapplied_payment_removes_only_the_added_line(world):
    job_id = applied(world, text="Blue Heron Marine", invoice="10050", amount="25")
    assert Decimal(str(world.qbo.ledger.get("Payment", "171")["UnappliedAmt"])) == 0
    world.driver.click(APPROVER, "job_undo", source=undo_button(world, job_id))
    world.slack.wait_for(lambda s: (u := undo_jobs(world, job_id)) and u[0].state == "verified", timeout=20)
    payment = world.qbo.ledger.get("Payment", "171")
    lines = [(Decimal(str(line["Amount"])), [t["TxnId"] for t in line["LinkedTxn"]]) for line in payment["Line"]]
    assert lines == [(Decimal("40.00"), ["141"])]  # the $40 to invoice 10049 kept, the 10050 line removed
    assert Decimal(str(payment["TotalAmt"])) == Decimal("65.00")  # the cash receipt is never touched
    assert Decimal(str(payment["UnappliedAmt"])) == Decimal("25.00")
    assert world.invoice_balance("140") == Decimal("60.00") and world.invoice_balance("141") == Decimal("0.00")
    credit = world.bot.cb.get_credit(credit_id=11262)
    assert credit.status == "open" and credit.remaining_amount == Decimal("25.00")
    assert world.job(job_id).state == "undone"
    assert any("line for invoice 10050 removed" in t for t in world.wait_thread(job_id, "Undo verified"))


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_undo_refused_when_the_invoice_was_paid_since(world):
    job_id = applied(world, invoice="10040", amount="10")
    payment_id = world.job(job_id).qbo_payment_id
    world.qbo.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 110, "TxnDate": "2026-11-20",
                                     "Line": [{"Amount": 110, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]})
    posts = qbo_payment_posts(world)
    world.driver.click(APPROVER, "job_undo", source=undo_button(world, job_id))
    thread = world.wait_thread(job_id, "Undo refused")
    refusal = next(t for t in thread if "Undo refused" in t)
    assert "balance is now 0.00" in refusal and "paid or changed since" in refusal
    assert undo_jobs(world, job_id)[0].state == "stale" and world.job(job_id).state == "verified"
    assert qbo_payment_posts(world) == posts  # nothing written
    assert world.qbo.ledger.get("Payment", payment_id) is not None and world.invoice_balance("130") == 0


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_undo_refused_when_our_payment_was_deleted_in_quickbooks(world):
    job_id = applied(world, invoice="10040", amount="10")
    payment = world.qbo.ledger.get("Payment", world.job(job_id).qbo_payment_id)
    world.qbo.ledger.delete_payment({"Id": payment["Id"], "SyncToken": payment["SyncToken"]})
    world.driver.click(APPROVER, "job_undo", source=undo_button(world, job_id))
    refusal = next(t for t in world.wait_thread(job_id, "Undo refused") if "Undo refused" in t)
    assert f"Payment {payment['Id']} is no longer in QuickBooks" in refusal


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_undo_by_a_non_approver_or_after_the_window_is_refused(world):
    job_id = applied(world, invoice="10040", amount="10")
    button = undo_button(world, job_id)
    world.driver.click(REQUESTER, "job_undo", source=button)
    assert world.slack.wait_for(lambda s: any("Only approvers can undo" in t for t in world.ephemeral_texts(REQUESTER)))
    world.bot.service.policy.undo_window = timedelta(0)
    world.driver.click(APPROVER, "job_undo", source=button)
    assert world.slack.wait_for(lambda s: any("past the undo window" in t for t in world.ephemeral_texts(APPROVER)))
    assert undo_jobs(world, job_id) == [] and len(world.payments_on("130")) == 1


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_double_click_on_undo_undoes_once(world):
    job_id = applied(world, invoice="10040", amount="10")
    button = undo_button(world, job_id)
    clicks = [threading.Thread(target=world.driver.click, args=(user, "job_undo"), kwargs={"source": button})
              for user in (APPROVER, APPROVER_2, APPROVER)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    world.slack.wait_for(lambda s: world.job(job_id).state == "undone", timeout=20)
    assert len(undo_jobs(world, job_id)) == 1
    deletes = [r for r in world.qbo.requests if r["method"] == "POST" and r["query"].get("operation") == "delete"]
    assert len(deletes) == 1
    world.driver.click(APPROVER_2, "job_undo", source=button)  # after it finished: refused too
    assert world.slack.wait_for(lambda s: any("is undone" in t for t in world.ephemeral_texts(APPROVER_2)))
    assert len(undo_jobs(world, job_id)) == 1
