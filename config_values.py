"""Checks of single values for config.py: Slack id lists, .env.example's placeholders, a Fernet key, the mode; who
may use the bot (Access); a secrets file others can read."""
from __future__ import annotations

import base64
import logging
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("config")

# What .env.example ships instead of real values: "...", its example ids, a host under example.com/.internal.
_EXAMPLE_IDS = frozenset({"U0123ABCD", "U0456EFGH", "U0789IJKL", "C0123ABCD"})
_EXAMPLE_HOST = re.compile(r"^https?://([^/:]*\.)?example\.(com|net|org|internal)(:\d+)?(/|$)", re.IGNORECASE)
PLACEHOLDER_HINTS = {
    "SLACK_BOT_TOKEN": "your app's Bot User OAuth Token (xoxb-…, Slack app settings → OAuth & Permissions)",
    "SLACK_SIGNING_SECRET": "your app's Signing Secret (Slack app settings → Basic Information)",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, or leave it empty for HTTP mode",
    "QBO_CLIENT_ID": "your Intuit app's Client ID (README: Connect QuickBooks)",
    "QBO_CLIENT_SECRET": "your Intuit app's Client Secret (README: Connect QuickBooks)",
    "CONNECTBOOSTER_BASE_URL": "your ConnectBooster gateway's address, or leave it and the key empty for guided mode",
    "CONNECTBOOSTER_API_KEY": "your ConnectBooster gateway's key, or leave it empty for guided mode",
    "APPROVER_IDS": "your approvers' Slack member ids (a profile → ⋮ → Copy member ID)",
    "NOTIFY_CHANNEL": "your notices channel's id (at the bottom of the channel's details)",
    "REQUESTER_IDS": "the Slack member ids who may request, or leave it empty for everyone",
    "ALLOWED_CHANNELS": "the channel ids where the command may run, or leave it empty for any",
}


def is_placeholder(value: str) -> bool:
    """True for the values .env.example ships in place of real ones ("xoxb-...", U0123ABCD, an example.* host)."""
    return "..." in value or bool(_EXAMPLE_HOST.match(value)) or any(x in _EXAMPLE_IDS for x in ids(value))


def placeholder_problems(env: Mapping[str, str]) -> list[str]:
    """One line per setting still holding .env.example's placeholder (a placeholder is never a secret: shown)."""
    return [f"{name} still holds .env.example's placeholder {env[name]!r}: set it to {hint}"
            for name, hint in PLACEHOLDER_HINTS.items() if env.get(name) and is_placeholder(env[name])]


def fernet_key(raw: str) -> bool:
    """True for a Fernet key: 32 bytes in url-safe base64 (44 characters)."""
    return bool(re.fullmatch(r"[A-Za-z0-9_-]{43}=", raw)) and len(base64.urlsafe_b64decode(raw)) == 32


def ids(raw: str) -> tuple[str, ...]:
    """A comma-separated list of Slack ids, blanks dropped."""
    return tuple(x.strip() for x in raw.split(",") if x.strip())


def connectbooster_mode(get, problems: list[str]) -> tuple[str, str]:
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


def warn_if_exposed(path: Path) -> bool:
    """Log a warning (naming the file, never its content) when group or others can read it."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users (mode %o): run `chmod 600 %s`", path, mode & 0o777, path)
        return True
    return False
