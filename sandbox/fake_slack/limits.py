"""Block Kit's documented size limits (real-world.md §2 "Block Kit limits"), checked with Slack's wording.

Each check yields Slack-style strings: "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
(activepieces/activepieces#11149) and "no more than 5 items allowed [json-pointer:/blocks/2/accessory/options]"
(incidentbot/incidentbot#328). Lengths are `len()` of the string as sent, i.e. after the bot escaped `&<>`:
that is what slack-sdk counts, and whether Slack counts the decoded form is unverified (real-world.md §2).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

TEXT = 3000  # any text object (composition-objects/text-object)
SECTION_TEXT, SECTION_FIELDS, FIELD_TEXT = 3000, 10, 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS, ACTIONS_ELEMENTS = 10, 25
ID = 255  # block_id, action_id, callback_id, external_id
BUTTON_TEXT, BUTTON_VALUE, URL, ACCESSIBILITY_LABEL = 75, 2000, 3000, 75
OPTION_TEXT, OPTION_VALUE, OPTION_DESCRIPTION = 75, 150, 75
SELECT_OPTIONS, OPTION_GROUPS, GROUP_LABEL = 100, 100, 75
OVERFLOW_OPTIONS, CHOICE_OPTIONS = 5, 10  # overflow 1-5; radio_buttons / checkboxes 10
PLACEHOLDER = 150
INPUT_LABEL, INPUT_HINT = 2000, 2000
INPUT_LENGTH = 3000  # plain_text_input min_length 0-3000, max_length 1-3000
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
IMAGE_ALT = 2000
VIEW_TITLE = 24  # modal title / submit / close
PRIVATE_METADATA = 3000
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
# msg_blocks_too_long: Slack refuses a message whose blocks hold more text in total than this, although every block
# is within its own limit. Observed at ~11,000-13,300 characters ([OBS] slackapi/bolt-js#2509, labelled
# server-side-issue, where a maintainer speaks of "12,000 text characters with a buffer for block containers";
# slackapi/bolt-js#2867); undocumented. 12,000 over `blocks_text_length` is our reading [UNVERIFIED].
MESSAGE_BLOCKS_TEXT = 12_000

_SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}


def too_long(ptr: str, limit: int) -> str:
    """Slack's wording for a string over `limit` characters."""
    return f"must be less than {limit + 1} characters [json-pointer:{ptr}]"


def too_many(ptr: str, limit: int) -> str:
    """Slack's wording for an array over `limit` items."""
    return f"no more than {limit} items allowed [json-pointer:{ptr}]"


def _str(node: Any, key: str, ptr: str, limit: int) -> Iterator[str]:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, str) and len(value) > limit:
        yield too_long(f"{ptr}/{key}", limit)


def _text(node: Any, key: str, ptr: str, limit: int) -> Iterator[str]:
    """A text object under `key`: its `text` at most `limit` characters."""
    obj = node.get(key) if isinstance(node, dict) else None
    if isinstance(obj, dict):
        yield from _str(obj, "text", f"{ptr}/{key}", limit)


def _list(node: dict, key: str, ptr: str, limit: int) -> list:
    items = node.get(key)
    return items if isinstance(items, list) else []


def _count(node: dict, key: str, ptr: str, limit: int) -> Iterator[str]:
    items = node.get(key)
    if isinstance(items, list) and len(items) > limit:
        yield too_many(f"{ptr}/{key}", limit)


def option_errors(option: Any, ptr: str) -> Iterator[str]:
    """An option object: text 75, value 150, description 75, url 3000."""
    yield from _text(option, "text", ptr, OPTION_TEXT)
    yield from _str(option, "value", ptr, OPTION_VALUE)
    yield from _text(option, "description", ptr, OPTION_DESCRIPTION)
    yield from _str(option, "url", ptr, URL)


def confirm_errors(el: dict, ptr: str) -> Iterator[str]:
    """A confirm dialog: title 100, text 300, confirm / deny 30 (slack_sdk ConfirmObject)."""
    confirm = el.get("confirm")
    if isinstance(confirm, dict):
        p = f"{ptr}/confirm"
        yield from _text(confirm, "title", p, CONFIRM_TITLE)
        yield from _text(confirm, "text", p, CONFIRM_TEXT)
        yield from _text(confirm, "confirm", p, CONFIRM_BUTTON)
        yield from _text(confirm, "deny", p, CONFIRM_BUTTON)


