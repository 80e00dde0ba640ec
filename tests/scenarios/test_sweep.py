"""/applycredit sweep: the plan over the seeded clients, one approval, execution, one sync, summary."""
import re
from decimal import Decimal

import pytest

from data.jobs import JobStore
from tests.scenarios.sweeps import BALANCES_AFTER, EXPECTED, batch, planned, propose, sync_posts, wait_finished
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, OUTSIDER, REQUESTER


def test_sweep_plans_applies_and_syncs_once(world):
    message = propose(world)
    assert planned(world) == EXPECTED
    assert len(world.qbo.ledger.list("Payment")) == 2  # nothing written before the approval
    assert batch(world).total == Decimal("275.00")
    shown = str(message["blocks"])
    assert "9* applications for *6* clients" in shown and "$275.00" in shown
    assert "Reel Deal" not in shown and "<!channel>" not in shown  # escaped: never pings the channel
    assert "&lt;!channel&gt; Holdings" in shown

    # Same approver rules as single requests: only approvers (never the requester: see the last test).
    world.driver.click(REQUESTER, "sweep_approve", source=message)
    world.driver.click(OUTSIDER, "sweep_approve", source=message)
    assert world.slack.wait_for(lambda s: any("Only approvers" in t for t in world.ephemeral_texts(REQUESTER)))
    assert world.slack.wait_for(lambda s: any("Only approvers" in t for t in world.ephemeral_texts(OUTSIDER)))
    assert batch(world).state == "awaiting_approval"

    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    items = world.bot.store.in_batch(1)
    assert [j.state for j in items] == ["verified"] * 9
    # Exactly one Payment per item: eight new $0 Payments for the credit memos, payment 171 updated in place.
    ours = [p for p in world.qbo.ledger.list("Payment") if "applycredit job" in (p.get("PrivateNote") or "")]
    assert len(ours) == 9 and len([p for p in ours if p["Id"] != "171"]) == 8
    for _, _, _, invoice_id, _ in EXPECTED:
        assert len(world.payments_on(invoice_id)) == 1, invoice_id
    for invoice_id, balance in BALANCES_AFTER.items():
        assert world.invoice_balance(invoice_id) == Decimal(balance), invoice_id
    payment_171 = world.qbo.ledger.get("Payment", "171")
    assert Decimal(str(payment_171["UnappliedAmt"])) == 0 and Decimal(str(payment_171["TotalAmt"])) == Decimal("65")
    # One ConnectBooster sync for the whole sweep, no per-invoice resync, and the credits gone there.
    assert [r["status"] for r in sync_posts(world)] == [202]
    assert not [r for r in world.cb.requests if r["method"] == "POST" and "/resync" in r["path"]]
    assert {j.sync_id for j in items} == {batch(world).sync_id}
    open_credits = {c.id for org in (501, 502, 503, 504, 505, 506) for c in world.bot.cb.list_credits(org_id=org)}
    assert open_credits == set()

    # The approval message shows the progress in place; a summary in its thread and a notice.
    final = world.slack.wait_for(lambda s: "Done 9/9" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                 and s.message(CHANNEL, message["ts"]), timeout=10)
    assert "$275.00 applied in QuickBooks" in str(final["blocks"]) and "0 failed" in str(final["blocks"])
    assert "sweep_approve" not in str(final["blocks"])
    summary = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, message["ts"]) if "finished" in m["text"]],
                                   timeout=10)
    assert "9 of 9 applications verified, $275.00 applied" in summary[0]["text"]
    notice = world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "Sweep #1" in m["text"]], timeout=10)
    assert "9/9" in notice[0]["text"]
    # Items have no threads of their own: the only reply under the sweep is its summary.
    assert len(world.slack.thread(CHANNEL, message["ts"])) == 1


def test_rerun_after_a_sweep_has_nothing_left_and_single_requests_see_used_credits(world):
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    world.driver.command(APPROVER_2, CHANNEL, "sweep")
    refusal = world.slack.wait_for(lambda s: [t for t in world.ephemeral_texts(APPROVER_2) if "Nothing to sweep" in t],
                                   timeout=20)
    assert refusal and batch(world, 2).state == "cancelled" and world.bot.store.in_batch(2) == []  # slot released
    assert len(world.payments_on("1004")) == 1


