"""Text from users and integrations, made safe for Slack mrkdwn, and capped at Slack's limits after escaping.

Lengths are counted in Python code points (`len(str)`), which is what slack-sdk counts; Slack documents its
limits in "characters" without saying whether an emoji outside the BMP counts once (code point) or twice
(UTF-16 unit). Cuts never fall inside an entity (`&amp;`), a `<…>` mention/link/date we built, a surrogate
pair, or an emoji sequence (ZWJ, skin tone, variation selector, combining mark, flag).
"""
from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_ZWJ = "\u200d"


def _joins_previous(ch: str) -> bool:
    """True when `ch` belongs to the character before it (so a cut must not fall just before it)."""
    o = ord(ch)
    return (ch == _ZWJ or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F or 0xDC00 <= o <= 0xDFFF
            or unicodedata.category(ch) in ("Mn", "Mc", "Me"))


def _is_flag_half(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, n: int, *, markup: bool) -> int:
    """The largest cut position <= n that splits no entity, `<…>` construct or emoji sequence."""
    if markup:
        amp = text.rfind("&", max(0, n - 4), n)
        if amp >= 0 and (m := _ENTITY.match(text, amp)) and m.end() > n:
            n = amp
        lt = text.rfind("<", 0, n)
        if lt >= 0 and text.find(">", lt, n) < 0 and lt > 0:
            n = lt  # our own <@U1>, <#C1>, <url|label>, <!date^…>: whole or not at all
    while 0 < n < len(text) and (_joins_previous(text[n]) or text[n - 1] == _ZWJ):
        n -= 1
    if 0 < n < len(text) and _is_flag_half(text[n]):
        run = 0
        while n - run - 1 >= 0 and _is_flag_half(text[n - run - 1]):
            run += 1
        n -= run % 2  # flags are pairs of regional indicators
    return n


def cap(text: str, limit: int, *, markup: bool = True) -> str:
    """`text` in at most `limit` characters, ending with … when cut. `markup`: text is escaped mrkdwn."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: _safe_cut(text, limit - len(ELLIPSIS), markup=markup)] + ELLIPSIS


def escape(text: object) -> str:
    """`&`, `<` and `>` as Slack's entities, so `<!channel>` from anyone pings no one."""
    s = "" if text is None else str(text)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc(text: object, limit: int | None = None) -> str:
    """Escape, then cut to `limit` characters (counted after escaping, never splitting an entity)."""
    s = escape(text)
    return s if limit is None else cap(s, limit)
