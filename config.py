"""Settings.from_env(): every variable the bot reads, its default, and one clear error per problem.

Variables come from the process environment, then from `.env` (python-dotenv; the real environment wins).
With none of the three credential groups configured the bot runs the sandbox (emulators, fake Slack).
No message produced here ever contains a secret's value.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

log = logging.getLogger(__name__)

QBO_BASE_URLS = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
    "production": "https://quickbooks.api.intuit.com",
}
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


class ConfigError(Exception):
    """Configuration is incomplete or malformed; `problems` has one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("configuration problems:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Access:
    """Who may use the bot, and where: an empty set means anyone / any channel; approvers are always allowed."""

    requesters: frozenset[str] = frozenset()  # REQUESTER_IDS (user ids only)
    channels: frozenset[str] = frozenset()    # ALLOWED_CHANNELS
    approvers: frozenset[str] = frozenset()   # APPROVER_IDS

    def user_allowed(self, user: str | None) -> bool:
        return not self.requesters or user in self.requesters or user in self.approvers

    def channel_allowed(self, channel: str | None) -> bool:
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class Settings:
    """The bot's configuration. `sandbox` is True when no credentials are configured."""

    sandbox: bool
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = ""
    port: int = 3000
    qbo_client_id: str = ""
    qbo_client_secret: str = field(default="", repr=False)
    qbo_redirect_uri: str = "http://localhost:8000/callback"
    qbo_environment: str = "sandbox"
    qbo_realm_id: str = ""
    qbo_refresh_token: str = field(default="", repr=False)
    qbo_api_base_url: str = ""
    connectbooster_base_url: str = ""
    connectbooster_api_key: str = field(default="", repr=False)
    approver_ids: tuple[str, ...] = ()
    notify_channel: str = ""
    database_path: str = "data/applycredit.db"
    sync_poll_seconds: float = 3.0
    sync_timeout_seconds: float = 600.0
    approval_ttl_hours: float = 24.0
    undo_window_hours: float = 72.0
    digest_time: str = ""
    team_timezone: str = "UTC"
    console_port: int = 3000
    log_level: str = "INFO"
    requester_ids: tuple[str, ...] = ()       # empty: anyone in the workspace may request
    allowed_channels: tuple[str, ...] = ()    # empty: any channel the command is run in
    retention_days: float = 30.0              # delivery bookkeeping (outbox, seen events) kept this long
    # --- guided ConnectBooster mode ---
    connectbooster_mode: str = "api"          # api | guided (default: see connectbooster_mode_reason)
    connectbooster_mode_reason: str = ""      # why this mode: said once at start-up
    connectbooster_portal_url: str = ""       # e.g. https://acme.connectboosterportal.com, for the step links
    guided_remind_minutes: float = 30.0       # a guided step left unconfirmed this long gets one reminder
    # --- HTTP mode: what one request or connection may take (edge/server.py, edge/routes.py) ---
    http_max_body_bytes: int = 1_048_576      # Slack's payloads are a few KB
    http_max_connections: int = 200
    http_idle_seconds: int = 10

    @property
    def guided(self) -> bool:
        """True when the ConnectBooster half is guided step by step in Slack instead of called."""
        return self.connectbooster_mode == "guided"

    @property
    def access(self) -> Access:
        """REQUESTER_IDS, ALLOWED_CHANNELS and APPROVER_IDS as one check (handlers/commands.py access_gate)."""
        return Access(requesters=frozenset(self.requester_ids), channels=frozenset(self.allowed_channels),
                      approvers=frozenset(self.approver_ids))

    @property
    def qbo_base_url(self) -> str:
        """Where QuickBooks API calls go: QBO_API_BASE_URL, else the environment's default."""
        return (self.qbo_api_base_url or QBO_BASE_URLS.get(self.qbo_environment, "")).rstrip("/")

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | None = ".env") -> Settings:
        """Read the environment (and .env unless dotenv_path is None); raise ConfigError listing every problem."""
        env: dict[str, str] = {}
        if dotenv_path and Path(dotenv_path).is_file():
            warn_if_exposed(Path(dotenv_path))
            env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        env.update(os.environ if environ is None else environ)
        return _parse({k: v.strip() for k, v in env.items() if isinstance(v, str)})