def test_a_failure_on_one_client_does_not_stop_the_others(make_world):
    world = make_world(overrides={"workers": 1})  # one write at a time: the fault below picks its item exactly
    # QuickBooks refuses (6000) the write for Coastal Bait Co's second invoice only.
    world.qbo.faults.inject("6000", match=lambda m, p: m == "POST" and p.endswith("/payment")
                            and _pending_invoice(world) == "1002")
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    states = {j.invoice_number: j.state for j in world.bot.store.in_batch(1)}
    assert states["20001"] == "verified"
    assert states["20002"] == "failed" and states["20003"] == "skipped" and states["20004"] == "skipped"
    others = {k: v for k, v in states.items() if not k.startswith("2000")}
    assert set(others.values()) == {"verified"} and len(others) == 5
    assert world.payments_on("1002") == [] and world.invoice_balance("1002") == Decimal("50.00")
    assert world.invoice_balance("181") == Decimal("15.00") and world.invoice_balance("170") == Decimal("30.00")
    assert [r["status"] for r in sync_posts(world)] == [202]
    summary = world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, message["ts"]) if "finished" in m["text"]],
                                   timeout=10)
    assert "6 of 9 applications verified, $150.00 applied in QuickBooks, 3 failed" in summary[0]["text"]
    assert "refused the payment as invalid" in str(summary[0]["blocks"])
    # The credit left over is still usable: a re-run plans the rest (from fresh reads) and nothing twice.
    world.driver.command(APPROVER_2, CHANNEL, "sweep")
    world.slack.wait_for(lambda s: batch(world, 2) is not None and batch(world, 2).state == "awaiting_approval",
                         timeout=20)
    assert {(i["invoice_number"], i["amount"]) for i in batch(world, 2).plan} == {
        ("20002", "50.00"), ("20003", "50.00"), ("20004", "25.00")}


def test_an_item_retried_after_its_sweep_finished_is_written_once_and_syncs_on_its_own(make_world):
    world = make_world(overrides={"workers": 1})  # one write at a time: the fault below picks its item exactly
    # QuickBooks is down for Atomar's write (every attempt): that item needs attention, the others go on.
    world.qbo.faults.inject("503", times=3, match=lambda m, p: m == "POST" and p.endswith("/payment")
                            and _pending_invoice(world) == "120")
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    wait_finished(world)
    item = next(j for j in world.bot.store.in_batch(1) if j.invoice_qbo_id == "120")
    assert item.state == "needs_attention" and item.retryable and world.payments_on("120") == []
    final = world.slack.wait_for(lambda s: "job_retry" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                 and s.message(CHANNEL, message["ts"]), timeout=10)
    assert f"Retry #{item.id}" in str(final["blocks"])

    # Retry re-runs a write: not by the sweep's proposer (two people), by another approver.
    world.driver.click(APPROVER_2, "job_retry", source=final)
    world.slack.wait_for(lambda s: any("a colleague has to retry it" in t for t in world.ephemeral_texts(APPROVER_2)))
    assert world.job(item.id).state == "needs_attention"
    world.driver.click(APPROVER, "job_retry", source=final)
    world.wait_state(item.id, "verified", timeout=20)
    assert len(world.payments_on("120")) == 1 and world.invoice_balance("120") == Decimal("75.00")
    # The sweep's one sync had run: the retried item ran its own, and nothing else was written again.
    assert [r["status"] for r in sync_posts(world)] == [202, 202]
    ours = [p for p in world.qbo.ledger.list("Payment") if "applycredit job" in (p.get("PrivateNote") or "")]
    assert len(ours) == 9


def _pending_invoice(world):
    """The invoice of the sweep item now writing to QuickBooks (the fault's selector)."""
    jobs = [j for j in world.bot.store.in_batch(1) if j.state == "applying_in_quickbooks"] if batch(world) else []
    return jobs[0].invoice_qbo_id if jobs else None


