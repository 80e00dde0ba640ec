"""`python bot.py doctor`: all well against the sandbox (in-process and as the command), and each broken setting
named with what to fix, against the same fakes a real install's services are played by."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cli.doctor import diagnose
from data.db import Connections
from data.tokens import open_tokens

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400


def run_doctor(settings) -> tuple[int, list[str]]:
    lines: list[str] = []
    status = diagnose(settings, out=lines.append, dotenv="/nonexistent/.env")
    return status, lines


def flagged(lines: list[str]) -> dict[str, str]:
    """{area: text} of the findings marked FIX."""
    return dict(line[len(" FIX  "):].split(": ", 1) for line in lines if line.startswith(" FIX  "))


def test_doctor_finds_all_well_in_the_sandbox(world):
    status, lines = run_doctor(world.settings)
    assert status == 0 and lines[-1] == "All is well." and flagged(lines) == {}
    text = "\n".join(lines)
    for expected in ("SLACK_SIGNING_SECRET: has the form", "SLACK_BOT_TOKEN: works", "Slack scopes: exactly manifest.yml's",
                     "NOTIFY_CHANNEL C0NOTIFY: the bot is a member", "token key: ", "QuickBooks connection: works",
                     "the five-year limit falls", "QuickBooks Preferences: company",
                     "QuickBooks closing date: 2025-12-31: applications are dated today",
                     "ConnectBooster: the gateway answers", "QuickBooks webhooks/CDC"):
        assert expected in text, expected


def test_doctor_names_each_broken_slack_setting(world):
    world.slack.scopes.discard("groups:read")
    world.slack.add_channel("C0OLDFIN", "old-finance")
    world.slack.archive("C0OLDFIN")
    world.slack.add_channel("C0ELSEWHERE", "elsewhere", bot_member=False)
    world.slack.tokens = {world.settings.slack_bot_token, "xapp-1-A0SANDBOX-1-real"}
    settings = replace(world.settings, slack_signing_secret="my-client-secret", slack_app_token="xapp-1-A0SANDBOX-1-old",
                       allowed_channels=("C0OLDFIN", "C0ELSEWHERE"), notify_channel="G0NOWHERE")
    status, lines = run_doctor(settings)
    found = flagged(lines)
    assert status == 1 and lines[-1].startswith("5 things to fix")
    assert "not 32 hexadecimal" in found["SLACK_SIGNING_SECRET"]
    assert "lacks groups:read" in found["Slack scopes"] and "reinstall" in found["Slack scopes"]
    assert "/invite @applycredit" in found["NOTIFY_CHANNEL G0NOWHERE"]
    assert "archived" in found["ALLOWED_CHANNELS C0OLDFIN"]
    assert "refused it for Socket Mode (invalid_auth)" in found["SLACK_APP_TOKEN"]
    assert "joins this public channel by itself" in "\n".join(lines)  # C0ELSEWHERE: a note, not a problem
    world.slack.tokens = {"xoxb-someone-else"}
    status, lines = run_doctor(settings)
    assert "Slack refused it (invalid_auth)" in flagged(lines)["SLACK_BOT_TOKEN"]


def test_doctor_names_each_broken_quickbooks_and_connectbooster_setting(world):
    world.qbo.oauth.set_hard_expiry(5 * DAY)
    world.qbo.company.set_book_close_date((datetime.now(UTC) + timedelta(days=1)).date().isoformat())
    status, lines = run_doctor(replace(world.settings, connectbooster_api_key="old-key"))
    found = flagged(lines)
    assert status == 1 and set(found) == {"QuickBooks connection", "QuickBooks closing date", "CONNECTBOOSTER_API_KEY"}
    assert "five-year limit" in found["QuickBooks connection"] and "/applycredit connect" in found["QuickBooks connection"]
    assert "(6210)" in found["QuickBooks closing date"]

    world.qbo.oauth.disconnect()
    world.bot.tokens.save(world.bot.auth.realm_id, access_token=None, access_expires_at=None,
                          refresh_token=world.bot.tokens.load(world.bot.auth.realm_id).refresh_token, refresh_expires_at=None)
    status, lines = run_doctor(replace(world.settings, connectbooster_base_url="http://127.0.0.1:9/api/v1"))
    found = flagged(lines)
    assert "Intuit refused the connection (invalid_grant)" in found["QuickBooks connection"]
    assert "did not answer" in found["CONNECTBOOSTER_BASE_URL"]
    status, lines = run_doctor(replace(world.settings, token_encryption_key=Fernet.generate_key().decode()))
    assert "encrypted with another key" in flagged(lines)["token key"]
    os.chmod(f"{world.settings.database_path}.key", 0o644)
    assert "chmod 600" in flagged(run_doctor(world.settings)[1])["TOKEN_KEY_FILE"]


def test_doctor_checks_the_production_redirect_and_the_guided_mode(world):
    settings = replace(world.settings, qbo_environment=world.settings.qbo_environment, connectbooster_mode="guided",
                       connectbooster_portal_url="")
    status, lines = run_doctor(settings)
    assert status == 0 and "ConnectBooster: guided mode" in "\n".join(lines)
    assert any(line.startswith("NOTE  CONNECTBOOSTER_PORTAL_URL: not set") for line in lines)
    open_tokens(Connections(world.settings.database_path), world.settings)  # the key still fits after the runs
    production = replace(world.settings, qbo_environment="production", qbo_redirect_uri="http://localhost:8000/callback")
    assert "https address" in flagged(run_doctor(production)[1])["QBO_REDIRECT_URI"]


@pytest.mark.slow
def test_python_bot_py_doctor_runs_in_the_sandbox(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    done = subprocess.run([sys.executable, str(ROOT / "bot.py"), "doctor"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checking the sandbox" in done.stdout and done.stdout.strip().endswith("All is well.")
    assert not (tmp_path / "data" / "sandbox.db").exists()  # never the running sandbox's database
