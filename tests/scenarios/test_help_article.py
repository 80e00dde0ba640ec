"""The help article's example, end to end through signed Slack requests."""
from decimal import Decimal

from sandbox.cb_sync import SyncTiming
from tests.scenarios.world import APPROVER, BOTH_TRANSPORTS, CHANNEL, NOTIFY, REQUESTER, has_buttons


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_credit_11261_applied_to_invoice_10040_end_to_end(world):
    view = world.open_picker("Atomar's Best Tackle")
    text = str(view["blocks"])
    assert "11261" in text and "$10.00" in text and "10040" in text and "$120.00 of $120.00" in text

    job_id = world.request(invoice="10040", amount="10")
    parent = world.parent(job_id)
    assert has_buttons(parent) and f"<@{REQUESTER}>" in str(parent["blocks"])
    assert "$120.00 → $110.00" in str(parent["blocks"])

    # Each sync stage lasts several 0.05 s polls, so the thread shows every one even on a loaded machine (the
    # quarter-second fast run could end a stage between two polls).
    world.cb.engine.timing = SyncTiming(to_active=0.1, psa_seconds=0.3, accounting_seconds=0.3, resync_seconds=0.05)
    resp = world.approve(job_id, APPROVER)
    assert resp.status == 200
    world.wait_state(job_id, "verified", timeout=15)

    payments = world.payments_on("130")
    assert len(payments) == 1 and Decimal(str(payments[0]["TotalAmt"])) == 0
    assert world.invoice_balance("130") == Decimal("110.00")
    assert world.invoice_balance("120") == Decimal("85.00")  # the oldest invoice untouched

    thread = world.wait_thread(job_id, "Verified")
    joined = "\n".join(thread)
    assert f"Payment *{payments[0]['Id']}*" in joined
    assert "$120.00 → $110.00" in joined
    assert "$110.00 of $120.00" in joined
    for fragment in ("pending", "active — Autotask (PSA)", "active — QuickBooks Online", "finished"):
        assert fragment in joined, fragment
    assert joined.index("Recorded in QuickBooks") < joined.index("resynced") < joined.index("finished")

    parent = world.slack.wait_for(lambda s: "Done" in str(world.parent(job_id)["blocks"]) and world.parent(job_id))
    assert not has_buttons(parent)
    notices = world.slack.wait_for(lambda s: s.messages(NOTIFY))
    assert "$10.00" in notices[0]["text"] and "10040" in notices[0]["text"] and f"<@{APPROVER}>" in notices[0]["text"]

    open_credits = [c for c in world.cb.snapshot()["credits"] if c["status"] == "open"]
    assert 11261 not in [c["id"] for c in open_credits]
    assert CHANNEL
