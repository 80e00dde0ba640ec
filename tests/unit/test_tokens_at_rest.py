"""QuickBooks tokens at rest: encrypted with a key kept outside the database, plaintext rows of an earlier version
encrypted on first start, a wrong or missing key a clear start-up error, never a new key over old tokens."""
from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import ConfigError, Settings
from data.db import Connections
from data.token_key import PREFIX
from data.tokens import TokenKeyError, open_tokens

REFRESH = "RT1-plaintext-refresh-token-0123456789abcdef"
ACCESS = "eyJplaintext-access-token-0123456789"


def settings_for(tmp_path: Path, **values) -> Settings:
    return Settings(sandbox=False, database_path=str(tmp_path / "bot.db"), **values)


def raw_rows(path: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT realm_id, access_token, refresh_token FROM oauth_tokens").fetchall()


def file_bytes(path: str) -> bytes:
    return b"".join(Path(path + suffix).read_bytes() for suffix in ("", "-wal") if Path(path + suffix).exists())


def plaintext_row(connections: Connections, realm: str = "123") -> None:
    """What an earlier version stored: the tokens as they came from Intuit, rotated a few times."""
    db = connections.get()
    for n in range(3):  # earlier rotations leave old values in free pages, too
        db.execute("INSERT OR REPLACE INTO oauth_tokens (realm_id, access_token, access_expires_at, refresh_token, "
                   "refresh_expires_at, updated_at) VALUES (?, ?, 1, ?, 2, 'then')",
                   [realm, f"{ACCESS}-{n}", f"{REFRESH}-{n}"])
    db.execute("INSERT OR REPLACE INTO oauth_tokens (realm_id, access_token, access_expires_at, refresh_token, "
               "refresh_expires_at, updated_at) VALUES (?, ?, 1, ?, 2, 'now')", [realm, ACCESS, REFRESH])


def test_tokens_are_stored_encrypted_with_a_key_file_made_0600_beside_env(tmp_path):
    settings = settings_for(tmp_path, token_key_file=str(tmp_path / "conf" / "applycredit-token.key"))
    store = open_tokens(Connections(settings.database_path), settings)
    store.save("123", access_token=ACCESS, access_expires_at=1.0, refresh_token=REFRESH, refresh_expires_at=2.0)
    key_file = Path(settings.token_key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(settings.database_path).stat().st_mode) == 0o600
    (_, access, refresh), = raw_rows(settings.database_path)
    assert access.startswith(PREFIX) and refresh.startswith(PREFIX)
    assert REFRESH.encode() not in file_bytes(settings.database_path)
    again = open_tokens(Connections(settings.database_path), settings)  # a restart reads the same key
    assert again.load("123").refresh_token == REFRESH and again.load("123").access_token == ACCESS
    assert key_file.read_bytes().strip() not in file_bytes(settings.database_path)


def test_from_env_puts_the_key_file_beside_the_env_file(tmp_path):
    env_file = tmp_path / "deploy" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("LOG_LEVEL=INFO\n")
    os.chmod(env_file, 0o600)
    settings = Settings.from_env({}, dotenv_path=str(env_file))
    assert settings.token_key_file == str(env_file.parent / "applycredit-token.key")
    assert Settings.from_env({"TOKEN_KEY_FILE": "/srv/keys/qbo.key"}, dotenv_path=None).token_key_file == "/srv/keys/qbo.key"


def test_token_encryption_key_is_used_and_checked_for_form():
    key = Fernet.generate_key().decode()
    assert Settings.from_env({"TOKEN_ENCRYPTION_KEY": key}, dotenv_path=None).token_encryption_key == key
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TOKEN_ENCRYPTION_KEY": "hunter2"}, dotenv_path=None)
    assert "TOKEN_ENCRYPTION_KEY must be a Fernet key" in str(caught.value) and "hunter2" not in str(caught.value)


def test_plaintext_rows_of_an_earlier_version_are_encrypted_on_first_start(tmp_path):
    settings = settings_for(tmp_path, token_encryption_key=Fernet.generate_key().decode())
    connections = Connections(settings.database_path)
    plaintext_row(connections)
    assert REFRESH.encode() in file_bytes(settings.database_path)
    store = open_tokens(connections, settings)
    (_, access, refresh), = raw_rows(settings.database_path)
    assert access.startswith(PREFIX) and refresh.startswith(PREFIX)
    record = store.load("123")
    assert (record.access_token, record.refresh_token) == (ACCESS, REFRESH)
    stored = file_bytes(settings.database_path)  # a copy of the file holds no plaintext token, old ones included
    assert REFRESH.encode()[:30] not in stored and ACCESS.encode()[:25] not in stored
    assert open_tokens(Connections(settings.database_path), settings).load("123").refresh_token == REFRESH


def test_a_wrong_key_is_refused_at_start_and_the_tokens_stay(tmp_path):
    right = settings_for(tmp_path, token_encryption_key=Fernet.generate_key().decode())
    open_tokens(Connections(right.database_path), right).save(
        "123", access_token=ACCESS, access_expires_at=1.0, refresh_token=REFRESH, refresh_expires_at=2.0)
    wrong = replace(right, token_encryption_key=Fernet.generate_key().decode())
    with pytest.raises(TokenKeyError) as caught:
        open_tokens(Connections(wrong.database_path), wrong)
    message = str(caught.value)
    assert "encrypted with another key than TOKEN_ENCRYPTION_KEY" in message and "--discard-tokens" in message
    assert right.token_encryption_key not in message and wrong.token_encryption_key not in message
    assert open_tokens(Connections(right.database_path), right).load("123").refresh_token == REFRESH


def test_a_missing_key_file_is_not_replaced_while_encrypted_tokens_wait_for_it(tmp_path):
    settings = settings_for(tmp_path, token_key_file=str(tmp_path / "token.key"))
    open_tokens(Connections(settings.database_path), settings).save(
        "123", access_token=ACCESS, access_expires_at=1.0, refresh_token=REFRESH, refresh_expires_at=2.0)
    Path(settings.token_key_file).unlink()
    with pytest.raises(TokenKeyError) as caught:
        open_tokens(Connections(settings.database_path), settings)
    assert "is missing, but the database holds encrypted" in str(caught.value)
    assert not Path(settings.token_key_file).exists()  # no new key was made over the old tokens


def test_a_foreign_key_file_is_refused_and_a_corrupt_one_named(tmp_path):
    settings = settings_for(tmp_path, token_key_file=str(tmp_path / "token.key"))
    open_tokens(Connections(settings.database_path), settings).save(
        "123", access_token=None, access_expires_at=None, refresh_token=REFRESH, refresh_expires_at=None)
    Path(settings.token_key_file).write_bytes(Fernet.generate_key())
    with pytest.raises(TokenKeyError, match="another key than the key file"):
        open_tokens(Connections(settings.database_path), settings)
    Path(settings.token_key_file).write_text("not a key")
    with pytest.raises(TokenKeyError, match="is not a Fernet key"):
        open_tokens(Connections(settings.database_path), settings)
