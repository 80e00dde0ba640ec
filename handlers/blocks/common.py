"""Small Block Kit pieces shared by the builders. Every text from outside goes through `esc`."""
from __future__ import annotations

from workflow.money import fmt  # noqa: F401  (re-exported for builders)
from workflow.text import esc  # noqa: F401

SECTION_LIMIT = 3000
OPTION_LIMIT = 75


def plain(text: str, limit: int = 150) -> dict:
    return {"type": "plain_text", "text": (text if len(text) <= limit else text[: limit - 1] + "…"), "emoji": True}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"}


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": mrkdwn(text), **extra}


def fields_section(pairs: list[tuple[str, str]]) -> dict:
    """Up to 10 label/value fields (Block Kit's limit), each already escaped."""
    return {"type": "section", "fields": [mrkdwn(f"*{label}*\n{value}") for label, value in pairs[:10]]}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def header(text: str) -> dict:
    return {"type": "header", "text": plain(text, 150)}


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: dict | None = None) -> dict:
    b = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    if confirm:
        b["confirm"] = confirm
    return b


def option(text: str, value: str) -> dict:
    return {"text": plain(text, OPTION_LIMIT), "value": value}


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel", style: str | None = None) -> dict:
    d = {"title": plain(title, 100), "text": mrkdwn(text), "confirm": plain(yes, 30), "deny": plain(no, 30)}
    if style:
        d["style"] = style
    return d


def kind_label(kind: str) -> str:
    return {"credit_memo": "credit memo", "unapplied_payment": "unapplied payment"}.get(kind, kind.replace("_", " "))