def element_errors(el: Any, ptr: str) -> Iterator[str]:
    """One interactive element (button, select, overflow, radio, input...)."""
    if not isinstance(el, dict):
        return
    etype = el.get("type")
    yield from _str(el, "action_id", ptr, ID)
    yield from _text(el, "placeholder", ptr, PLACEHOLDER)
    yield from confirm_errors(el, ptr)
    if etype == "button":
        yield from _text(el, "text", ptr, BUTTON_TEXT)
        yield from _str(el, "value", ptr, BUTTON_VALUE)
        yield from _str(el, "url", ptr, URL)
        yield from _str(el, "accessibility_label", ptr, ACCESSIBILITY_LABEL)
    limit = {"overflow": OVERFLOW_OPTIONS, "radio_buttons": CHOICE_OPTIONS, "checkboxes": CHOICE_OPTIONS}.get(
        etype or "", SELECT_OPTIONS if etype in _SELECTS_WITH_OPTIONS else None)
    if limit is not None:
        yield from _count(el, "options", ptr, limit)
        for i, option in enumerate(_list(el, "options", ptr, limit)):
            yield from option_errors(option, f"{ptr}/options/{i}")
    if etype in _SELECTS_WITH_OPTIONS:
        yield from _count(el, "option_groups", ptr, OPTION_GROUPS)
        for g, group in enumerate(_list(el, "option_groups", ptr, OPTION_GROUPS)):
            gptr = f"{ptr}/option_groups/{g}"
            yield from _text(group, "label", gptr, GROUP_LABEL)
            if isinstance(group, dict):
                yield from _count(group, "options", gptr, SELECT_OPTIONS)
                for i, option in enumerate(_list(group, "options", gptr, SELECT_OPTIONS)):
                    yield from option_errors(option, f"{gptr}/options/{i}")
    if isinstance(el.get("initial_option"), dict):
        yield from option_errors(el["initial_option"], f"{ptr}/initial_option")
    for i, option in enumerate(_list(el, "initial_options", ptr, 0)):
        yield from option_errors(option, f"{ptr}/initial_options/{i}")
    if etype == "plain_text_input":
        for key, low in (("min_length", 0), ("max_length", 1)):
            value = el.get(key)
            if isinstance(value, int) and not low <= value <= INPUT_LENGTH:
                yield f"must be between {low} and {INPUT_LENGTH} [json-pointer:{ptr}/{key}]"


def block_errors(block: dict, ptr: str) -> Iterator[str]:
    """The limits of one block and of the elements inside it."""
    btype = block.get("type")
    yield from _str(block, "block_id", ptr, ID)
    if btype == "section":
        yield from _text(block, "text", ptr, SECTION_TEXT)
        yield from _count(block, "fields", ptr, SECTION_FIELDS)
        for i, field in enumerate(_list(block, "fields", ptr, SECTION_FIELDS)):
            if isinstance(field, dict):
                yield from _str(field, "text", f"{ptr}/fields/{i}", FIELD_TEXT)
        yield from element_errors(block.get("accessory"), f"{ptr}/accessory")
    elif btype == "header":
        yield from _text(block, "text", ptr, HEADER_TEXT)
    elif btype in ("context", "actions"):
        limit = CONTEXT_ELEMENTS if btype == "context" else ACTIONS_ELEMENTS
        yield from _count(block, "elements", ptr, limit)
        for i, el in enumerate(_list(block, "elements", ptr, limit)):
            eptr = f"{ptr}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                yield from _str(el, "alt_text", eptr, IMAGE_ALT)
            elif btype == "actions":
                yield from element_errors(el, eptr)
    elif btype == "input":
        yield from _text(block, "label", ptr, INPUT_LABEL)
        yield from _text(block, "hint", ptr, INPUT_HINT)
        yield from element_errors(block.get("element"), f"{ptr}/element")
    elif btype == "image":
        yield from _str(block, "alt_text", ptr, IMAGE_ALT)
        yield from _text(block, "title", ptr, TEXT)


def text_object_errors(node: Any, ptr: str) -> Iterator[str]:
    """Every text object anywhere: 1-3000 characters, a string (composition-objects/text-object)."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            text = node["text"]
            if not isinstance(text, str):
                yield f"must provide a string [json-pointer:{ptr}/text]"
            elif not text:
                yield f"must be more than 0 characters [json-pointer:{ptr}/text]"
            elif len(text) > TEXT:
                yield too_long(f"{ptr}/text", TEXT)
        for key, value in node.items():
            yield from text_object_errors(value, f"{ptr}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from text_object_errors(value, f"{ptr}/{i}")


def view_shell_errors(view: dict) -> Iterator[str]:
    """A modal's own fields: title / submit / close 24, private_metadata 3000, callback_id / external_id 255."""
    for key in ("title", "submit", "close"):
        yield from _text(view, key, "/view", VIEW_TITLE)
    yield from _str(view, "private_metadata", "/view", PRIVATE_METADATA)
    yield from _str(view, "callback_id", "/view", ID)
    yield from _str(view, "external_id", "/view", ID)


def blocks_text_length(blocks: Any) -> int:
    """The characters counted toward msg_blocks_too_long: every string stored under a `text` key anywhere in the
    blocks. That is every text object's `text` (section text and fields, header, context elements, button / option
    / option description / placeholder / label / hint / confirm-dialog texts...), rich_text's text elements and a
    markdown block's text; not values, URLs, alt_text or ids [UNVERIFIED: Slack does not say what it counts]."""
    if isinstance(blocks, dict):
        return sum(len(v) if key == "text" and isinstance(v, str) else blocks_text_length(v)
                   for key, v in blocks.items())
    if isinstance(blocks, list):
        return sum(blocks_text_length(v) for v in blocks)
    return 0