def test_single_request_is_refused_while_a_sweep_item_holds_the_credit(world):
    world.qbo.faults.inject("slow", seconds=1.5, match=lambda m, p: m == "POST" and p.endswith("/payment"), times=None)
    message = propose(world)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    world.slack.wait_for(lambda s: any(j.open_credit_key == "credit_memo:150" for j in world.bot.store.in_batch(1)),
                         timeout=10)
    view = world.open_picker("Atomar's Best Tackle")
    resp = world.submit(view, invoice="10040", amount="10")
    assert "already has an open request" in resp.text
    world.qbo.faults.clear()
    wait_finished(world)
    assert len(world.payments_on("120")) == 1 and world.payments_on("130") == []


def test_requester_cannot_approve_own_sweep_reject_and_one_open_sweep_at_a_time(world):
    resp = world.driver.command(REQUESTER, CHANNEL, "sweep")  # proposing is for approvers: refused in the ack
    assert "Only approvers can propose a sweep" in resp.json()["text"]
    assert world.bot.service.sweeps.batches.in_states(["planning", "awaiting_approval"]) == []
    message = propose(world, user=APPROVER)
    world.driver.click(APPROVER, "sweep_approve", source=message)
    assert world.slack.wait_for(lambda s: any("colleague has to approve" in t for t in world.ephemeral_texts(APPROVER)))
    world.driver.command(APPROVER_2, CHANNEL, "sweep")
    assert world.slack.wait_for(lambda s: [t for t in world.ephemeral_texts(APPROVER_2) if "one sweep at a time" in t],
                                timeout=20)
    assert batch(world).state == "awaiting_approval"
    world.driver.click(APPROVER_2, "sweep_reject", source=message)
    world.slack.wait_for(lambda s: batch(world).state == "rejected")
    shown = world.slack.wait_for(lambda s: "Rejected" in str(s.message(CHANNEL, message["ts"])["blocks"])
                                 and s.message(CHANNEL, message["ts"]))
    assert "sweep_approve" not in str(shown["blocks"])
    assert world.bot.store.in_batch(1) == [] and world.payments_on("1001") == []


