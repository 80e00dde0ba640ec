"""Guided mode without a server: the mode's choice, who may confirm, the sync date, the cause of a
mismatch, and the step messages within Block Kit's limits whatever the job holds."""
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import ConfigError, Settings
from data.jobs import Event, Job
from data.states import JobKind, JobState
from messages.blocks import guided as blocks
from tests.unit.blockkit import message_errors, view_limit_errors
from tests.unit.strategies import jobs
from workflow.guided import _cause, _money, sync_from
from workflow.policy import Action, NotAllowed, Policy

QBO_ONLY = {"SLACK_BOT_TOKEN": "xoxb-1-bot", "SLACK_SIGNING_SECRET": "sign", "QBO_CLIENT_ID": "client",
            "QBO_CLIENT_SECRET": "secret", "APPROVER_IDS": "U0APPROVE", "NOTIFY_CHANNEL": "C0NOTIFY"}
CB = {"CONNECTBOOSTER_BASE_URL": "https://cb.example/api/v1", "CONNECTBOOSTER_API_KEY": "key"}


def test_quickbooks_without_connectbooster_defaults_to_guided():
    s = Settings.from_env(QBO_ONLY, dotenv_path=None)
    assert s.guided and "CONNECTBOOSTER_BASE_URL is not" in s.connectbooster_mode_reason
    assert s.guided_remind_minutes == 30.0


def test_a_connectbooster_url_defaults_to_api():
    s = Settings.from_env({**QBO_ONLY, **CB}, dotenv_path=None)
    assert not s.guided and s.connectbooster_mode == "api" and "CONNECTBOOSTER_BASE_URL is set" in \
        s.connectbooster_mode_reason


def test_explicit_mode_wins_and_is_checked():
    s = Settings.from_env({**QBO_ONLY, **CB, "CONNECTBOOSTER_MODE": "guided", "GUIDED_REMIND_MINUTES": "5",
                           "CONNECTBOOSTER_PORTAL_URL": "https://acme.connectboosterportal.com/"}, dotenv_path=None)
    assert s.guided and s.guided_remind_minutes == 5 and s.connectbooster_portal_url.endswith(".com")
    with pytest.raises(ConfigError) as e:
        Settings.from_env({**QBO_ONLY, "CONNECTBOOSTER_MODE": "api"}, dotenv_path=None)
    assert "CONNECTBOOSTER_MODE=api needs CONNECTBOOSTER_BASE_URL" in str(e.value)
    with pytest.raises(ConfigError) as e:
        Settings.from_env({**QBO_ONLY, "CONNECTBOOSTER_MODE": "manual"}, dotenv_path=None)
    assert "CONNECTBOOSTER_MODE must be api or guided" in str(e.value)


def test_sandbox_is_api_unless_asked():
    assert not Settings.from_env({}, dotenv_path=None).guided
    assert Settings.from_env({"CONNECTBOOSTER_MODE": "guided"}, dotenv_path=None).guided


def _job(**values):
    row = {f.name: None for f in fields(Job)}
    row.update(id=7, kind=JobKind.APPLY, state=JobState.GUIDED_RESYNC, requester_id="U0REQUEST",
               approver_id="U0APPROVE", channel_id="C0FINANCE", parent_ts="1.000100",
               client_name="Atomar's Best Tackle",
               qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id="150", credit_number="1039",
               invoice_qbo_id="130", invoice_number="10040", amount=Decimal("10.00"), currency="USD", attempt=0,
               retryable=0, created_at="2026-11-29T10:00:00.000Z", updated_at="2026-11-29T10:00:00.000Z")
    row.update(values)
    return Job(**row)


POLICY = Policy(approvers=frozenset({"U0APPROVE", "U0APPROVE2"}), undo_window=timedelta(hours=72))


def test_requester_approver_and_any_approver_may_confirm():
    job = _job()
    for user in ("U0REQUEST", "U0APPROVE", "U0APPROVE2"):
        POLICY.check(Action.GUIDED_CONFIRM, user, job, channel="C0FINANCE", message_ts="1.000100")
    with pytest.raises(NotAllowed, match="Only the requester or an approver"):
        POLICY.check(Action.GUIDED_CONFIRM, "U0OUTSIDE", job, channel="C0FINANCE", message_ts="1.000100")
    with pytest.raises(NotAllowed, match="does not belong"):
        POLICY.check(Action.GUIDED_CONFIRM, "U0REQUEST", job, channel="C0FINANCE", message_ts="9.000900")
    with pytest.raises(NotAllowed, match="not valid"):
        POLICY.check(Action.GUIDED_CONFIRM, "U0REQUEST", job, channel="C0OTHER", message_ts="1.000100")
    with pytest.raises(NotAllowed, match="no step is waiting"):
        POLICY.check(Action.GUIDED_CONFIRM, "U0REQUEST", replace(job, state=JobState.VERIFIED),
                     channel="C0FINANCE", message_ts="1.000100")


