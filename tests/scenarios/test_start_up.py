"""`python bot.py run` as a new user starts it: a copied .env.example, and a service that does not answer."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL_LOOKING = {
    "SLACK_BOT_TOKEN": "xoxb-1-startup", "SLACK_SIGNING_SECRET": "startup-secret", "SLACK_APP_TOKEN": "xapp-1-startup",
    "QBO_CLIENT_ID": "client", "QBO_CLIENT_SECRET": "qbo-secret", "CONNECTBOOSTER_MODE": "guided",
    "APPROVER_IDS": "U0AB12CD3", "NOTIFY_CHANNEL": "C0NOTICES",
}


def run_bot(home: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), **(extra or {})}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "run"], cwd=home, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def refusing_port() -> socket.socket:
    """A port bound but never listening: connections to it are refused, and no other test's server can take it
    meanwhile (a port merely closed again could be, and would answer the bot as no Slack does)."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    return held


def test_a_copied_env_example_is_refused_before_anything_starts(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    os.chmod(tmp_path / ".env", 0o600)
    done = run_bot(tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if "still holds .env.example's placeholder" in line]
    named = {line.split()[1] for line in lines}
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "QBO_CLIENT_ID", "APPROVER_IDS", "NOTIFY_CHANNEL"} <= named
    assert len(named) == len(lines)  # one line per setting
    assert not (tmp_path / "data").exists()  # no database, nothing started


def test_slack_unreachable_at_start_is_one_line_not_a_traceback(tmp_path):
    with refusing_port() as held:
        done = run_bot(tmp_path, {**REAL_LOOKING, "SLACK_API_URL": f"http://127.0.0.1:{held.getsockname()[1]}/api/"})
    assert done.returncode == 1
    output = done.stderr + done.stdout
    assert "Traceback" not in output and "startup-secret" not in output
    failure = [line for line in done.stderr.splitlines() if "could not start" in line]
    assert len(failure) == 1 and "Slack could not be reached" in failure[0] and "Nothing was changed" in failure[0]
    assert not [line for line in done.stderr.splitlines() if " ERROR " in line]  # said once, by that line
