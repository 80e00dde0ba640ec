"""The bot's start with tokens at rest: an earlier version's plaintext row is encrypted and keeps working; a key that
does not fit is refused before anything runs (Bot and `python bot.py run`), never a silent reconnect."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import bot
from bot import Bot
from config import ConfigError
from data.token_key import PREFIX
from sandbox.run import REALM_ID
from tests.scenarios.world import APPROVER


def raw_tokens(path: str) -> tuple[str, str]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT access_token, refresh_token FROM oauth_tokens WHERE realm_id = ?",
                            [REALM_ID]).fetchone()


def test_an_earlier_versions_plaintext_tokens_are_encrypted_at_start_and_keep_working(make_world):
    world = make_world()
    world.bot.stop()
    minted = world.qbo.mint_tokens()  # what connect-quickbooks had stored, in plaintext, before this version
    with sqlite3.connect(world.settings.database_path) as conn:
        conn.execute("INSERT INTO oauth_tokens (realm_id, access_token, access_expires_at, refresh_token, "
                     "refresh_expires_at, updated_at) VALUES (?, ?, 4102444800, ?, 4102444800, 'then')",
                     [REALM_ID, minted["access_token"], minted["refresh_token"]])
    world.settings = replace(world.settings, qbo_refresh_token="")  # only the stored row can connect now
    world.restart()
    access, refresh = raw_tokens(world.settings.database_path)
    assert access.startswith(PREFIX) and refresh.startswith(PREFIX)
    assert minted["refresh_token"].encode() not in Path(world.settings.database_path).read_bytes()
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    assert world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1


def test_a_key_that_does_not_fit_the_stored_tokens_stops_the_bot_at_start(make_world, tmp_path, monkeypatch, capsys):
    key = Fernet.generate_key().decode()
    world = make_world(settings={"token_encryption_key": key})
    world.bot.auth.access_token()  # the first refresh stores the rotated tokens, encrypted with `key`
    other = replace(world.settings, token_encryption_key=Fernet.generate_key().decode())
    with pytest.raises(ConfigError) as caught:
        Bot(other, world.overrides)
    assert "encrypted with another key than TOKEN_ENCRYPTION_KEY" in str(caught.value)
    assert other.token_encryption_key not in str(caught.value) and key not in str(caught.value)

    # The command line as deployed: one clear message, exit status 2, nothing started.
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "0" * 32, "QBO_CLIENT_ID": "id",
           "QBO_CLIENT_SECRET": "secret", "CONNECTBOOSTER_MODE": "guided", "APPROVER_IDS": APPROVER,
           "NOTIFY_CHANNEL": "C0NOTIFY", "DATABASE_PATH": world.settings.database_path,
           "TOKEN_ENCRYPTION_KEY": other.token_encryption_key, "SLACK_API_URL": world.settings.slack_api_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert bot.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "encrypted with another key" in err and "Traceback" not in err
    assert raw_tokens(world.settings.database_path)[1].startswith(PREFIX)  # the tokens are untouched
