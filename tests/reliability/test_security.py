"""Security checks: signatures always on, no secret in any log line, private files, who decides."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from config import ConfigError, Settings
from sandbox.run import APPROVER, REQUESTER
from tests.reliability.harness import ROOT, bot_payments, new_request, wait_all
from tests.scenarios.world import World


def test_signature_verification_cannot_be_switched_off(tmp_path, figures):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "", "QBO_CLIENT_ID": "id", "QBO_CLIENT_SECRET": "s",
           "CONNECTBOOSTER_BASE_URL": "http://127.0.0.1:9", "CONNECTBOOSTER_API_KEY": "k", "APPROVER_IDS": "U1",
           "NOTIFY_CHANNEL": "C1"}
    with pytest.raises(ConfigError) as caught:  # configured, but without a signing secret: refused at start-up
        Settings.from_env(env, dotenv_path=None)
    assert "SLACK_SIGNING_SECRET" in str(caught.value)
    for knob in ("SLACK_VERIFY", "SLACK_SKIP_VERIFICATION", "REQUEST_VERIFICATION_ENABLED", "VERIFY_SIGNATURES"):
        with pytest.raises(ConfigError):
            Settings.from_env({**env, knob: "false"}, dotenv_path=None)
    # Even a Bot handed an empty secret directly must not accept a request it cannot verify.
    try:
        world = World(tmp_path, settings={"slack_signing_secret": ""})
    except Exception as e:  # refusing to start is also a safe answer
        outcome = f"refused to start: {type(e).__name__}"
    else:
        try:
            resp = world.driver.post_raw("command=%2Fapplycredit&text=x&user_id=U0REQUEST&channel_id=C0FINANCE",
                                         {"Content-Type": "application/x-www-form-urlencoded"})
            assert resp.status >= 400 and world.slack.calls_to("views.open") == []
            outcome = f"unsigned request: HTTP {resp.status}"
        finally:
            world.close()
    figures.record("Security", "signature verification off by configuration / empty secret", times=6, jobs=0,
                   payments=0, duplicates=0, lost=0, outcome=outcome)


@pytest.mark.slow  # a real bot process: scheduled first (tests/conftest.py)
def test_no_secret_in_any_log_line_of_a_full_troubled_run(process_bot, figures):
    pb = process_bot(LOG_LEVEL="DEBUG")
    parent = pb.request()
    pb.qbo.expire_access_tokens()
    pb.qbo.faults.inject("401", match=lambda m, p: m == "POST" and p.endswith("/payment"))
    # (no 429 here: a real process waits Intuit's 60 s; throttling is covered in-process)
    pb.cb.faults.inject("500", match=lambda m, p: m == "POST" and "/resync" in p)
    pb.slack.faults.inject("ratelimited", "chat.postMessage", retry_after=1)
    pb.driver.click(APPROVER, "approve", source=parent)
    wait_all(lambda: pb.state() in ("verified", "needs_attention"), timeout=30)
    pb.restart()  # start-up and resume log lines too
    pb.kill()
    log = pb.log.read_text(errors="replace")
    secrets = {"bot token": pb.env["SLACK_BOT_TOKEN"], "signing secret": pb.env["SLACK_SIGNING_SECRET"],
               "client secret": pb.env["QBO_CLIENT_SECRET"], "API key": pb.env["CONNECTBOOSTER_API_KEY"]}
    oauth = pb.qbo.oauth
    secrets.update({f"access token {i}": t for i, t in enumerate(oauth._by_access)})
    secrets.update({f"refresh token {i}": t for i, t in enumerate(oauth._by_refresh)})
    leaked = sorted(name for name, value in secrets.items() if value and value in log)
    lines = log.count("\n")
    figures.record("Security", f"secrets searched in {lines} DEBUG log lines ({len(secrets)} secrets)", times=1,
                   jobs=1, payments=len(bot_payments(pb.qbo.ledger)), duplicates=0, lost=0,
                   outcome=f"leaked: {leaked or 'none'}")
    assert lines > 5 and "DEBUG" in log  # the log was really captured at DEBUG
    assert len(oauth._by_refresh) >= 2  # a refresh (rotation) happened during the run
    assert leaked == []


def test_database_is_private_and_an_exposed_env_file_warns(process_bot, tmp_path, figures):
    pb = process_bot()
    pb.request()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in pb.db.parent.glob("bot.db*")}
    assert modes and all(m == 0o600 for m in modes.values()), modes
    home = tmp_path / "envcheck"
    home.mkdir()
    env_file = home / ".env"
    env_file.write_text("SLACK_SIGNING_SECRET=do-not-print-me\n")
    runs = {}
    for mode in (0o644, 0o600):
        os.chmod(env_file, mode)
        done = subprocess.run([sys.executable, str(ROOT / "bot.py"), "history"], cwd=home, capture_output=True,
                              text=True, timeout=30, env={"PATH": os.environ["PATH"],
                                                          "DATABASE_PATH": str(home / "h.db")})
        runs[mode] = done.stdout + done.stderr
    assert "readable by other users" in runs[0o644] and ".env" in runs[0o644]
    assert "readable by other users" not in runs[0o600]
    assert all("do-not-print-me" not in out for out in runs.values())
    figures.record("Security", "database file modes; .env readable by others", times=2, jobs=0, payments=0,
                   duplicates=0, lost=0, outcome=f"db {sorted({oct(m) for m in modes.values()})}; warning on 0644 only")


def test_only_approvers_decide_and_nobody_approves_their_own(world, figures):
    mine = new_request(world, "O\u2019Malley\u2019s Marina", user=APPROVER, invoice="10061", amount="15")
    theirs = new_request(world, invoice="10040", amount="10")
    for job_id, user in ((mine, APPROVER), (theirs, REQUESTER), (theirs, "U0OUTSIDE")):
        world.click(job_id, "approve", user)
    world.slack.wait_for(lambda s: len(s.ephemerals(APPROVER)) + len(s.ephemerals(REQUESTER))
                          + len(s.ephemerals("U0OUTSIDE")) >= 3, timeout=5)
    assert {world.job(mine).state, world.job(theirs).state} == {"awaiting_approval"}
    assert bot_payments(world.qbo.ledger) == []
    figures.record("Security", "approve by own requester (an approver), by requester, by outsider", times=3, jobs=0,
                   payments=0, duplicates=0, lost=0, outcome="3 refusals, nothing written")
