"""Settings.from_env(): every variable the bot reads, its default, and one clear error per problem.

Variables come from the process environment, then from `.env` (python-dotenv; the real environment wins).
With none of the three credential groups configured the bot runs the sandbox (emulators, fake Slack).
No message produced here ever contains a secret's value.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dotenv import dotenv_values

from config_credits import parse_new_credits
from config_values import (  # noqa: F401 (Access, warn_if_exposed, PLACEHOLDER_HINTS, is_placeholder: read here)
    PLACEHOLDER_HINTS,
    Access,
    connectbooster_mode,
    fernet_key,
    ids,
    is_placeholder,
    placeholder_problems,
    warn_if_exposed,
)

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
DEFAULT_KEY_FILE = "applycredit-token.key"  # TOKEN_KEY_FILE's name beside .env


class ConfigError(Exception):
    """Configuration is incomplete or malformed; `problems` has one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("configuration problems:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


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
    # --- new credits (config_credits.py) ---
    qbo_webhook_verifier_token: str = field(default="", repr=False)  # POST /quickbooks/webhooks, HTTP mode
    qbo_cdc_poll_seconds: float = 300.0       # change data capture; 0: off
    proposals_channel: str = ""               # empty: NOTIFY_CHANNEL
    auto_apply_max: Decimal = Decimal("0")    # 0: every new credit waits for a click
    dual_approval_above: Decimal | None = None  # None: one approver for any amount
    admin_ids: tuple[str, ...] = ()           # who may connect QuickBooks from Slack; empty: APPROVER_IDS
    qbo_keepalive_days: float = 30.0          # refresh at least this often, idle or not (Intuit: 100 days unused)
    qbo_reconnect_warn_days: float = 14.0     # warn in NOTIFY_CHANNEL (and App Home) this long before expiry
    token_encryption_key: str = field(default="", repr=False)  # a Fernet key; else the key file below
    token_key_file: str = ""                  # from_env: beside .env; empty (tests): beside the database
    # --- HTTP mode: what one request or connection may take (edge/server.py, edge/routes.py) ---
    http_max_body_bytes: int = 1_048_576      # Slack's payloads are a few KB
    http_max_connections: int = 200
    http_idle_seconds: int = 10

    @property
    def guided(self) -> bool:
        """True when the ConnectBooster half is guided step by step in Slack instead of called."""
        return self.connectbooster_mode == "guided"

    @property
    def proposal_channel(self) -> str:
        """Where new credits are proposed: PROPOSALS_CHANNEL, else NOTIFY_CHANNEL."""
        return self.proposals_channel or self.notify_channel

    @property
    def access(self) -> Access:
        """REQUESTER_IDS, ALLOWED_CHANNELS and APPROVER_IDS as one check (handlers/commands.py access_gate)."""
        return Access(requesters=frozenset(self.requester_ids), channels=frozenset(self.allowed_channels),
                      approvers=frozenset(self.approver_ids))

    @property
    def admins(self) -> frozenset[str]:
        """ADMIN_IDS, or APPROVER_IDS when it is not set: who may connect QuickBooks from Slack."""
        return frozenset(self.admin_ids or self.approver_ids)

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
        key_file = str(Path(dotenv_path or ".env").resolve().parent / DEFAULT_KEY_FILE)  # beside .env
        return _parse({"TOKEN_KEY_FILE": key_file, **{k: v.strip() for k, v in env.items() if isinstance(v, str)}})


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
    problems += placeholder_problems(env)
    mode, mode_reason = connectbooster_mode(get, problems)  # guided mode
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
    requesters = ids(get("REQUESTER_IDS"))
    for r in requesters:  # a user group (S...) would need usergroups:read to expand: say so, don't guess
        if _GROUP_ID.match(r):
            problems.append(f"REQUESTER_IDS: {r!r} is a user group; list its members' user ids (U...) instead "
                            "(expanding a group needs the usergroups:read scope, which the app does not ask for)")
        elif not _USER_ID.match(r):
            problems.append(f"REQUESTER_IDS: {r!r} is not a Slack user id (like U0123ABCD)")
    admins = ids(get("ADMIN_IDS"))
    problems += [f"ADMIN_IDS: {a!r} is not a Slack user id (like U0123ABCD)" for a in admins if not _USER_ID.match(a)]
    if get("TOKEN_ENCRYPTION_KEY") and not fernet_key(get("TOKEN_ENCRYPTION_KEY")):
        problems.append("TOKEN_ENCRYPTION_KEY must be a Fernet key (44 characters of url-safe base64; make one with "
                        "`python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`)")
    allowed = ids(get("ALLOWED_CHANNELS"))
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
        **parse_new_credits(get, problems),
        admin_ids=admins,
        qbo_keepalive_days=number("QBO_KEEPALIVE_DAYS", 30.0, high=90),  # well inside Intuit's 100 days
        qbo_reconnect_warn_days=number("QBO_RECONNECT_WARN_DAYS", 14.0, high=365),
        token_encryption_key=get("TOKEN_ENCRYPTION_KEY"),
        token_key_file=get("TOKEN_KEY_FILE"),
        http_max_body_bytes=number("HTTP_MAX_BODY_BYTES", 1_048_576, int, 0),
        http_max_connections=number("HTTP_MAX_CONNECTIONS", 200, int, 0),
        http_idle_seconds=number("HTTP_IDLE_SECONDS", 10, int, 0),
    )
    if configured and not settings.qbo_base_url:
        problems.append("QBO_API_BASE_URL is required when QBO_ENVIRONMENT is a discovery-document URL")
    if problems:
        raise ConfigError(problems)
    return settings
