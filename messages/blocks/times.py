"""The one timestamp formatter: Slack's `<!date…>` in mrkdwn, a human text in the team's zone elsewhere.

Slack renders `<!date^UNIX^{date_short_pretty} at {time}|fallback>` in each reader's own time zone (the
device's); the fallback is for clients that cannot, so it carries the team's zone name. `plain_text` places
(headers, buttons, options) cannot hold `<!date…>` and get the human text. No ISO 8601 stamp reaches a person.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from workflow.text import escape

DATE_TOKENS = "{date_short_pretty} at {time}"


def to_datetime(value: object) -> datetime | None:
    """A stored stamp ('2026-11-30T18:55:37.656Z'), a datetime (naive = UTC) or epoch seconds; None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())  # 3.11 reads the Z
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def zone(tz: str | None) -> ZoneInfo:
    """The team's zone; UTC when the name is unknown."""
    try:
        return ZoneInfo(tz or "UTC")
    except (KeyError, ValueError):  # an unknown zone must not break a message: say UTC instead
        return ZoneInfo("UTC")


def human(value: object, tz: str | None = "UTC") -> str:
    """'Mon 30 Nov 2026, 12:55 CST' in the team's zone; the raw text (unescaped) when it is not a time."""
    dt = to_datetime(value)
    if dt is None:
        return "" if value is None else str(value)
    local = dt.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname() or 'UTC'}"


def human_date(value: object, tz: str | None = "UTC") -> str:
    """'Tue 3 Nov 2026' in the team's zone."""
    dt = to_datetime(value)
    if dt is None:
        return "" if value is None else str(value)
    local = dt.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b %Y}"


def when(value: object, tz: str | None = "UTC") -> str:
    """mrkdwn: `<!date^UNIX^{date_short_pretty} at {time}|human fallback>`; escaped raw text if not a time."""
    dt = to_datetime(value)
    if dt is None:
        return escape(value) if value not in (None, "") else "an unknown time"
    # The fallback sits inside <…|…>: escape it so nothing in it can close the construct early.
    return f"<!date^{int(dt.timestamp())}^{DATE_TOKENS}|{escape(human(dt, tz))}>"