@pytest.mark.slow  # a real bot process, killed and restarted: scheduled first (tests/conftest.py)
def test_sweep_killed_mid_write_resumes_and_a_rerun_applies_nothing_twice(tmp_path):
    """A real SIGKILL while QuickBooks has committed writes the bot has not heard back about yet."""
    import signal

    from data.batches import BatchStore
    from data.db import Connections
    from sandbox.run import Sandbox
    from sandbox.slack_driver import SlackDriver
    from tests.reliability.harness import bot_env, free_port, start_bot
    from tests.scenarios.world import wait_until

    sb = Sandbox(fast=True)
    db = tmp_path / "bot.db"
    env = bot_env(sb, db, free_port())
    proc = start_bot(env, tmp_path)
    try:
        driver = SlackDriver(bot_url=f"http://127.0.0.1:{env['PORT']}/slack/events", signing_secret=sb.signing_secret,
                             slack=sb.slack)
        ours = lambda: [p for p in sb.qbo.ledger.list("Payment") if "applycredit job" in (p.get("PrivateNote") or "")]
        # Every write commits, then its answer is held back 5 s: the kill lands between the commit and the answer.
        sb.qbo.faults.inject("slow_after_commit", seconds=5, times=None,
                             match=lambda m, p: m == "POST" and p.endswith("/payment"))
        driver.command(APPROVER_2, CHANNEL, "sweep")
        message = sb.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if m.get("text", "").startswith("Sweep #")],
                                    timeout=20)[-1]
        batches = BatchStore(Connections(str(db)).get)
        # The button is checked against the message the bot recorded (as propose() waits): wait for its ts.
        wait_until(lambda: (b := batches.get(1)) is not None and b.parent_ts == message["ts"], timeout=10)
        driver.click(APPROVER, "sweep_approve", source=message)
        wait_until(lambda: len(ours()) >= 2, timeout=20)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        committed = len(ours())
        assert 2 <= committed < 9, committed

        sb.qbo.faults.clear()
        proc = start_bot(env, tmp_path)
        wait_until(lambda: batches.get(1).state == "finished", timeout=40)
        payments = ours()
        assert len(payments) == 9  # eight $0 Payments and payment 171, each written once
        from collections import Counter
        sent = Counter(r["query"].get("requestid") for r in sb.qbo.requests
                       if r["method"] == "POST" and r["query"].get("requestid"))
        assert all(n == 1 for n in sent.values())  # no write was sent twice:
        found = [e for e in JobStore(Connections(str(db)).get).events() if e.kind == "quickbooks_write_found"]
        assert found  # the interrupted item looked for its own marked write after the restart and found it
        linked = sorted(link["TxnId"] for p in payments for line in p["Line"] for link in line["LinkedTxn"]
                        if link["TxnType"] == "Invoice" and link["TxnId"] != "141")
        assert linked == sorted(i for _, _, _, i, _ in EXPECTED)
        for invoice_id, balance in BALANCES_AFTER.items():
            assert Decimal(str(sb.qbo.ledger.get("Invoice", invoice_id)["Balance"])) == Decimal(balance), invoice_id
        # Re-running the sweep finds nothing left: the credits are used in QuickBooks.
        driver.command(APPROVER_2, CHANNEL, "sweep")
        assert sb.slack.wait_for(lambda s: [e for e in s.ephemerals(APPROVER_2) if "Nothing to sweep" in e["text"]],
                                 timeout=20)
        assert len(ours()) == 9 and batches.get(2).state == "cancelled"
        summary = sb.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, message["ts"]) if "finished" in m["text"]],
                                    timeout=10)
        assert "9 of 9 applications verified, $275.00 applied" in summary[0]["text"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
        sb.stop()


def test_two_credits_of_one_client_share_invoices_in_order_without_over_applying():
    from workflow.lookup import ClientView, CreditOption, InvoiceOption
    from workflow.sweep import plan_client

    view = ClientView(org_id=1, name="Two Credits", qbo_customer_id="9", credits=[
        CreditOption(key="credit_memo:2", kind="credit_memo", qbo_id="2", number="B", date="2026-02-01",
                     remaining=Decimal("30.00")),
        CreditOption(key="unapplied_payment:1", kind="unapplied_payment", qbo_id="1", number="A", date="2026-01-01",
                     remaining=Decimal("70.00"))],
        invoices=[InvoiceOption(qbo_id=str(n), number=f"I{n}", date=f"2026-03-0{n}", due_date=None,
                                total=Decimal("60.00"), balance=Decimal("60.00")) for n in (1, 2, 3)])
    got = [(i["credit_number"], i["invoice_number"], i["amount"], i["invoice_balance_before"],
            i["credit_remaining_before"]) for i in plan_client(view)]
    assert got == [("A", "I1", "60.00", "60.00", "70.00"), ("A", "I2", "10.00", "60.00", "10.00"),
                   ("B", "I2", "30.00", "50.00", "30.00")]


def test_a_huge_plan_stays_within_slack_limits():
    from data.batches import Batch
    from messages.blocks.sweep import batch_message, plan_pages
    from sandbox.fake_slack import blocks_text_length

    plan = [{"seq": n, "client": f"Client {n // 150}", "qbo_customer_id": str(n // 150), "credit_kind": "credit_memo",
             "credit_number": "1", "invoice_number": str(20000 + n), "invoice_balance_before": "50.00",
             "amount": "1.00", "currency": "USD"} for n in range(150 * 60)]
    batch = Batch(id=1, kind="sweep", state="awaiting_approval", requester_id="U1", approver_id=None, channel_id="C1",
                  parent_ts="1.1", plan=plan, total=Decimal("9000.00"), sync_key=None, sync_id=None, open_key="sweep",
                  created_at="", updated_at="", expires_at="2099-01-01", decided_at=None, completed_at=None)
    _, blocks = batch_message(batch, [])
    assert len(blocks) <= 50 and blocks_text_length(blocks) < 10_000  # Slack: msg_blocks_too_long from ~11,000
    texts = [b["text"]["text"] for b in blocks if "text" in b] + \
        [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert max(len(t) for t in texts) <= 3000
    assert "…and 49 more clients ($7,350.00; all in the totals)" in str(blocks) and "more" in blocks[1]["text"]["text"]
    assert blocks[-1]["type"] == "actions"
    pages = plan_pages(batch)  # every application, in the thread
    assert all(blocks_text_length(page) < 10_000 for _, page in pages)
    listed = set(re.findall(r"invoice (\d+):", str(pages)))
    assert listed == {str(20000 + n) for n in range(150 * 60)}
