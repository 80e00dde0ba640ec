"""A small checker of Slack's documented Block Kit limits (shared/reference/real-world.md §2), for the tests.

Independent of sandbox/fake_slack.py so the tests are meaningful whatever that validator enforces today.
Also flags what Slack would turn into a ping or a broken text: an unescaped `<!channel>`/`<!here>`/
`<!everyone>`, an `&` that starts no entity, and a lone surrogate.
"""
from __future__ import annotations

import re

TEXT, FIELD, HEADER, BUTTON_TEXT, BUTTON_VALUE = 3000, 2000, 150, 75, 2000
OPTION_TEXT, OPTION_VALUE, PLACEHOLDER, LABEL, MODAL_TEXT, METADATA = 75, 150, 150, 2000, 24, 3000
CONFIRM = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
MESSAGE_BLOCKS, VIEW_BLOCKS, MESSAGE_TEXT = 50, 100, 4000
PING = re.compile(r"<!(channel|here|everyone)\b")
LOOSE_AMP = re.compile(r"&(?!(amp|lt|gt);)")


def _text_object(obj: object, limit: int, where: str, out: list[str]) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        out.append(f"{where}: not a text object")
        return
    text = obj["text"]
    if not 1 <= len(text) <= min(limit, TEXT):
        out.append(f"{where}: {len(text)} characters (limit {min(limit, TEXT)})")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        out.append(f"{where}: lone surrogate")
    if obj.get("type") == "mrkdwn":
        out.extend(mrkdwn_errors(text, where))


def mrkdwn_errors(text: str, where: str) -> list[str]:
    """A ping from someone else's text, or an `&` that is not one of Slack's three entities."""
    out = []
    if PING.search(text):
        out.append(f"{where}: unescaped special mention in {text[:80]!r}")
    if LOOSE_AMP.search(text):
        out.append(f"{where}: & outside an entity in {text[:80]!r}")
    return out


def _option(opt: dict, where: str, out: list[str]) -> None:
    _text_object(opt.get("text"), OPTION_TEXT, f"{where}/text", out)
    if not isinstance(opt.get("value"), str) or not 1 <= len(opt["value"]) <= OPTION_VALUE:
        out.append(f"{where}/value: bad option value")


def _element(el: dict, where: str, out: list[str]) -> None:
    kind = el.get("type")
    if kind == "button":
        _text_object(el.get("text"), BUTTON_TEXT, f"{where}/text", out)
        if len(el.get("value") or "") > BUTTON_VALUE:
            out.append(f"{where}/value: over {BUTTON_VALUE}")
    if "placeholder" in el:
        _text_object(el["placeholder"], PLACEHOLDER, f"{where}/placeholder", out)
    options = el.get("options") or []
    if len(options) > 100:
        out.append(f"{where}/options: {len(options)} options")
    for k, opt in enumerate(options):
        _option(opt, f"{where}/options/{k}", out)
    if "initial_option" in el:
        _option(el["initial_option"], f"{where}/initial_option", out)
        if options and el["initial_option"] not in options:
            out.append(f"{where}/initial_option: not one of the options")
    if kind == "plain_text_input" and len(el.get("initial_value") or "") > el.get("max_length", 3000):
        out.append(f"{where}/initial_value: too long")
    if "confirm" in el:
        for key, limit in CONFIRM.items():
            _text_object(el["confirm"].get(key), limit, f"{where}/confirm/{key}", out)


def limit_errors(blocks: list[dict], *, max_blocks: int = MESSAGE_BLOCKS) -> list[str]:
    """Every documented limit a list of blocks breaks; [] when none."""
    out: list[str] = []
    if len(blocks) > max_blocks:
        out.append(f"{len(blocks)} blocks (limit {max_blocks})")
    for i, b in enumerate(blocks):
        where, kind = f"/blocks/{i}", b.get("type")
        if kind == "section":
            if "text" in b:
                _text_object(b["text"], TEXT, f"{where}/text", out)
            fields = b.get("fields") or []
            if len(fields) > 10:
                out.append(f"{where}/fields: {len(fields)} fields")
            for k, f in enumerate(fields):
                _text_object(f, FIELD, f"{where}/fields/{k}", out)
            if "accessory" in b:
                _element(b["accessory"], f"{where}/accessory", out)
        elif kind == "header":
            _text_object(b.get("text"), HEADER, f"{where}/text", out)
        elif kind == "context":
            elements = b.get("elements") or []
            if not 1 <= len(elements) <= 10:
                out.append(f"{where}/elements: {len(elements)} elements")
            for k, e in enumerate(elements):
                _text_object(e, TEXT, f"{where}/elements/{k}", out)
        elif kind == "actions":
            elements = b.get("elements") or []
            if not 1 <= len(elements) <= 25:
                out.append(f"{where}/elements: {len(elements)} elements")
            for k, e in enumerate(elements):
                _element(e, f"{where}/elements/{k}", out)
        elif kind == "input":
            _text_object(b.get("label"), LABEL, f"{where}/label", out)
            if "hint" in b:
                _text_object(b["hint"], LABEL, f"{where}/hint", out)
            _element(b.get("element") or {}, f"{where}/element", out)
        elif kind != "divider":
            out.append(f"{where}: unexpected block type {kind}")
    return out


def view_limit_errors(view: dict) -> list[str]:
    """Every documented limit a modal or Home view breaks; [] when none."""
    out = limit_errors(view.get("blocks") or [], max_blocks=VIEW_BLOCKS)
    for key in ("title", "submit", "close"):
        if key in view:
            _text_object(view[key], MODAL_TEXT, f"/view/{key}", out)
    if len(view.get("private_metadata") or "") > METADATA:
        out.append("/view/private_metadata: too long")
    return out


def message_errors(text: str, blocks: list[dict]) -> list[str]:
    """A message's limits: its top-level text (a notification, parsed like mrkdwn) and its blocks."""
    out = limit_errors(blocks)
    if not 1 <= len(text) <= MESSAGE_TEXT:
        out.append(f"/text: {len(text)} characters")
    out.extend(mrkdwn_errors(text, "/text"))
    return out
