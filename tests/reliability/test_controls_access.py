"""Controls: least privilege (REQUESTER_IDS, ALLOWED_CHANNELS), forms that expire, bounded storage.

Every test records a row for docs/reliability.md (group "Controls: least privilege, retention").
"""
from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from config import ConfigError, Settings
from data.db import Connections
from data.drafts import Drafts
from data.jobs import JobStore, stamp
from data.once import Marks
from data.outbox import Outbox
from data.retention import Retention
from data.states import JobKind, JobState, Mode
from messages.notifier import SlackNotifier
from messages.wording import Wording, Wordings
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER
from workflow.machine import move

GROUP = "Controls: least privilege, retention"
EXPIRED = "This form expired; run /applycredit again."
WEEK_LIMIT_BYTES = 8 * 1024 * 1024  # docs/security.md states the measured figure beside this bound


def test_requester_ids_and_allowed_channels_keep_others_away_from_client_data(make_world, figures):
    world = make_world(settings={"requester_ids": (REQUESTER,), "allowed_channels": (CHANNEL,)})
    job_id = world.request(invoice="10040", amount="10")  # client data exists (Atomar's Best Tackle)
    stolen = world.open_picker("Atomar's Best Tackle")     # a picker OUTSIDER might try to reuse
    answers = {text: world.driver.command(OUTSIDER, CHANNEL, text).json()["text"]
               for text in ("Atomar's Best Tackle", "inbox", "sweep")}
    options = world.driver.options(OUTSIDER, "invoice", "invoice", value="100", source=stolen).json()
    submit = world.driver.submit_view(OUTSIDER, stolen, {}).json()
    other_channel = world.driver.command(REQUESTER, "C0RANDOM", "Atomar's Best Tackle").json()["text"]
    help_text = world.driver.command(OUTSIDER, CHANNEL, "help").json()["text"]
    world.driver.app_home_opened(OUTSIDER)
    home = world.slack.wait_for(lambda s: s.views(OUTSIDER).get("home"), timeout=5)
    approver_view = world.open_picker("Atomar's Best Tackle", user=APPROVER_2)  # approvers are always allowed
    shown = json.dumps([list(answers.values()), options, submit, other_channel, home])
    figures.record(GROUP, "REQUESTER_IDS/ALLOWED_CHANNELS set: outsider's command ×3, options, submit, App Home; "
                          "a requester in another channel", times=7, jobs=1, payments=0, duplicates=0, lost=0,
                   outcome="7 'not allowed' answers, no client data; an approver outside the list is served")
    assert all("not allowed to use /applycredit" in t for t in answers.values())
    assert options == {"options": []} and "not allowed" in submit["errors"]["credit"]
    assert "isn't used in this channel" in other_channel and "<#C0FINANCE>" in other_channel
    assert "not allowed" in str(home["blocks"]) and "/applycredit" in help_text
    assert "Atomar" not in shown and "10040" not in shown
    assert world.slack.views(OUTSIDER)["modals"] == []  # no form was ever opened for them
    assert "Atomar" in str(approver_view["blocks"]) and world.job(job_id).state == "awaiting_approval"


def test_access_settings_have_one_clear_error_each(figures):
    env = {"REQUESTER_IDS": "U0REQUEST, S0FINANCE, riley", "ALLOWED_CHANNELS": "C0FINANCE,#general",
           "RETENTION_DAYS": "-3"}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env, dotenv_path=None)
    problems = caught.value.problems
    figures.record(GROUP, "a user group, a name and a channel name in the access lists; negative retention",
                   times=4, jobs=0, payments=0, duplicates=0, lost=0, outcome=f"{len(problems)} one-line errors")
    assert len(problems) == 4 and all("\n" not in p for p in problems)
    assert any("'S0FINANCE' is a user group" in p and "usergroups:read" in p for p in problems)
    assert any("'riley' is not a Slack user id" in p for p in problems)
    assert any("ALLOWED_CHANNELS: '#general'" in p for p in problems)
    assert any(p.startswith("RETENTION_DAYS") for p in problems)
    ok = Settings.from_env({"REQUESTER_IDS": "U0REQUEST,W0ENTERPRISE", "ALLOWED_CHANNELS": "C0FINANCE,G0PRIVATE"},
                           dotenv_path=None)
    assert ok.access.user_allowed("W0ENTERPRISE") and not ok.access.channel_allowed("C0RANDOM")


def test_a_form_expires_after_the_approval_window_and_is_gone_once_used(make_world, clock, figures):
    world = make_world(overrides={"now": clock.now})
    old = world.open_picker("Atomar's Best Tackle")
    clock.advance(timedelta(hours=world.settings.approval_ttl_hours, minutes=1).total_seconds())
    late = world.submit(old, invoice="10040", amount="10").json()
    used = world.open_picker("Atomar's Best Tackle")
    first = world.submit(used, invoice="10040", amount="10").json()
    again = world.submit(used, invoice="10040", amount="10").json()  # the same form, submitted twice
    drafts = world.bot.connections.get().execute("SELECT count(*) FROM drafts").fetchone()[0]
    jobs = world.bot.store.all()
    figures.record(GROUP, "a form submitted after APPROVAL_TTL_HOURS; a used form submitted again", times=2,
                   jobs=len(jobs), payments=0, duplicates=0, lost=0,
                   outcome=f"'{EXPIRED}' twice; {drafts} drafts left")
    assert late == {"response_action": "errors", "errors": {"credit": EXPIRED}}
    assert first["response_action"] == "update" and again["errors"] == {"credit": EXPIRED}
    assert len(jobs) == 1 and drafts == 0