def warn_if_exposed(path: Path) -> bool:
    """Log a warning (naming the file, never its content) when group or others can read it."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users (mode %o): run `chmod 600 %s`", path, mode & 0o777, path)
        return True
    return False


def _parse(env: dict[str, str]) -> Settings:
    problems: list[str] = []
    get = lambda name, default="": env.get(name, "") or default  # noqa: E731

    def number(name: str, default: float, kind=float, low: float = 0, high: float | None = None):
        raw = get(name)
        if not raw:
            return default
        try:
            value = kind(raw)
        except ValueError:
            problems.append(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}")
            return default
        if value <= low or (high is not None and value > high):
            problems.append(f"{name} must be above {low}{f' and at most {high}' if high else ''}, got {raw!r}")
        return value

    groups = {
        "Slack": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        "QuickBooks": ("QBO_CLIENT_ID", "QBO_CLIENT_SECRET"),
        "ConnectBooster": ("CONNECTBOOSTER_BASE_URL", "CONNECTBOOSTER_API_KEY"),
    }
    configured = any(get(n) for names in groups.values() for n in names)
    sandbox = not configured
    mode, mode_reason = _connectbooster_mode(get, problems)  # guided mode
    if mode == "guided":  # no ConnectBooster API to configure: a person does that half
        groups.pop("ConnectBooster")
    if configured:
        for names in groups.values():
            problems += [f"{n} is missing (required once any credential is configured)" for n in names if not get(n)]
        if not get("APPROVER_IDS"):
            problems.append("APPROVER_IDS is missing: comma-separated Slack user ids allowed to approve")
        if not get("NOTIFY_CHANNEL"):
            problems.append("NOTIFY_CHANNEL is missing: the channel id for completion notices (e.g. C0123ABCD)")

    token = get("SLACK_BOT_TOKEN")
    if token and not token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    qbo_env = get("QBO_ENVIRONMENT", "sandbox")
    if qbo_env not in QBO_BASE_URLS and not _URL.match(qbo_env):
        problems.append(f"QBO_ENVIRONMENT must be sandbox, production or a discovery-document URL, got {qbo_env!r}")
    for name in ("SLACK_API_URL", "QBO_API_BASE_URL", "CONNECTBOOSTER_BASE_URL", "QBO_REDIRECT_URI",
                 "CONNECTBOOSTER_PORTAL_URL"):
        if get(name) and not _URL.match(get(name)):
            problems.append(f"{name} must be an http(s) URL, got {get(name)!r}")
    approvers = tuple(a.strip() for a in get("APPROVER_IDS").split(",") if a.strip())
    problems += [f"APPROVER_IDS: {a!r} is not a Slack user id (like U0123ABCD)" for a in approvers if not _USER_ID.match(a)]
    requesters = _ids(get("REQUESTER_IDS"))
    for r in requesters:  # a user group (S...) would need usergroups:read to expand: say so, don't guess
        if _GROUP_ID.match(r):
            problems.append(f"REQUESTER_IDS: {r!r} is a user group; list its members' user ids (U...) instead "
                            "(expanding a group needs the usergroups:read scope, which the app does not ask for)")
        elif not _USER_ID.match(r):
            problems.append(f"REQUESTER_IDS: {r!r} is not a Slack user id (like U0123ABCD)")
    allowed = _ids(get("ALLOWED_CHANNELS"))
    problems += [f"ALLOWED_CHANNELS: {c!r} is not a channel id (like C0123ABCD)" for c in allowed
                 if not _CHANNEL_ID.match(c)]
    channel = get("NOTIFY_CHANNEL")
    if channel and not _CHANNEL_ID.match(channel):
        problems.append(f"NOTIFY_CHANNEL must be a channel id (like C0123ABCD), got {channel!r}")
    digest = get("DIGEST_TIME")
    if digest and not _HHMM.match(digest):
        problems.append(f"DIGEST_TIME must be HH:MM (24-hour), got {digest!r}")
    tz = get("TEAM_TIMEZONE", "UTC")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except Exception:
        problems.append(f"TEAM_TIMEZONE must be an IANA time zone like America/Chicago, got {tz!r}")
    level = get("LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")

    settings = Settings(
        sandbox=sandbox,
        slack_bot_token=token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=app_token,
        slack_api_url=get("SLACK_API_URL"),
        port=number("PORT", 3000, int, 0, 65535),
        qbo_client_id=get("QBO_CLIENT_ID"),
        qbo_client_secret=get("QBO_CLIENT_SECRET"),
        qbo_redirect_uri=get("QBO_REDIRECT_URI", "http://localhost:8000/callback"),
        qbo_environment=qbo_env,
        qbo_realm_id=get("QBO_REALM_ID"),
        qbo_refresh_token=get("QBO_REFRESH_TOKEN"),
        qbo_api_base_url=get("QBO_API_BASE_URL"),
        connectbooster_base_url=get("CONNECTBOOSTER_BASE_URL").rstrip("/"),
        connectbooster_api_key=get("CONNECTBOOSTER_API_KEY"),
        approver_ids=approvers,
        notify_channel=channel,
        database_path=get("DATABASE_PATH", "data/applycredit.db"),
        sync_poll_seconds=number("SYNC_POLL_SECONDS", 3.0),
        sync_timeout_seconds=number("SYNC_TIMEOUT_SECONDS", 600.0),
        approval_ttl_hours=number("APPROVAL_TTL_HOURS", 24.0),
        undo_window_hours=number("UNDO_WINDOW_HOURS", 72.0),
        digest_time=digest,
        team_timezone=tz,
        console_port=number("CONSOLE_PORT", 3000, int, 0, 65535),
        log_level=level,
        requester_ids=requesters,
        allowed_channels=allowed,
        retention_days=number("RETENTION_DAYS", 30.0),
        connectbooster_mode=mode,
        connectbooster_mode_reason=mode_reason,
        connectbooster_portal_url=get("CONNECTBOOSTER_PORTAL_URL").rstrip("/"),
        guided_remind_minutes=number("GUIDED_REMIND_MINUTES", 30.0),
        http_max_body_bytes=number("HTTP_MAX_BODY_BYTES", 1_048_576, int, 0),
        http_max_connections=number("HTTP_MAX_CONNECTIONS", 200, int, 0),
        http_idle_seconds=number("HTTP_IDLE_SECONDS", 10, int, 0),
    )
    if configured and not settings.qbo_base_url:
        problems.append("QBO_API_BASE_URL is required when QBO_ENVIRONMENT is a discovery-document URL")
    if problems:
        raise ConfigError(problems)
    return settings


def _ids(raw: str) -> tuple[str, ...]:
    """A comma-separated list of Slack ids, blanks dropped."""
    return tuple(x.strip() for x in raw.split(",") if x.strip())


def _connectbooster_mode(get, problems: list[str]) -> tuple[str, str]:
    """(mode, why): CONNECTBOOSTER_MODE if set; else api with a CONNECTBOOSTER_BASE_URL, guided with QuickBooks."""
    chosen = get("CONNECTBOOSTER_MODE").lower()
    if chosen:
        if chosen not in ("api", "guided"):
            problems.append(f"CONNECTBOOSTER_MODE must be api or guided, got {chosen!r}")
            return "api", ""
        if chosen == "api" and not get("CONNECTBOOSTER_BASE_URL") and get("QBO_CLIENT_ID"):
            problems.append("CONNECTBOOSTER_MODE=api needs CONNECTBOOSTER_BASE_URL (or use CONNECTBOOSTER_MODE=guided)")
        return chosen, "CONNECTBOOSTER_MODE is set"
    if get("CONNECTBOOSTER_BASE_URL"):
        return "api", "CONNECTBOOSTER_BASE_URL is set"
    if get("QBO_CLIENT_ID"):
        return "guided", "QuickBooks is configured but CONNECTBOOSTER_BASE_URL is not"
    return "api", "nothing is configured: the sandbox emulates the ConnectBooster API"
