"""Settings.from_env: defaults, sandbox detection, one clear line per problem, never a secret."""
import logging
import os

import pytest

from config import ConfigError, Settings

LIVE = {
    "SLACK_BOT_TOKEN": "xoxb-1-secretbot", "SLACK_SIGNING_SECRET": "signsecret123",
    "QBO_CLIENT_ID": "client", "QBO_CLIENT_SECRET": "qbosecret456",
    "CONNECTBOOSTER_BASE_URL": "https://cb.example/api/v1", "CONNECTBOOSTER_API_KEY": "cbkey789",
    "APPROVER_IDS": "U0APPROVE, U0APPROVE2", "NOTIFY_CHANNEL": "C0NOTIFY",
}


def test_nothing_configured_means_sandbox_with_defaults():
    s = Settings.from_env({}, dotenv_path=None)
    assert s.sandbox and s.port == 3000 and s.database_path == "data/applycredit.db"
    assert s.sync_poll_seconds == 3.0 and s.sync_timeout_seconds == 600.0 and s.approval_ttl_hours == 24.0


def test_live_settings_parse():
    s = Settings.from_env(LIVE, dotenv_path=None)
    assert not s.sandbox and s.approver_ids == ("U0APPROVE", "U0APPROVE2")
    assert s.qbo_base_url == "https://sandbox-quickbooks.api.intuit.com" and not s.socket_mode
    assert "secret" not in repr(s) and "cbkey" not in repr(s)


def test_every_problem_is_listed_once_without_secrets():
    env = {"SLACK_BOT_TOKEN": "xoxp-user-token-oops", "PORT": "eighty", "APPROVER_IDS": "bob",
           "NOTIFY_CHANNEL": "#finance", "SYNC_TIMEOUT_SECONDS": "-5", "QBO_ENVIRONMENT": "staging",
           "DIGEST_TIME": "25:00", "CONNECTBOOSTER_API_KEY": "cbkey789"}
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env, dotenv_path=None)
    text = str(e.value)
    for fragment in ("SLACK_SIGNING_SECRET is missing", "QBO_CLIENT_ID is missing",
                     "CONNECTBOOSTER_BASE_URL is missing", "SLACK_BOT_TOKEN must be a bot token",
                     "PORT must be a whole number", "'bob' is not a Slack user id",
                     "NOTIFY_CHANNEL must be a channel id", "SYNC_TIMEOUT_SECONDS must be above 0",
                     "QBO_ENVIRONMENT must be", "DIGEST_TIME must be HH:MM"):
        assert text.count(fragment) == 1, fragment
    assert "xoxp-user-token-oops" not in text and "cbkey789" not in text


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nSYNC_POLL_SECONDS=5\n")
    os.chmod(env_file, 0o600)
    s = Settings.from_env({"PORT": "5000"}, dotenv_path=str(env_file))
    assert s.port == 5000 and s.sync_poll_seconds == 5.0


def test_world_readable_dotenv_warns(tmp_path, caplog):
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_SIGNING_SECRET=topsecretvalue\n")
    os.chmod(env_file, 0o644)
    with caplog.at_level(logging.WARNING):
        with pytest.raises(ConfigError):
            Settings.from_env({}, dotenv_path=str(env_file))
    assert "readable by other users" in caplog.text and "topsecretvalue" not in caplog.text


def test_a_copied_env_example_is_refused_one_line_per_placeholder():
    from pathlib import Path

    from dotenv import dotenv_values

    from config import PLACEHOLDER_HINTS

    example = Path(__file__).resolve().parents[2] / ".env.example"
    values = {k: v for k, v in dotenv_values(example).items() if v is not None}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(values, dotenv_path=None)
    shipped = [name for name in PLACEHOLDER_HINTS if values.get(name)]
    assert len(shipped) >= 9  # the Slack, QuickBooks and ConnectBooster credentials, approvers, the channel
    for name in shipped:
        lines = [p for p in refused.value.problems if p.startswith(f"{name} still holds")]
        assert len(lines) == 1 and "\n" not in lines[0], name


def test_real_looking_values_are_not_placeholders():
    from config import is_placeholder

    assert not any(map(is_placeholder, ["xoxb-123-456-abc", "U0AB12CD3,U0XY98ZW7", "https://cb.acme.com/api/v1",
                                        "http://127.0.0.1:8765/api/v1", "C0FINANCE"]))
    assert all(map(is_placeholder, ["xoxb-...", "...", "https://cb-gateway.example.internal/api/v1",
                                    "http://gw.example.com", "U0123ABCD"]))


def test_the_connection_settings_default_and_are_checked():
    s = Settings.from_env(LIVE, dotenv_path=None)
    assert (s.qbo_keepalive_days, s.qbo_reconnect_warn_days) == (30.0, 14.0)
    assert s.admins == frozenset({"U0APPROVE", "U0APPROVE2"})  # ADMIN_IDS unset: the approvers
    assert Settings.from_env({**LIVE, "ADMIN_IDS": "U0ADMIN"}, dotenv_path=None).admins == frozenset({"U0ADMIN"})
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**LIVE, "ADMIN_IDS": "admin", "QBO_KEEPALIVE_DAYS": "120", "QBO_RECONNECT_WARN_DAYS": "0",
                           "TOKEN_ENCRYPTION_KEY": "x" * 44}, dotenv_path=None)
    problems = caught.value.problems
    assert "ADMIN_IDS: 'admin' is not a Slack user id (like U0123ABCD)" in problems
    assert "QBO_KEEPALIVE_DAYS must be above 0 and at most 90, got '120'" in problems
    assert any(p.startswith("QBO_RECONNECT_WARN_DAYS must be above 0") for p in problems)
    assert any(p.startswith("TOKEN_ENCRYPTION_KEY must be a Fernet key") for p in problems)
    assert "x" * 44 not in str(caught.value)
    key = "kV9v3m0Qy5r8xJb2Zt7cHs1pLw4nGd6aUe0fYi3oRqM="
    keyed = Settings.from_env({**LIVE, "TOKEN_ENCRYPTION_KEY": key}, dotenv_path=None)
    assert keyed.token_encryption_key == key and key not in repr(keyed)
