"""Block Kit validation as Slack does it: structure (slack_sdk's own models) plus every documented limit.

`validate_blocks(blocks)` and `validate_view(view)` return Slack-style error strings ("<why> [json-pointer:...]"),
[] when valid; the Web API answers `invalid_blocks` (messages) or `invalid_arguments` (views) with them
(real-world.md §2 "How violations come back").
"""
from __future__ import annotations

import copy
import random
import string
import warnings
from typing import Any

from sandbox.fake_slack import limits

MAX_MESSAGE_BLOCKS = limits.MESSAGE_BLOCKS
MAX_VIEW_BLOCKS = limits.VIEW_BLOCKS

# Slack's own block ids: 3-5 characters of letters, digits and "+/=" ([OBS] "=qXel" in Slack's block_actions
# example payload, "=Uhq", "=S=o", "=he", "g5K" in payloads others logged). Length and alphabet: [UNVERIFIED].
_ID_CHARS = string.ascii_letters + string.digits + "+/="
_BLOCK_TYPES: set[str] | None = None
_ELEMENT_TYPES: set[str] | None = None


def _types() -> tuple[set[str], set[str]]:
    """Block and element types slack_sdk knows (computed once: importing the models is slow)."""
    global _BLOCK_TYPES, _ELEMENT_TYPES
    if _BLOCK_TYPES is None:
        from slack_sdk.models.blocks import Block, BlockElement

        def subclasses(cls):
            for sub in cls.__subclasses__():
                yield sub
                yield from subclasses(sub)

        _BLOCK_TYPES = {t for c in subclasses(Block) if isinstance(t := getattr(c, "type", None), str)}
        elements = {t for c in subclasses(BlockElement) if isinstance(t := getattr(c, "type", None), str)}
        _ELEMENT_TYPES = elements | {"plain_text", "mrkdwn"}
    return _BLOCK_TYPES, _ELEMENT_TYPES  # type: ignore[return-value]


def _block_elements(block: dict, ptr: str) -> list[tuple[Any, str]]:
    """The interactive/context elements of one block, with their JSON pointers."""
    found: list[tuple[Any, str]] = []
    btype = block.get("type")
    if btype in ("actions", "context", "context_actions"):
        for j, el in enumerate(block.get("elements") or []):
            found.append((el, f"{ptr}/elements/{j}"))
    if btype == "section" and block.get("accessory") is not None:
        found.append((block["accessory"], f"{ptr}/accessory"))
    if btype == "input" and block.get("element") is not None:
        found.append((block["element"], f"{ptr}/element"))
    return found


def _structure_errors(block: dict, ptr: str, block_ids: set[str]) -> list[str]:
    """Unknown types, duplicate block_id / action_id (action_id must be unique within its block)."""
    errors: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None:
        if block_id in block_ids:
            errors.append(f"duplicate block_id: {block_id} [json-pointer:{ptr}/block_id]")
        block_ids.add(block_id)
    _, element_types = _types()
    action_ids: set[str] = set()
    for el, eptr in _block_elements(block, ptr):
        if not isinstance(el, dict) or not el.get("type"):
            errors.append(f"missing required field: type [json-pointer:{eptr}]")
            continue
        if el["type"] not in element_types:
            errors.append(f"unsupported type: {el['type']} [json-pointer:{eptr}/type]")
            continue
        action_id = el.get("action_id")
        if action_id is not None:
            if action_id in action_ids:
                errors.append(f"duplicate action_id: {action_id} [json-pointer:{eptr}/action_id]")
            action_ids.add(action_id)
    return errors