@pytest.mark.slow  # 700 requests through the stores: scheduled first (tests/conftest.py)
def test_a_week_of_use_keeps_the_database_small(tmp_path, clock, figures):
    """7 days x 100 requests through the stores (no HTTP), retention running hourly by the same clock."""
    path = tmp_path / "week.db"
    db = Connections(str(path)).get
    DB[:] = [db]
    now = lambda: stamp(clock.now())  # noqa: E731
    store, drafts = JobStore(db, now), Drafts(db, ttl=timedelta(hours=24), clock=clock.now)
    outbox, marks = Outbox(db, now), Marks(db, now)
    notifier = SlackNotifier(outbox, wordings=Wordings({Mode.API: Wording()}), notify_channel="C0NOTIFY",
                             on_enqueue=lambda: None)
    # RETENTION_DAYS=1: kept for the 72 h undo window (its floor), so a week shows the steady state.
    retention = Retention(db, drafts, days=1, undo_window=timedelta(hours=72), now=clock.now)
    snapshot = {"client": {"name": "Coastal Bait Co", "invoices": [
        {"qbo_id": str(1000 + i), "number": str(20000 + i), "balance": "50.00", "total": "50.00",
         "date": "2026-10-01", "cb_id": 5000 + i} for i in range(120)]}}  # a large client's picker snapshot
    sizes = []
    for day in range(7):
        for n in range(100):
            request(store, drafts, outbox, marks, notifier, snapshot, f"{day}-{n}")
            clock.advance(864)  # 100 requests spread over the day
            retention.run_due()
        db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes.append(os.path.getsize(path))
    count = lambda table: db().execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
    rows = {t: count(t) for t in ("jobs", "events", "outbox", "drafts", "seen_events")}
    figures.record(GROUP, "a simulated week: 7 × 100 requests, retention hourly (RETENTION_DAYS=1 → 72 h)",
                   times=700, jobs=rows["jobs"], payments=0, duplicates=0, lost=0,
                   outcome=f"db {sizes[-1] / 1e6:.1f} MB (day 3 {sizes[2] / 1e6:.1f} MB); rows {rows}")
    assert rows["jobs"] == 700 and rows["events"] >= 700 * 9  # the audit trail is kept whole
    assert rows["outbox"] <= 4 * 100 * 20 and rows["seen_events"] <= 4 * 100 * 3  # about the last 3-4 days
    assert rows["drafts"] <= 100 * 0.3 + 1  # only abandoned inbox drafts of the last 24 h
    assert sizes[-1] < WEEK_LIMIT_BYTES


DB: list = []  # the week's connection factory, for `deliver`
APPLY_PATH = [JobState.APPROVED, JobState.APPLYING, JobState.APPLIED, JobState.RESYNCING, JobState.RESYNCED,
              JobState.SYNCING, JobState.SYNC_FINISHED, JobState.VERIFIED]


def request(store: JobStore, drafts: Drafts, outbox: Outbox, marks: Marks, notifier: SlackNotifier, snapshot: dict,
            tag: str) -> None:
    """One request as the bot stores it: drafts, the job and its events, its Slack messages, App Home opens."""
    picker = drafts.save(user_id=REQUESTER, channel_id=CHANNEL, data=snapshot)
    if tag.endswith(("0", "3", "7")):  # some people open the inbox and walk away: that draft just expires
        drafts.save(user_id=REQUESTER, channel_id=CHANNEL, data={"inbox": snapshot})
    job = store.create(actor=REQUESTER, kind=JobKind.APPLY, state=JobState.AWAITING_APPROVAL, requester_id=REQUESTER,
                       channel_id=CHANNEL, client_name="Coastal Bait Co", qbo_customer_id="70", cb_org_id=7,
                       credit_kind="credit_memo", qbo_credit_id=f"cm-{tag}", cb_credit_id=1, credit_number="1051",
                       invoice_qbo_id="1001", invoice_number="20001", cb_invoice_id=5001, amount="50.00",
                       currency="USD", invoice_total="50.00", invoice_balance_before="50.00",
                       credit_remaining_before="175.00", expires_at=store.now(), details={"amount": "50.00"})
    drafts.delete(picker)  # submitted
    deliver(store, outbox, notifier, job)
    store.set_parent(job.id, f"1700000000.{job.id:06d}")
    for state in APPLY_PATH:
        extra = {"approver_id": APPROVER, "decided_at": store.now()} if state == JobState.APPROVED else {}
        if state == JobState.APPLIED:
            extra = {"qbo_payment_id": f"p{job.id}", "invoice_balance_after": "0.00", "applied_at": store.now()}
        job = move(store, job, state, details={"message": "Verified: credit gone, balance $0.00 of $50.00"}, **extra)
        deliver(store, outbox, notifier, job)
    for i in range(3):
        marks.first_time(f"Ev{tag}-{i}")


def deliver(store: JobStore, outbox: Outbox, notifier: SlackNotifier, job) -> None:
    """Queue the job's messages as the runner does, then mark them sent as the deliverer would."""
    notifier.publish(job, store.events(job.id))
    db = DB[0]()
    with db.conn:  # one statement for what messages/deliverer.py marks row by row
        db.conn.execute("UPDATE outbox SET state = 'sent', attempts = 1 WHERE state = 'pending'")
