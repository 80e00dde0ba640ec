"""Times people can read: Slack's <!date> in mrkdwn with a human fallback in the team's zone; no ISO stamp."""
from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from data.batches import Batch
from data.jobs import Job
from integrations.connectbooster_models import SyncRun
from messages.blocks import digest, inbox, job, sweep
from messages.blocks.times import human, human_date, to_datetime, when
from workflow.digest import DigestData
from workflow.inbox import Inbox, InboxClient

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
STAMP = "2026-11-30T18:55:37.656Z"
UNIX = 1796064937


@pytest.mark.parametrize("value, tz, shown", [
    (STAMP, "America/Chicago", "Mon 30 Nov 2026, 12:55 CST"),
    (STAMP, "UTC", "Mon 30 Nov 2026, 18:55 UTC"),
    ("2026-07-01T12:00:00Z", "America/Chicago", "Wed 1 Jul 2026, 07:00 CDT"),
    ("2026-11-30T18:55:37+00:00", "Asia/Kolkata", "Tue 1 Dec 2026, 00:25 IST"),
    (datetime(2026, 11, 30, 18, 55), "UTC", "Mon 30 Nov 2026, 18:55 UTC"),   # naive = UTC
    (STAMP, "Not/AZone", "Mon 30 Nov 2026, 18:55 UTC"),                      # an unknown zone breaks nothing
    ("soon", "UTC", "soon"),
])
def test_human(value, tz, shown):
    assert human(value, tz) == shown


def test_when_is_slack_date_syntax_with_the_human_fallback():
    assert when(STAMP, "America/Chicago") == (
        f"<!date^{UNIX}^{{date_short_pretty}} at {{time}}|Mon 30 Nov 2026, 12:55 CST>")
    assert to_datetime(STAMP).timestamp() == pytest.approx(UNIX + 0.656)


@pytest.mark.parametrize("value, shown", [(None, "an unknown time"), ("", "an unknown time"),
                                          ("<!channel> later", "&lt;!channel&gt; later")])
def test_when_escapes_what_is_not_a_time(value, shown):
    assert when(value) == shown


def test_human_date():
    assert human_date(datetime(2026, 11, 3, 14, tzinfo=UTC), "America/Chicago") == "Tue 3 Nov 2026"


def _job(**values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(id=7, kind="apply", state="awaiting_approval", requester_id="U1", channel_id="C1", client_name="X",
               qbo_customer_id="1", credit_kind="credit_memo", qbo_credit_id="1", invoice_qbo_id="1",
               invoice_number="10040", amount=Decimal("10.00"), currency="USD", attempt=0, retryable=0,
               created_at=STAMP, updated_at=STAMP, expires_at=STAMP, decided_at=STAMP, completed_at=STAMP,
               applied_at=STAMP)
    row.update(values)
    return Job(**row)


def _every_builder(tz: str) -> list[object]:
    """What each builder that shows a time produces, fed real stamps everywhere a stamp can be."""
    batch = Batch(id=3, kind="sweep", state="awaiting_approval", requester_id="U1", approver_id=None,
                  channel_id="C1", parent_ts=None, plan=[{"seq": 0, "qbo_customer_id": "58", "client": "A",
                  "credit_kind": "credit_memo", "credit_number": "1039", "invoice_number": "10040", "amount": "10.00",
                  "currency": "USD", "invoice_balance_before": "120.00"}], total=Decimal(10), sync_key=None,
                  sync_id=None, open_key=None, created_at=STAMP, updated_at=STAMP, expires_at=STAMP,
                  decided_at=None, completed_at=None)
    run = SyncRun(id=31, integration_id="quickbooks_online", status="finished", trigger="scheduled",
                  sync_from="2026-11-29", requested_at=STAMP, started_at=STAMP, finished_at=STAMP, stages=(),
                  counts={}, error=None)
    data = DigestData(credits=[], attention=[_job(state="needs_attention", error="x")], last_sync=run,
                      completed=[_job(state="verified")], since=datetime(2026, 11, 29, 18, tzinfo=UTC))
    box = Inbox(clients=[InboxClient(org_id=1, name="A", qbo_customer_id="58")], read_at=STAMP)
    return [job.parent_message(_job(), tz), job.parent_message(_job(state="verified", approver_id="U2"), tz),
            sweep.batch_message(batch, [], tz), inbox.inbox_view(box, 0, "d", tz=tz),
            inbox.inbox_view(Inbox(clients=[], read_at=STAMP), 0, "d", tz=tz),
            digest.digest_message(data, datetime(2026, 11, 30, 18, 55, tzinfo=UTC), tz)]


@pytest.mark.parametrize("tz", ["UTC", "America/Chicago"])
def test_no_iso_stamp_reaches_a_person(tz):
    for built in _every_builder(tz):
        shown = json.dumps(built, ensure_ascii=False)
        assert not ISO.search(shown), ISO.search(shown).string[max(0, ISO.search(shown).start() - 80):][:160]


def test_expiry_and_read_times_are_slack_dates():
    text = json.dumps(_every_builder("America/Chicago"), ensure_ascii=False)
    assert text.count(f"Expires <!date^{UNIX}^{{date_short_pretty}} at {{time}}|Mon 30 Nov 2026, 12:55 CST>") == 2
    assert f"read <!date^{UNIX}^" in text and f"Read <!date^{UNIX}^" in text
