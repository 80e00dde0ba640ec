"""Text from users and integrations, made safe for Slack mrkdwn."""
from __future__ import annotations


def esc(text: object, limit: int | None = None) -> str:
    """Escape &, < and > (so `<!channel>` pings no one) and cut to `limit` characters."""
    s = "" if text is None else str(text)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fold_apostrophes(text: str) -> str:
    """Curly apostrophes and quotes as straight ones, for forgiving name matching."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def same_name(a: str, b: str) -> bool:
    """Names equal ignoring case, surrounding space and apostrophe style."""
    return fold_apostrophes(a).strip().casefold() == fold_apostrophes(b).strip().casefold()
