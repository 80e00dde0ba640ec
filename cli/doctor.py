"""`python bot.py doctor`: every setting and credential checked against the live services, with what to fix.

Each check answers findings: `ok` (all is well), `note` (worth knowing, nothing to fix) or `fix` (a problem, said
with what to do). Exit status 0 only when no finding is a `fix`. With nothing configured it starts the sandbox and
checks the bot's settings against it (`make run`'s fakes), so it can be tried anywhere. It changes nothing but
what the bot itself would change on start (a refreshed QuickBooks token, the token key file on first use).
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from config import ConfigError, Settings, warn_if_exposed
from data.token_key import key_file_path


@dataclass(frozen=True)
class Finding:
    level: str   # "ok" | "note" | "fix"
    area: str    # what it is about, e.g. "SLACK_BOT_TOKEN" or "QuickBooks connection"
    text: str

    def line(self) -> str:
        """'  OK  area: text', 'NOTE  area: text' or ' FIX  area: text'."""
        return f"{self.level.upper():>4}  {self.area}: {self.text}"


def ok(area: str, text: str) -> Finding:
    return Finding("ok", area, text)


def note(area: str, text: str) -> Finding:
    return Finding("note", area, text)


def fix(area: str, text: str) -> Finding:
    return Finding("fix", area, text)


SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")  # what Slack's Basic Information → App Credentials shows


def settings_findings(settings: Settings, dotenv: str = ".env") -> list[Finding]:
    """The settings' own form, before any service is asked."""
    found = [ok("settings", "every variable is readable (config.py found no problem)")]
    if SIGNING_SECRET.match(settings.slack_signing_secret or ""):
        found.append(ok("SLACK_SIGNING_SECRET", "has the form of a Slack signing secret (32 hex characters)"))
    else:
        found.append(fix("SLACK_SIGNING_SECRET", "is not 32 hexadecimal characters: copy the *Signing Secret* "
                                                 "(Basic Information → App Credentials), not the client secret or a "
                                                 "token; every request from Slack would be refused"))
    if Path(dotenv).is_file() and warn_if_exposed(Path(dotenv)):
        found.append(fix(".env", f"other users can read it: run `chmod 600 {dotenv}`"))
    for name, path in (("DATABASE_PATH", Path(settings.database_path)),
                       ("TOKEN_KEY_FILE", None if settings.token_encryption_key else Path(key_file_path(settings)))):
        if path is not None and path.is_file() and path.stat().st_mode & 0o077:
            found.append(fix(name, f"{path} is readable by other users: run `chmod 600 {path}`"))
    return found


def run_checks(settings: Settings, checks: Iterable[Callable[[Settings], list[Finding]]]) -> list[Finding]:
    """Every check's findings; a check that breaks is itself a finding, never the end of the report."""
    found: list[Finding] = []
    for check in checks:
        try:
            found += check(settings)
        except Exception as e:  # noqa: BLE001 (the report goes on; the type says enough, the message may not)
            name = check.__name__.replace("_findings", "").replace("_check", "")
            found.append(fix(name, f"the check itself failed ({type(e).__name__})"))
    return found


def report(found: list[Finding], out: Callable[[str], None] = print) -> int:
    """Print the findings; 0 when none needs fixing, else 1."""
    problems = [f for f in found if f.level == "fix"]
    for f in found:
        out(f.line())
    out("All is well." if not problems else
        f"{len(problems)} thing{'s' if len(problems) != 1 else ''} to fix (marked FIX above).")
    return 0 if not problems else 1


def diagnose(settings: Settings, out: Callable[[str], None] = print, dotenv: str = ".env") -> int:
    """The whole report for these settings (the services they name must be reachable from here)."""
    from cli.doctor_services import connectbooster_findings, quickbooks_findings, updates_findings
    from cli.doctor_slack import slack_findings

    out(f"applycredit doctor — {'Socket Mode' if settings.socket_mode else f'HTTP mode on port {settings.port}'}, "
        f"ConnectBooster {settings.connectbooster_mode} mode")
    def settings_check(s: Settings) -> list[Finding]:
        return settings_findings(s, dotenv)

    checks = (settings_check, slack_findings, quickbooks_findings, connectbooster_findings, updates_findings)
    return report(run_checks(settings, checks), out)


def cmd_doctor(settings: Settings) -> int:
    if not settings.sandbox:
        return diagnose(settings)
    import tempfile
    from dataclasses import replace

    from sandbox.run import start_sandbox

    scratch = Path(tempfile.mkdtemp(prefix="applycredit-doctor-"))  # never the running sandbox's database
    sandbox, sandboxed = start_sandbox(settings, db=str(scratch / "sandbox.db"))
    print("Nothing is configured: checking the sandbox (its emulators and fake Slack) instead.")
    try:
        return diagnose(replace(sandboxed, token_key_file=str(scratch / "token.key")))
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        sandbox.stop()
