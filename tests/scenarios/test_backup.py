"""`python bot.py backup PATH` while a job runs: the copy opens, holds the job and its audit trail, is private, holds
no usable token without the key, and restoring it (the copy as DATABASE_PATH, the same key) finishes the job."""
from __future__ import annotations

import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import bot
from sandbox.cb_sync import SyncTiming
from tests.scenarios.world import APPROVER

SLOW_SYNC = SyncTiming(to_active=0.05, psa_seconds=1.5, accounting_seconds=0.1, resync_seconds=0.05)


def test_backup_during_a_running_job_gives_a_database_that_opens_and_holds_the_job(make_world, tmp_path, monkeypatch,
                                                                                   capsys):
    world = make_world(timing=SLOW_SYNC)
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "syncing")  # the bot is polling ConnectBooster and writing progress meanwhile
    copy = tmp_path / "backups" / "applycredit-nightly.db"
    copy.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", world.settings.database_path)
    assert bot.main(["backup", str(copy)]) == 0
    assert "(jobs: 1, audit events:" in capsys.readouterr().out

    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and not Path(f"{copy}-wal").exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        state, payment = conn.execute("SELECT state, qbo_payment_id FROM jobs WHERE id = ?", [job_id]).fetchone()
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events WHERE job_id = ? ORDER BY id", [job_id])]
        refresh = conn.execute("SELECT refresh_token FROM oauth_tokens").fetchone()[0]
    assert state in ("syncing", "sync_finished", "verified") and payment
    assert kinds[:2] == ["requested", "parent_posted"] and "applied_in_quickbooks" in kinds
    plain = world.bot.tokens.load(world.bot.auth.realm_id).refresh_token
    assert refresh.startswith("fernet:") and plain.encode() not in copy.read_bytes()

    # Restore: the copy becomes DATABASE_PATH, with the same token key (kept apart from backups).
    key_file = Path(f"{world.settings.database_path}.key")
    world.settings = replace(world.settings, database_path=str(copy), token_key_file=str(key_file))
    world.restart()
    assert world.wait_state(job_id, "verified", timeout=20)
    assert len(world.payments_on("130")) == 1  # the restored job continued; nothing was written twice


def test_backup_refuses_the_database_itself_and_a_missing_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "none.db"))
    assert bot.main(["backup", str(tmp_path / "copy.db")]) == 1
    assert "there is no database at" in capsys.readouterr().err and not (tmp_path / "copy.db").exists()
    assert bot.main(["backup", str(tmp_path / "none.db")]) == 1
    assert "the database itself" in capsys.readouterr().err