def _model_errors(block: dict, ptr: str) -> list[str]:
    """What slack_sdk's models refuse (required fields, wrong shapes) once the limits passed."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackObjectFormationError(f"unsupported type: {block.get('type')}")
            parsed.to_dict()  # validates the block and, through to_dict(), its elements
    except SlackObjectFormationError as e:
        return [f"{e} [json-pointer:{ptr}]"]
    except TypeError as e:  # a required argument is missing
        msg = str(e)
        if "missing" in msg and "argument" in msg:
            field = msg.rsplit(":", 1)[-1].strip().strip("'")
            return [f"missing required field: {field} [json-pointer:{ptr}]"]
        return [f"invalid block: {msg} [json-pointer:{ptr}]"]
    except Exception as e:  # noqa: BLE001 - anything else the models choke on is refused too
        return [f"invalid block: {e} [json-pointer:{ptr}]"]
    return []


def validate_blocks(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS, prefix: str = "") -> list[str]:
    """Slack-style error strings ("<why> [json-pointer:/blocks/0/text]") for a `blocks` array; [] when valid."""
    block_types, _ = _types()
    base = f"{prefix}/blocks"
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{base}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(limits.too_many(base, limit))
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"{base}/{i}"
        if not isinstance(block, dict):
            errors.append(f"must be an object [json-pointer:{ptr}]")
            continue
        btype = block.get("type")
        if not btype:
            errors.append(f"missing required field: type [json-pointer:{ptr}]")
            continue
        if btype not in block_types:
            errors.append(f"unsupported type: {btype} [json-pointer:{ptr}/type]")
            continue
        found = _structure_errors(block, ptr, block_ids)
        found += limits.block_errors(block, ptr)
        found += limits.text_object_errors(block, ptr)
        found = list(dict.fromkeys(found))  # a section text over 3000 is one error, not two
        errors += found or _model_errors(block, ptr)
    return errors


def validate_view(view: Any) -> list[str]:
    """Error strings for a view payload ("[json-pointer:/view/...]"); [] when valid."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.views import View

    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    if vtype == "modal" and not view.get("title"):
        errors.append("missing required field: title [json-pointer:/view]")
    errors += limits.view_shell_errors(view)
    blocks = view.get("blocks")
    if blocks is None:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors.extend(validate_blocks(blocks, limit=MAX_VIEW_BLOCKS, prefix="/view"))
        inputs = [i for i, b in enumerate(blocks if isinstance(blocks, list) else [])
                  if isinstance(b, dict) and b.get("type") == "input"]
        if vtype == "modal" and inputs and not view.get("submit"):
            errors.append(f"must define `submit` to use an `input` block in modals "
                          f"[json-pointer:/view/blocks/{inputs[0]}/input]")
    if errors:
        return errors
    shell = {k: v for k, v in view.items() if k != "blocks"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            View(**shell, blocks=[{"type": "divider"}]).validate_json()
    except SlackObjectFormationError as e:
        errors.append(f"{e} [json-pointer:/view]")
    except TypeError as e:
        errors.append(f"invalid view: {e} [json-pointer:/view]")
    return errors


def initial_state(blocks: list) -> dict:
    """What Slack puts in `view.state.values` before the user touches anything: each input's initial value."""
    values: dict = {}
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        entry: dict = {"type": element.get("type")}
        if "initial_option" in element:
            entry["selected_option"] = copy.deepcopy(element["initial_option"])
        elif element.get("type", "").endswith("_select"):
            entry["selected_option"] = None
        elif "initial_options" in element:
            entry["selected_options"] = copy.deepcopy(element["initial_options"])
        else:
            entry["value"] = element.get("initial_value")
        values[block.get("block_id")] = {element.get("action_id"): entry}
    return values


def with_block_ids(blocks: Any, rng: random.Random) -> Any:
    """A copy of `blocks` in which every block that came without a `block_id` has one of Slack's (a short random
    string, unique within the message or view); ids the app sent are kept as they are."""
    if not isinstance(blocks, list):
        return blocks
    out = copy.deepcopy(blocks)
    taken = {b.get("block_id") for b in out if isinstance(b, dict)}
    for block in out:
        if isinstance(block, dict) and not block.get("block_id"):
            new = ""
            while not new or new in taken:
                new = "".join(rng.choice(_ID_CHARS) for _ in range(rng.randint(3, 5)))
            block["block_id"] = new
            taken.add(new)
    return out
