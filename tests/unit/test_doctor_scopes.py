"""The scopes doctor expects and the sandbox grants are manifest.yml's, so doctor's scope check means something."""
from pathlib import Path

import yaml

from cli.doctor_slack import BOT_SCOPES
from sandbox.run import SANDBOX_SCOPES

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())


def test_doctor_and_the_sandbox_know_the_manifests_bot_scopes():
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES == SANDBOX_SCOPES
