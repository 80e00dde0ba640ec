"""The scopes doctor expects and the sandbox grants are manifest.yml's, so doctor's scope check means something."""
from pathlib import Path

import yaml

from cli.doctor_slack import BOT_SCOPES
from sandbox.run import SANDBOX_SCOPES

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())


def test_doctor_and_the_sandbox_know_the_manifests_bot_scopes():
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES == SANDBOX_SCOPES


def test_a_check_that_breaks_is_reported_and_the_others_still_run():
    from cli.doctor import fix, note, ok, report, run_checks

    def broken_findings(settings):
        raise KeyError("token=xoxb-secret")  # its message is never printed: it may hold anything

    found = run_checks(None, (lambda s: [ok("a", "fine"), note("b", "worth knowing")], broken_findings,
                              lambda s: [fix("c", "do this")]))
    lines: list[str] = []
    assert report(found, lines.append) == 1
    assert lines == ["  OK  a: fine", "NOTE  b: worth knowing", " FIX  broken: the check itself failed (KeyError)",
                     " FIX  c: do this", "2 things to fix (marked FIX above)."]
    assert report([ok("a", "fine"), note("b", "n")], lines.append) == 0 and lines[-1] == "All is well."


def test_webhook_and_cdc_settings_are_checked():
    from types import SimpleNamespace

    from cli.doctor_services import updates_findings

    def levels(socket_mode=False, **values) -> list[str]:
        return [f.level for f in updates_findings(SimpleNamespace(socket_mode=socket_mode, **values))]

    assert levels(qbo_webhook_verifier_token="v", qbo_cdc_poll_seconds=300) == ["ok", "ok"]
    assert levels(qbo_webhook_verifier_token="", qbo_cdc_poll_seconds=0) == ["note"]  # noticed only when asked
    assert levels(qbo_webhook_verifier_token="", qbo_cdc_poll_seconds=300) == ["ok"]
    assert levels(True, qbo_webhook_verifier_token="v", qbo_cdc_poll_seconds=300) == ["fix"]  # no HTTP server
