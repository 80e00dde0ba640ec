"""Small Block Kit pieces shared by the builders, each capped at Slack's documented limit after escaping.

Every text from outside (users, QuickBooks, ConnectBooster) goes through `esc` before it reaches mrkdwn;
each piece below then caps its own text with `cap`, which never splits an entity, a `<…>` construct or an
emoji (see workflow/text.py; lengths in code points, as slack-sdk counts them). Limits are Slack's
documented ones (shared/reference/real-world.md §2).
"""
from __future__ import annotations

from workflow.money import fmt as _raw_fmt
from workflow.text import cap, esc

SECTION_LIMIT = 3000      # section.text, and any text object (context elements are text objects)
FIELD_LIMIT = 2000        # each section field
MAX_FIELDS = 10
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
OPTION_LIMIT = 75         # option text
OPTION_VALUE_LIMIT = 150
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
MODAL_TEXT_LIMIT = 24     # modal title, submit, close
PLACEHOLDER_LIMIT = 150
LABEL_LIMIT = 2000        # input label and hint
MESSAGE_TEXT_LIMIT = 4000  # top-level `text` of a message (chat.update refuses more: msg_too_long)
METADATA_LIMIT = 3000     # private_metadata


def fmt(amount, currency: str = "USD") -> str:
    """Money for mrkdwn: the currency code comes from an integration, so it is escaped."""
    return esc(_raw_fmt(amount, currency))


def plain_fmt(amount, currency: str = "USD") -> str:
    """Money for plain_text (not parsed by Slack, so not escaped)."""
    return _raw_fmt(amount, currency)


def plain(text: str, limit: int = PLACEHOLDER_LIMIT) -> dict:
    """A plain_text object: Slack shows it as typed, so it is capped but not escaped."""
    return {"type": "plain_text", "text": cap(str(text), limit, markup=False) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict:
    """A mrkdwn object whose text (already escaped) is capped at `limit`."""
    return {"type": "mrkdwn", "text": cap(text, limit) or " "}


def message_text(text: str) -> str:
    """A message's top-level `text` (the notification fallback), capped."""
    return cap(text, MESSAGE_TEXT_LIMIT)


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": mrkdwn(text), **extra}


def fields_section(pairs: list[tuple[str, str]]) -> dict:
    """Up to 10 label/value fields (Block Kit's limit) of at most 2,000 characters, values already escaped."""
    return {"type": "section",
            "fields": [mrkdwn(f"*{label}*\n{value}", FIELD_LIMIT) for label, value in pairs[:MAX_FIELDS]]}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def header(text: str) -> dict:
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: dict | None = None) -> dict:
    b = {"type": "button", "text": plain(text, BUTTON_TEXT_LIMIT), "action_id": action_id,
         "value": value[:BUTTON_VALUE_LIMIT]}
    if style:
        b["style"] = style
    if confirm:
        b["confirm"] = confirm
    return b


def option(text: str, value: str) -> dict:
    # A value is an id the bot reads back: it is never cut (a cut id would pick the wrong record); ids are short.
    return {"text": plain(text, OPTION_LIMIT), "value": value}


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel", style: str | None = None) -> dict:
    """A confirm object; `text` is escaped mrkdwn, capped at 300."""
    d = {"title": plain(title, CONFIRM_LIMITS["title"]), "text": mrkdwn(text, CONFIRM_LIMITS["text"]),
         "confirm": plain(yes, CONFIRM_LIMITS["confirm"]), "deny": plain(no, CONFIRM_LIMITS["deny"])}
    if style:
        d["style"] = style
    return d


def kind_label(kind: str, *, escape: bool = True) -> str:
    """'credit memo', 'unapplied payment', or the integration's own kind (escaped for mrkdwn unless told)."""
    label = {"credit_memo": "credit memo", "unapplied_payment": "unapplied payment"}.get(
        kind, str(kind or "credit").replace("_", " "))
    return esc(label) if escape else label
