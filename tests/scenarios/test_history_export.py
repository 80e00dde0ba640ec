"""History and month-end in Slack and on the command line: in people's words and names, for approvers only."""
from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import bot
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, REQUESTER


def verified_application(world) -> int:
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    return job_id


def answer(world, user: str, text: str, fragment: str) -> str:
    """The ephemeral answer (through the command's response_url) that contains `fragment`."""
    world.driver.command(user, CHANNEL, text)
    return world.slack.wait_for(lambda s: next((str(e.get("blocks") or e.get("text")) for e in s.ephemerals(user)
                                                if fragment in str(e.get("blocks") or e.get("text"))), None))


def test_history_in_slack_says_what_happened_by_whom_in_peoples_words(world):
    job_id = verified_application(world)
    job = world.job(job_id)
    shown = answer(world, APPROVER_2, f"history #{job_id}", "History for")
    for words in ("asked to apply $10.00 of credit memo #1039 to invoice 10040 for Atomar's Best Tackle",
                  f"<@{REQUESTER}>", f"<@{APPROVER}> approved", f"recorded in QuickBooks: Payment {job.qbo_payment_id}",
                  "invoice 10040 $120.00 → $110.00", "verified: ConnectBooster matches QuickBooks", "<!date^"):
        assert words in shown, words
    assert "credit_memo:" not in shown and '"payment_id"' not in shown  # no internal ids, no raw JSON
    by_invoice = answer(world, APPROVER_2, "history 10040", "History for *10040*")
    by_client = answer(world, APPROVER_2, "history atomar", "History for *atomar*")
    assert "asked to apply" in by_invoice and "asked to apply" in by_client


def test_history_and_export_are_for_approvers_only(world):
    verified_application(world)
    for text in ("history", "export 2026-11"):
        world.driver.command(REQUESTER, CHANNEL, text)
    refusals = world.slack.wait_for(lambda s: [t for t in world.ephemeral_texts(REQUESTER) if "Only approvers" in t]
                                    if len(world.ephemeral_texts(REQUESTER)) >= 2 else None)
    assert len(refusals) == 2 and world.slack.files() == []
    assert "Give the month as YYYY-MM" in answer(world, APPROVER, "export November", "YYYY-MM")


def test_export_sends_the_months_applications_as_csv_privately_to_the_asker(world):
    job_id = verified_application(world)
    job = world.job(job_id)
    month = datetime.now(UTC).strftime("%Y-%m")
    world.driver.command(APPROVER_2, CHANNEL, f"export {month}")
    (sent,) = world.slack.wait_for(lambda s: [f for f in s.files() if f["completed"]] or None, timeout=10)
    assert sent["name"] == f"applycredit-{month}.csv" and sent["completed"] and not sent["private"]
    assert all(c.startswith("D") for c in sent["channels"])  # the asker's direct messages with the app, no channel
    assert world.slack.files(CHANNEL) == []
    rows = list(csv.DictReader(io.StringIO(sent["content"].decode())))
    assert rows == [{
        "date": datetime.now(UTC).date().isoformat(), "kind": "application", "job": str(job_id), "sweep": "",
        "client": "Atomar's Best Tackle", "credit kind": "credit memo", "credit number": "1039", "invoice": "10040",
        "amount": "10.00", "currency": "USD", "requester": "riley.requester", "approvers": "avery.approver",
        "QuickBooks payment id": job.qbo_payment_id, "ConnectBooster sync id": str(job.sync_id),
        "outcome": "applied; QuickBooks and ConnectBooster agree"}]
    assert "1 recorded in QuickBooks for $10.00" in (sent["initial_comment"] or "")


def test_bot_py_history_after_the_sandbox_reads_its_database_and_prints_a_table(world, capsys, monkeypatch,
                                                                                 tmp_path):
    job_id = verified_application(world)
    job = world.job(job_id)
    home = tmp_path / "clone"
    (home / "data").mkdir(parents=True)
    with sqlite3.connect(world.settings.database_path) as src, sqlite3.connect(home / "data/sandbox.db") as dst:
        src.backup(dst)  # what `make run` leaves behind
    monkeypatch.chdir(home)
    for name in ("DATABASE_PATH", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "QBO_CLIENT_ID", "CONNECTBOOSTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert bot.main(["history"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["When", "(UTC)", "Job", "Who", "What", "happened"]
    for words in ("riley.requester  asked to apply $10.00 of credit memo #1039 to invoice 10040",
                  "avery.approver   approved", f"Payment {job.qbo_payment_id}"):
        assert words in table, words
    assert REQUESTER not in table and "credit_memo:" not in table and "{" not in table
    assert bot.main(["history", "--csv", f"#{job_id}"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["when (UTC)", "job", "who", "what happened"] and ["avery.approver", "approved"] == rows[2][2:]
    assert bot.main(["history", "--json", "--job", str(job_id)]) == 0
    assert f'"who_id": "{APPROVER}"' in capsys.readouterr().out
    assert Path("data/sandbox.db").exists()
