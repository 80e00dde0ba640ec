"""Trouble at QuickBooks and ConnectBooster: each ends in a clear thread reply, nothing lost or doubled."""
from decimal import Decimal

from sandbox.cb_emulator import SyncTiming
from tests.scenarios.world import APPROVER, NOTIFY, REQUESTER


def approve_and_wait(world, state, **request):
    job_id = world.request(**{"invoice": "10040", "amount": "10", **request})
    world.approve(job_id, APPROVER)
    return job_id, world.wait_state(job_id, state, timeout=15)


def retry(world, job_id, user=APPROVER):
    job = world.job(job_id)
    reply = world.slack.wait_for(lambda s: [m for m in s.thread(job.channel_id, job.parent_ts)
                                            if "job_retry" in str(m.get("blocks"))])[-1]
    return world.driver.click(user, "job_retry", source=reply)


def test_closed_books_6210_reports_and_retry_works_after_reopening(world):
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.ledger.close_books(through="2099-12-31")  # closed after the request: the picker would not offer it
    world.approve(job_id, APPROVER)
    job = world.wait_state(job_id, "needs_attention", timeout=15)
    assert "accounting period is closed" in job.error
    thread = world.wait_thread(job_id, "accounting period is closed")
    assert any("Nothing was recorded" in t for t in thread)
    assert world.payments_on("130") == []
    world.qbo.ledger.close_books(through="2000-01-01")
    retry(world, job_id)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_business_validation_6000_is_reported_without_retrying_blindly(world):
    world.qbo.faults.inject("6000", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "refused the payment as invalid" in job.error and world.payments_on("130") == []
    retry(world, job_id)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_stale_synctoken_5010_is_reread_once(world):
    world.qbo.faults.inject("5010", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    job_id, _ = approve_and_wait(world, "verified", text="Blue Heron Marine", invoice="10050", amount="25")
    assert Decimal(str(world.qbo.ledger.get("Payment", "171")["UnappliedAmt"])) == 0


def test_expired_access_token_is_refreshed_mid_job(world):
    world.qbo.expire_access_tokens()
    approve_and_wait(world, "verified")
    assert len(world.payments_on("130")) == 1
    assert any(r["grant_type"] == "refresh_token" and r["status"] == 200 for r in world.qbo.token_requests)


def test_throttled_write_waits_as_intuit_asks(world):
    world.qbo.faults.inject("429", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    approve_and_wait(world, "verified")
    assert 60.0 in world.qbo_retry.waits  # no Retry-After from Intuit: wait the documented 60 s
    assert len(world.payments_on("130")) == 1


def test_quickbooks_outage_during_write_then_retry_replays(world):
    world.qbo.faults.inject("503", times=3, match=lambda m, p: m == "POST" and p.endswith("/payment"))
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "may or may not be recorded" in job.error and "will not record it twice" in job.error
    retry(world, job_id)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_answer_lost_after_commit_writes_one_payment(world):
    world.qbo.faults.inject("drop_after_commit", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    approve_and_wait(world, "verified")
    assert len(world.payments_on("130")) == 1
    assert world.invoice_balance("130") == Decimal("110.00")


def test_slow_quickbooks_past_the_timeout_still_one_payment(world):
    world.qbo.faults.inject("slow", seconds=2.5, match=lambda m, p: m == "POST" and p.endswith("/payment"))
    approve_and_wait(world, "verified")
    assert len(world.payments_on("130")) == 1


def test_figures_changed_since_the_request_are_refused(world):
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.ledger.create_payment({"CustomerRef": {"value": "58"}, "TotalAmt": 5, "TxnDate": "2026-11-20",
                                     "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]})
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "stale")
    thread = world.wait_thread(job_id, "Stopped before writing anything")
    assert any("$115.00" in t for t in thread)
    assert len(world.payments_on("130")) == 1  # only the one made outside the bot


def test_connectbooster_outage_on_resync_keeps_the_payment_and_retries(world):
    world.cb.faults.inject("503", times=None, match=lambda m, p: m == "POST" and "/resync" in p)
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "payment is recorded in QuickBooks" in job.error and "Retry is safe" in job.error
    world.cb.faults.clear()
    retry(world, job_id)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1
    assert len([r for r in world.cb.requests if r["method"] == "POST" and "/resync" in r["path"]
                and r["status"] == 202]) == 1


def test_sync_already_running_is_joined(world):
    world.cb.engine.timing = SyncTiming(to_active=0.5, psa_seconds=1.0, accounting_seconds=1.0, resync_seconds=0.05)
    job_id = world.request(invoice="10040", amount="10")
    scheduled = world.cb.start_scheduled_sync()
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    assert world.wait_thread(job_id, "joined the sync that was already running")
    assert world.job(job_id).sync_id == scheduled["id"] if isinstance(scheduled, dict) else scheduled.id
    started = [r for r in world.cb.requests if r["method"] == "POST" and r["path"].endswith("/syncs")]
    assert [r["status"] for r in started] == [409]  # the bot asked once and joined the running sync


def test_failed_sync_alerts_and_sync_again_finishes(world):
    world.cb.faults.inject("fail_sync")
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "failed" in job.error
    alert = world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "needs attention" in m["text"]])
    assert f"#{job_id}" in alert[0]["text"]
    retry(world, job_id, user=REQUESTER)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_stuck_sync_times_out_with_an_alert(make_world):
    world = make_world(settings={"sync_timeout_seconds": 0.5})
    world.cb.faults.inject("stuck_pending")
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "longer than" in job.error
    assert world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if "needs attention" in m["text"]])


def test_slack_rate_limits_never_block_the_job(world):
    world.slack.faults.inject("ratelimited", times=3, match="chat.postMessage", seconds=0.2)
    job_id, _ = approve_and_wait(world, "verified")
    thread = world.wait_thread(job_id, "Verified")
    assert len([t for t in thread if "Recorded in QuickBooks" in t]) == 1


def test_credit_still_showing_after_the_sync_offers_sync_again(world):
    world.cb.faults.inject("skip_changes")
    job_id, job = approve_and_wait(world, "needs_attention")
    assert "still shows credit 11261" in job.error
    thread = world.wait_thread(job_id, "still shows credit 11261")
    reply = world.slack.thread(job.channel_id, job.parent_ts)[-1]
    assert "Sync again" in str(reply["blocks"])
    retry(world, job_id)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1  # the sync was repeated, not the payment
    assert thread


def test_connectbooster_errors_on_starting_the_sync_are_retried_with_the_same_key(world):
    world.cb.faults.inject("500", times=1, match=lambda m, p: m == "POST" and p.endswith("/syncs"))
    job_id, _ = approve_and_wait(world, "verified")
    posts = [r for r in world.cb.requests if r["method"] == "POST" and r["path"].endswith("/syncs")]
    assert [r["status"] for r in posts] == [500, 202]


def test_command_is_acknowledged_at_once_whatever_the_latency(world):
    import time

    world.cb.faults.inject("slow", seconds=1.5, times=None, match="/organizations")
    started = time.monotonic()
    resp = world.driver.command("U0REQUEST", "C0FINANCE", "Atomar's Best Tackle")
    elapsed = time.monotonic() - started
    assert resp.status == 200 and elapsed < 1.0, elapsed
    loading = world.slack.wait_for(lambda s: s.views("U0REQUEST")["modals"], timeout=1.0)
    assert "Looking up" in str(loading[-1]["blocks"])  # the modal opened while the lookup is still running
    picker = world.slack.wait_for(lambda s: "11261" in str(s.views("U0REQUEST")["modals"]), timeout=15)
    assert picker


def test_disconnected_quickbooks_makes_the_job_wait_and_writes_nothing(world):
    """The whole story, with the reconnect that resumes it, is tests/scenarios/test_reconnect.py."""
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.oauth.revoke_all()  # someone disconnected the app in QuickBooks before the approval
    world.approve(job_id, APPROVER)
    job = world.wait_state(job_id, "awaiting_quickbooks_reconnect")
    assert "invalid_grant" in job.error and job.resume_state == "approved"
    assert world.wait_thread(job_id, "/applycredit connect")
    assert world.payments_on("130") == []


def test_picker_says_to_reconnect_when_quickbooks_refuses_the_credentials(world):
    world.qbo.oauth.revoke_all()
    view = world.open_picker("Atomar's Best Tackle")
    text = str(view["blocks"])
    assert "/applycredit connect" in text and "Nothing was changed" in text
