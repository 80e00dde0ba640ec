"""Every message and view builder, fed hostile outside text, stays within Slack's limits and pings no one.

Client names, notes, error texts, invoice and credit numbers, currency codes, kinds and sync statuses full of
`& < >`, emoji sequences and 3,000-character strings go through every builder in handlers/blocks; the result
must pass the fake Slack's validator and the documented limits checked locally (tests/unit/blockkit.py).
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.batches import Batch
from integrations.connectbooster_models import Organization, SyncRun
from messages.blocks import alerts, digest, home, inbox, job, picker, sweep
from tests.unit.blockkit import limit_errors
from tests.unit.strategies import (
    CURRENCY,
    ID,
    MONEY,
    NAME,
    SETTINGS,
    SHORT,
    STAMP,
    TEXT,
    TZ,
    check_message,
    check_view,
    client_views,
    events,
    inboxes,
    jobs,
    plans,
)
from workflow.digest import DigestData, OpenCredit

pytestmark = pytest.mark.slow  # property tests over every message builder: scheduled first (tests/conftest.py)


@SETTINGS
@given(j=jobs(), e=events(), tz=TZ, message=TEXT)
def test_job_messages(j, e, tz, message):
    check_message(job.parent_message(j, tz))
    check_message(job.reply_for(j, e))
    check_message(job.notice(j, "https://example.slack.com/archives/C1/p1"))
    check_message(alerts.alert(j, message, None, {"message": message, "can": message, "idle": message}))
    check_message(alerts.alert_resolved(j, {"message": message, "by": "U1", "at": "2026-11-26T10:00:00Z",
                                            "state": "verified"}, None, tz))


@SETTINGS
@given(plan=plans(), state=st.one_of(st.sampled_from(["awaiting_approval", "running", "finished"]), SHORT),
       items=st.lists(jobs(state="needs_attention", retryable=1), max_size=8), reason=TEXT, tz=TZ, stamp=STAMP)
def test_sweep_messages(plan, state, items, reason, tz, stamp):
    batch = Batch(id=3, kind="sweep", state=state, requester_id="U0REQUEST", approver_id="U0APPROVE",
                  channel_id="C1", parent_ts=None, plan=plan, total=sum(Decimal(p["amount"]) for p in plan),
                  sync_key=None, sync_id=None, open_key=None, created_at=stamp, updated_at=stamp, expires_at=stamp,
                  decided_at=None, completed_at=None)
    items = [j.__class__(**{**j.__dict__, "id": n + 1, "batch_seq": n}) for n, j in enumerate(items)]
    check_message(sweep.batch_message(batch, items, tz))
    check_message(sweep.summary(batch, items, {j.id: reason for j in items}))
    check_message(sweep.notice(batch, items))


@SETTINGS
@given(client=client_views(), query=TEXT, names=st.lists(NAME, min_size=2, max_size=120), typed=SHORT)
def test_picker_views(client, query, names, typed):
    orgs = [Organization(id=n + 1, name=name, qbo_customer_id=str(n), balance={}, last_synced_at=None)
            for n, name in enumerate(names)]
    check_view(picker.loading_view(query))
    check_view(picker.no_match_view(query))
    check_view(picker.choose_client_view(query, orgs, "draft123"))
    check_view(picker.picker_view(client, "draft123"))
    check_view(picker.submitted_view(7, "C0FINANCE"))
    check_view(picker.message_view(picker.esc(query)))
    options = picker.invoice_options(client, typed)
    assert len(options) <= 100
    assert limit_errors([{"type": "actions", "elements": [
        {"type": "static_select", "action_id": "x", "options": options}]}] if options else []) == []


@SETTINGS
@given(box=inboxes(), page=st.integers(-1, 4), notice=TEXT, tz=TZ)
def test_inbox_views(box, page, notice, tz):
    check_view(inbox.loading_view())
    check_view(inbox.message_view(inbox.esc(notice)))
    started = {c.key: 9 for cl in box.clients for c in cl.credits[:1]}
    check_view(inbox.inbox_view(box, page, "draft123", started=started, notice=inbox.esc(notice), tz=tz))


@SETTINGS
@given(lists=st.lists(st.lists(jobs(), max_size=12), min_size=4, max_size=4), approver=st.booleans())
def test_home_view(lists, approver):
    waiting, mine, attention, recent = lists
    data = home.HomeData(user="U0REQUEST", approver=approver, waiting=waiting, mine=mine, attention=attention,
                         recent=recent)
    check_view(home.home_view(data, "https://example.slack.com/"))


@SETTINGS
@given(credits=st.lists(st.builds(OpenCredit, client=NAME, ref=ID.map(str), kind=SHORT, number=SHORT,
                                  date=st.one_of(st.just("2026-10-01"), SHORT), remaining=MONEY, currency=CURRENCY),
                        max_size=6),
       attention=st.lists(jobs(), max_size=12), completed=st.lists(jobs(), max_size=12),
       status=st.one_of(st.sampled_from(["finished", "failed", "active"]), SHORT), error=st.one_of(st.none(), TEXT),
       trigger=SHORT, stamp=st.one_of(STAMP, SHORT), unreadable=st.lists(NAME, max_size=12), tz=TZ)
def test_digest_message(credits, attention, completed, status, error, trigger, stamp, unreadable, tz):
    run = SyncRun(id=31, integration_id="quickbooks_online", status=status, trigger=trigger, sync_from="2026-11-02",
                  requested_at=stamp, started_at=stamp, finished_at=stamp, stages=(), counts={}, error=error)
    data = DigestData(credits=credits, attention=attention, last_sync=run, completed=completed,
                      since=datetime(2026, 11, 2, 14, tzinfo=UTC), unreadable=unreadable)
    check_message(digest.digest_message(data, datetime(2026, 11, 3, 14, tzinfo=UTC), tz))


@SETTINGS
@given(plan=plans(), state=st.sampled_from(["awaiting_approval", "finished", "undoing", "undo_checklist", "undone",
                                            "cancelled"]),
       items=st.lists(jobs(state="verified", retryable=1), max_size=8),
       undos=st.lists(jobs(kind="undo", state="needs_attention", retryable=1), max_size=8), reason=TEXT, tz=TZ,
       stamp=STAMP, typed=SHORT, guided=st.booleans())
def test_sweep_control_messages(plan, state, items, undos, reason, tz, stamp, typed, guided):
    """Edit plan… and Undo sweep…: the message with its buttons, the modal, the options, the undo's replies."""
    from messages.blocks import sweep_controls as controls
    from workflow.sweep_controls import UndoView

    batch = Batch(id=3, kind="sweep", state=state, requester_id="U0REQUEST", approver_id="U0APPROVE",
                  channel_id="C1", parent_ts="1.1", plan=plan, total=sum(Decimal(p["amount"]) for p in plan),
                  sync_key=None, sync_id=None, open_key=None, created_at=stamp, updated_at=stamp, expires_at=stamp,
                  decided_at=None, completed_at=None, mode="guided" if guided else "api", undo_by="U0APPROVE",
                  undo_confirmed_by="U0APPROVE2", sync_from=typed, left_out=[{"client": reason, "by": "U0APPROVE"}],
                  undo_skipped={str(j.id): reason for j in items[:2]})
    items = [j.__class__(**{**j.__dict__, "id": n + 1, "batch_seq": n}) for n, j in enumerate(items)]
    undo = UndoView([u.__class__(**{**u.__dict__, "id": 100 + n, "state": s}) for n, (u, s) in enumerate(
        zip(undos, ["needs_attention", "awaiting_batch_sync", "stale"] * 3, strict=False))],
        {j.id: reason for j in items})
    check_message(sweep.batch_message(batch, items, tz, undo))
    check_message(sweep.batch_message(batch, items, tz))
    check_message(controls.summary(batch, items, undo))
    check_message(controls.notice(batch, items, undo))
    check_message(controls.checklist(batch, undo, "https://acme.connectboosterportal.com"))
    check_view(controls.leave_out_modal(batch, "C1", "1.1"))
    options = controls.client_options(batch, typed)
    assert len(options) <= 100
    assert limit_errors([{"type": "actions", "elements": [
        {"type": "static_select", "action_id": "x", "options": options}]}] if options else []) == []