def test_sync_date_is_the_day_before_or_the_credits_date_if_older():
    job = _job(applied_at="2026-11-20T10:00:00.000Z")
    assert sync_from(job, "2026-11-25", date(2026, 11, 29)) == date(2026, 11, 19)
    assert sync_from(job, "2026-10-01", date(2026, 11, 29)) == date(2026, 10, 1)
    assert sync_from(replace(job, applied_at=None), None, date(2026, 11, 29)) == date(2026, 11, 28)


def test_mismatch_cause():
    job = _job(invoice_balance_before=Decimal("120.00"), invoice_balance_after=Decimal("110.00"))
    assert _money("$1,120.00 of $1,200.00") == Decimal("1120.00")
    assert _cause(job, _money("$120.00 of $120.00"), Decimal("110.00")) == "not_picked_up"
    assert _cause(job, Decimal("80.00"), Decimal("80.00")) == "invoice_changed"
    assert _cause(job, Decimal("5.00"), Decimal("110.00")) == "other"
    assert _cause(job, _money("nothing"), Decimal("110.00")) == "unreadable"


KINDS = ["guided_resync", "guided_sync", "guided_resynced", "guided_mismatch", "guided_sync_started",
         "guided_sync_failed", "guided_sync_finished", "guided_credit_still_shows", "guided_reminder", "retry",
         "needs_attention", "verified"]


@settings(max_examples=150, deadline=None)
@given(job=jobs(), kind=st.sampled_from(KINDS), shown=st.text(max_size=300),
       state=st.sampled_from([JobState.GUIDED_RESYNC, JobState.GUIDED_SYNC, JobState.GUIDED_CHECK, JobState.VERIFIED]))
def test_every_guided_message_fits_and_never_pings(job, kind, shown, state):
    job = replace(job, state=state, sync_from="2026-11-19")
    details = {"step": JobState.GUIDED_RESYNC if kind != "guided_sync" else JobState.GUIDED_SYNC, "shown": shown,
               "cause": "other", "qbo_balance": "80.00", "who": job.requester_id, "waited_minutes": 31,
               "guided": True, "confirmed_by": "U0REQUEST", "message": shown or "waited a day"}
    events = [Event(1, job.id, "2026-11-29T10:00:00.000Z", "bot", "guided_resync", {"step": JobState.GUIDED_RESYNC}),
              Event(2, job.id, "2026-11-29T10:05:00.000Z", "U0REQUEST", kind, details)]
    reply = blocks.reply_for(job, events[1], "https://acme.connectboosterportal.com")
    if reply is not blocks.FALLBACK and reply is not None:
        assert message_errors(*reply) == []
    assert message_errors(*blocks.parent_message(job, events)) == []
    assert message_errors(*blocks.notice(job, "U0REQUEST")) == []
    assert view_limit_errors(blocks.mismatch_modal(job, "1.000100")) == []


def test_parent_checklist_goes_pending_active_complete():
    job = _job(state=JobState.GUIDED_SYNC)
    at = datetime(2026, 11, 29, tzinfo=UTC).isoformat()
    events = [Event(1, job.id, at, "bot", "guided_resync", {}),
              Event(2, job.id, at, "U0REQUEST", "guided_resynced", {})]
    assert [s for _, s in blocks.step_status(job, events)] == ["complete", "pending", "pending"]
    events.append(Event(3, job.id, at, "U0REQUEST", "guided_sync_started", {}))
    assert [s for _, s in blocks.step_status(job, events)] == ["complete", "active", "pending"]
    events.append(Event(4, job.id, at, "U0REQUEST", "guided_sync_finished", {}))
    job = replace(job, state=JobState.GUIDED_CHECK)
    assert [s for _, s in blocks.step_status(job, events)] == ["complete", "complete", "active"]
    assert [s for _, s in blocks.step_status(replace(job, state=JobState.VERIFIED), events)] == ["complete"] * 3


def test_guided_help_no_match_and_trouble_menu_speak_of_guided_mode():
    from messages.blocks.guided_inbox import GuidedScreens
    from messages.screens import Screens
    from sandbox.console.troubles import fault_catalogue

    guided, api = GuidedScreens(), Screens()
    assert "QuickBooks customer" in str(guided.no_match("zz")) and "ConnectBooster organization" in str(api.no_match("zz"))
    assert "guide you through ConnectBooster" in guided.help_text("/applycredit")
    assert "history" in guided.help_text("/applycredit") and "export" in api.help_text("/applycredit")
    menu = fault_catalogue(90, guided=True)
    assert "Sync Now you run" in menu["fail_sync"]["what"] and "offers Sync again" not in menu["fail_sync"]["bot"]
