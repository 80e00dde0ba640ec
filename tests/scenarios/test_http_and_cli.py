"""The bot's HTTP surface, its manifest, and the audit trail on the command line."""
import json
import time
from pathlib import Path

import pytest
import requests
import yaml

import bot
from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER

ROOT = Path(__file__).resolve().parents[2]
OVER_HTTP = pytest.mark.parametrize("world", ["http"], indirect=True)  # these are about the HTTP surface itself


@OVER_HTTP
def test_healthz(world):
    url = world.driver.bot_url.replace("/slack/events", "/healthz")
    resp = requests.get(url, timeout=2)
    assert resp.status_code == 200 and resp.json()["ok"] is True


@OVER_HTTP
def test_unsigned_stale_and_forged_requests_are_refused(world):
    body = "command=%2Fapplycredit&text=Atomar&user_id=U0REQUEST&channel_id=C0FINANCE&trigger_id=1.2.3"
    assert world.driver.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    old = int(time.time()) - 600
    assert world.driver.command(REQUESTER, CHANNEL, "Atomar", timestamp=old).status == 401
    assert world.driver.command(REQUESTER, CHANNEL, "Atomar", signature="v0=" + "0" * 64).status == 401
    assert world.slack.calls_to("views.open") == []


def test_history_prints_every_decision_and_step(world, capsys, monkeypatch):
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    job = world.job(job_id)
    monkeypatch.setenv("DATABASE_PATH", world.settings.database_path)
    assert bot.main(["history", "--job", str(job_id)]) == 0
    out = capsys.readouterr().out
    for fragment in ("asked to apply", "approved", f"recorded in QuickBooks: Payment {job.qbo_payment_id}",
                     f"ConnectBooster sync {job.sync_id} requested", "verified", "riley.requester", "avery.approver"):
        assert fragment in out, fragment
    assert bot.main(["history", "--json", "--job", str(job_id)]) == 0  # for machines: every raw detail
    entries = json.loads(capsys.readouterr().out)
    assert {REQUESTER, APPROVER} <= {e["who_id"] for e in entries}
    assert [e["details"]["intuit_tid"] for e in entries if e["kind"] == "applied_in_quickbooks"][0]


def test_manifest_declares_the_command_interactivity_and_only_needed_scopes():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/applycredit" and command["usage_hint"] and command["description"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"commands", "chat:write", "channels:join",
                                                              "files:write",  # files: the month-end export
                                                              "channels:read", "groups:read"}  # doctor
    assert manifest["features"]["app_home"] == {"home_tab_enabled": True, "messages_tab_enabled": True,
                                                "messages_tab_read_only_enabled": True}
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]  # needs no scope


def test_bot_uses_only_methods_its_scopes_allow(world):
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, REQUESTER)  # an ephemeral refusal
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)
    world.wait_thread(job_id, "Verified")
    assert all(c["ok"] for c in world.slack.calls_to("view_submission.ack"))  # every modal answer was valid
    used = {c["method"] for c in world.slack.calls if c["method"] != "view_submission.ack"}
    needs_no_scope = {"auth.test", "views.open", "views.update", "views.push", "views.publish", "chat.getPermalink"}
    chat_write = {"chat.postMessage", "chat.update", "chat.postEphemeral"}
    channels_join = {"conversations.join"}
    assert used <= needs_no_scope | chat_write | channels_join, used - needs_no_scope - chat_write - channels_join
    from sandbox.fake_slack import DEFAULT_SCOPES

    assert DEFAULT_SCOPES == set(yaml.safe_load((ROOT / "manifest.yml").read_text())["oauth_config"]["scopes"]["bot"])
