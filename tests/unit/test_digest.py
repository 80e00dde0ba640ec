"""The daily digest: exact content at a fixed clock, and when it is due (time zones, once per day)."""
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

from data.jobs import Job
from integrations.connectbooster_models import SyncRun
from messages.blocks.digest import age, digest_message
from sandbox.fake_slack import validate_blocks
from workflow.digest import DigestData, DigestScheduler, OpenCredit

NOW = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # 08:00 in Chicago (CST, after DST ended on Nov 1)


def job(**values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(kind="apply", state="verified", requester_id="U1", channel_id="C1", client_name="X",
               qbo_customer_id="1", credit_kind="credit_memo", qbo_credit_id="1", invoice_qbo_id="1",
               invoice_number="1", amount="0", currency="USD", attempt=0, retryable=0, created_at="", updated_at="")
    row.update(values)
    return Job.from_row(row)


def sync(status="finished", finished_at="2026-11-03T11:55:00Z", error=None) -> SyncRun:
    return SyncRun(id=31, integration_id="quickbooks_online", status=status, trigger="scheduled",
                   sync_from="2026-11-02", requested_at="2026-11-03T11:50:00Z", started_at="2026-11-03T11:51:00Z",
                   finished_at=finished_at, stages=(), counts={}, error=error)


def data(**kw) -> DigestData:
    base = dict(
        credits=[OpenCredit("Atomar's Best Tackle", "11261", "credit_memo", "1039", "2026-10-01", Decimal("10.00"),
                            "USD"),
                 OpenCredit("<!channel> Holdings", "11265", "credit_memo", "1053", "2026-10-07", Decimal("20.00"), "USD"),
                 OpenCredit("Blue Heron Marine", "11262", "unapplied_payment", "171", "2026-08-20", Decimal("25.00"),
                            "USD")],
        attention=[job(id=4, state="needs_attention", client_name="Pier 9 Outfitters",
                       error="QuickBooks says the books are closed through 2026-10-31.")],
        last_sync=sync(),
        completed=[job(id=2, client_name="Atomar's Best Tackle", amount="10.00", invoice_number="10040"),
                   job(id=3, kind="resync_only", client_name="Reel Deal Charters", cb_credit_id=11267, amount="40.00")],
        since=datetime(2026, 11, 2, 14, 0, 5, tzinfo=UTC))
    base.update(kw)
    return DigestData(**base)


def test_digest_content_at_a_fixed_clock():
    text, blocks = digest_message(data(), NOW, "America/Chicago")
    assert text == ("Credit digest: 3 open credits ($55.00), 1 job needing attention, last sync finished, "
                    "2 done since the last digest.")
    assert blocks[0]["text"]["text"] == "Credit digest — Tue 3 Nov 2026"
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections == [
        "*Open credits:* 3 · $55.00 · oldest: credit 11262 (unapplied payment #171, $25.00) of *Blue Heron Marine*, "
        "dated 2026-08-20 (75 days old)",
        "*Needs attention:* 1 job\n• #4 *Pier 9 Outfitters* — QuickBooks says the books are closed through 2026-10-31.",
        "*Last ConnectBooster sync:* :repeat: #31 (scheduled) finished 2 h 5 min ago",
        "*Done since <!date^1793628005^{date_short_pretty} at {time}|Mon 2 Nov 2026, 08:00 CST>:* "
        "1 application ($10.00), 1 resync only\n"
        "• #2 *Atomar's Best Tackle* — $10.00 to invoice 10040\n• #3 *Reel Deal Charters* — resync of credit 11267",
    ]
    next_digest = "<!date^1793714400^{date_short_pretty} at {time}|Tue 3 Nov 2026, 08:00 CST>"
    assert blocks[-1]["elements"][0]["text"].endswith(next_digest)
    assert validate_blocks(blocks) == []


def test_digest_when_everything_is_quiet_or_failing():
    _, blocks = digest_message(data(credits=[], attention=[], completed=[], unreadable=["<!here> Co"],
                                    last_sync=sync("failed", "2026-11-01T14:00:00Z",
                                                   "QuickBooks Online: token revoked")),
                               NOW, "UTC")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections == [
        "*Open credits:* none in ConnectBooster.\n:warning: Couldn't read: &lt;!here&gt; Co.",
        "*Needs attention:* nothing.",
        "*Last ConnectBooster sync:* :x: #31 (scheduled) failed 2 days ago: QuickBooks Online: token revoked",
        "*Done since <!date^1793628005^{date_short_pretty} at {time}|Mon 2 Nov 2026, 14:00 UTC>:* nothing.",
    ]
    _, blocks = digest_message(data(last_sync=None), NOW)
    assert "*Last ConnectBooster sync:* none recorded." in str(blocks)


def test_age():
    assert [age(NOW.replace(minute=m), NOW.replace(minute=59)) for m in (59, 34)] == ["just now", "25 min"]
    assert age(datetime(2026, 11, 3, 12, 0, tzinfo=UTC), NOW) == "2 h"
    assert age(None, NOW) == "an unknown time"


def test_scheduler_is_due_once_per_local_day_at_the_configured_time():
    clock = [datetime(2026, 11, 3, 13, 59, tzinfo=UTC)]
    posted: list[str] = []
    s = DigestScheduler(at="08:00", tz="America/Chicago", posted=posted.__contains__, post=posted.append,
                        now=lambda: clock[0])
    assert s.tick() is False and posted == []                 # 07:59 in Chicago
    clock[0] = NOW
    assert s.tick() is True and posted == ["2026-11-03"]      # 08:00
    clock[0] = datetime(2026, 11, 4, 5, 59, tzinfo=UTC)  # 23:59 the same local day
    assert s.tick() is False and posted == ["2026-11-03"]
    clock[0] = datetime(2026, 11, 4, 14, 30, tzinfo=UTC)
    assert s.tick() is True and posted == ["2026-11-03", "2026-11-04"]
    assert DigestScheduler(at="", tz="UTC", posted=lambda d: False, post=posted.append, now=lambda: NOW).tick() is False
