"""Slack mrkdwn and plain_text → safe HTML: entities, *bold*, _italic_, ~strike~, `code`, <links>, :emoji:.

Slack text arrives with `&`, `<` and `>` already escaped as entities (the bot's `esc` does that); a raw `<…>`
is markup (a mention, a channel, a link). Everything that reaches the page is HTML-escaped here, once.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping

import emoji as emoji_data  # the Unicode emoji names and GitHub/Slack-style aliases (:white_check_mark:, :broom:)

SAFE_SCHEMES = ("http://", "https://", "mailto:")

_CODE = re.compile(r"`([^`\n]+)`")
_MARKUP = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_EMOJI = re.compile(r":([a-z0-9_+\-]*[a-z][a-z0-9_+\-]*):")  # a letter: "12:30:45" is a time
_HOLE = re.compile("\x00(\\d+)\x00")


def _text(raw: str) -> str:
    """Slack-escaped text → HTML-escaped text (entities decoded first so `&amp;lt;` stays literal)."""
    return html.escape(raw.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), quote=True)


def emoji(escaped: str) -> str:
    """Replace :shortcodes: (in already escaped text) with the character, or a readable labelled span."""
    def one(m: re.Match) -> str:
        name = m.group(1)
        char = emoji_data.emojize(f":{name}:", language="alias")
        if char != f":{name}:":
            return f'<span class="emoji" role="img" aria-label="{name.replace("_", " ")}">{char}</span>'
        return f'<span class="emoji emoji-unknown" title=":{name}:">:{name}:</span>'
    return _EMOJI.sub(one, escaped)


def plain_html(text: str, with_emoji: bool = True) -> str:
    """A plain_text object's text: escaped as is (plain_text has no entities), emoji shortcodes optional."""
    escaped = html.escape(str(text), quote=True)
    return emoji(escaped) if with_emoji else escaped


def _markup(inner: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """One `<…>` token: a user, a channel, a special mention, or a link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        uid = target[1:]
        name = users.get(uid) or label or uid
        return f'<span class="mention" data-user="{html.escape(uid)}">@{_text(name)}</span>'
    if target.startswith("#"):
        cid = target[1:]
        name = channels.get(cid) or label or cid
        return f'<span class="mention channel" data-channel="{html.escape(cid)}">#{_text(name)}</span>'
    if target.startswith("!date^"):  # Slack shows the time in the reader's zone; the console shows the fallback
        return f'<time class="date">{_text(label or target)}</time>'
    if target.startswith("!"):
        word = target[1:].split("^", 1)[0]
        return f'<span class="mention special">@{_text(label or word)}</span>'
    url = target.replace("&amp;", "&")
    shown = _text(label) if label else _text(target)
    if url.lower().startswith(SAFE_SCHEMES):
        return (f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">'
                f"{shown}</a>")
    return f'<span class="link-unsafe">{shown}</span>'


def mrkdwn_html(text: str, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None) -> str:
    """A mrkdwn text object's text as HTML; never emits markup that came from the text itself."""
    users, channels = users or {}, channels or {}
    holes: list[str] = []

    def hole(fragment: str) -> str:
        holes.append(fragment)
        return f"\x00{len(holes) - 1}\x00"

    raw = str(text).replace("\x00", "")
    raw = _CODE.sub(lambda m: hole(f"<code>{_text(m.group(1))}</code>"), raw)
    raw = _MARKUP.sub(lambda m: hole(_markup(m.group(1), users, channels)), raw)
    out = _text(raw)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    out = _STRIKE.sub(r"<del>\1</del>", out)
    out = emoji(out).replace("\n", "<br>")
    return _HOLE.sub(lambda m: holes[int(m.group(1))], out)


def text_html(obj: object, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None) -> str:
    """A Block Kit text object (plain_text or mrkdwn), or a bare string treated as mrkdwn."""
    if isinstance(obj, str):
        return mrkdwn_html(obj, users, channels)
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "plain_text":
        return plain_html(obj.get("text", ""), obj.get("emoji", True) is not False)
    return mrkdwn_html(obj.get("text", ""), users, channels)


def plain_of(obj: object) -> str:
    """The bare text of a text object (for labels, aria attributes and option values)."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)
