"""Block Kit → HTML, server-side and pure: every block and element the bot uses, a visible placeholder for
anything else. Interactive elements carry data-* attributes (action_id, block_id, type, value) that the page's
script turns into block_actions / view_submission payloads; nothing here talks to anything.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.console.mrkdwn import plain_of, text_html

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Ctx:
    """What rendering needs besides the blocks: names for mentions, a unique id scope, a view's state/errors."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    scope: str = "m"
    state: Mapping[str, Any] = field(default_factory=dict)  # view.state.values
    errors: Mapping[str, str] = field(default_factory=dict)  # view.validation_errors: block_id -> message


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def dom_id(ctx: Ctx, *parts: Any) -> str:
    """A DOM id unique per message/view and element."""
    return "-".join(_UNSAFE_ID.sub("_", str(p)) for p in ("sk", ctx.scope, *parts) if p not in (None, ""))


def txt(obj: Any, ctx: Ctx) -> str:
    return text_html(obj, ctx.users, ctx.channels)


def placeholder(kind: str, type_name: Any) -> str:
    """What an unknown block or element shows: visible, readable, harmless."""
    return (f'<div class="sk-unknown" role="note">Unsupported {esc(kind)} type '
            f'<code>{esc(type_name or "(none)")}</code>: Slack would show it; this console cannot yet.</div>')


def _attrs(el: dict, block_id: str | None, extra: str = "") -> str:
    return (f'data-action-id="{esc(el.get("action_id"))}" data-block-id="{esc(block_id)}" '
            f'data-type="{esc(el.get("type"))}"{extra}')


# ---- elements -------------------------------------------------------------------------------------------


def confirm_html(confirm: dict, ctx: Ctx) -> str:
    """A confirmation dialog's content, inert in a <template> until the script shows it."""
    style = confirm.get("style") or ""
    return (f'<template class="sk-confirm" data-style="{esc(style)}">'
            f'<h2 class="sk-confirm-title">{txt(confirm.get("title"), ctx)}</h2>'
            f'<div class="sk-confirm-text">{txt(confirm.get("text"), ctx)}</div>'
            f'<span class="sk-confirm-yes">{esc(plain_of(confirm.get("confirm")) or "Yes")}</span>'
            f'<span class="sk-confirm-no">{esc(plain_of(confirm.get("deny")) or "Cancel")}</span></template>')


def button_html(el: dict, ctx: Ctx, block_id: str | None) -> str:
    style = el.get("style")
    cls = "sk-btn" + (f" sk-btn-{style}" if style in ("primary", "danger") else "")
    extra = f' data-value="{esc(el.get("value", ""))}"'
    if el.get("url"):
        extra += f' data-url="{esc(el["url"])}"'
    label = f' aria-label="{esc(el["accessibility_label"])}"' if el.get("accessibility_label") else ""
    body = (f'<button type="button" class="{cls} sk-dispatch"{label} {_attrs(el, block_id, extra)}>'
            f'{txt(el.get("text"), ctx)}</button>')
    if isinstance(el.get("confirm"), dict):
        body = f'<span class="sk-confirmable">{body}{confirm_html(el["confirm"], ctx)}</span>'
    return body


def _options(el: dict) -> list[dict]:
    opts = [o for o in el.get("options") or [] if isinstance(o, dict)]
    for group in el.get("option_groups") or []:
        opts.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return opts


def _selected(el: dict, ctx: Ctx, block_id: str | None) -> dict | None:
    """The option a select/radio shows: the view's state first (what the user chose), else initial_option."""
    entry = (ctx.state.get(block_id) or {}).get(el.get("action_id")) if block_id else None
    if isinstance(entry, dict) and "selected_option" in entry:
        return entry["selected_option"]
    return el.get("initial_option")


def _chosen(el: dict, ctx: Ctx, block_id: str | None) -> list[dict]:
    """The options a multi-select shows chosen: the view's state first, else its initial_options."""
    entry = (ctx.state.get(block_id) or {}).get(el.get("action_id")) if block_id else None
    found = entry["selected_options"] if isinstance(entry, dict) and "selected_options" in entry else \
        el.get("initial_options")
    return [o for o in found or [] if isinstance(o, dict)]


def _option_tag(opt: dict, selected: set) -> str:
    value = opt.get("value", "")
    sel = " selected" if value in selected else ""
    return f'<option value="{esc(value)}"{sel}>{esc(plain_of(opt.get("text")))}</option>'


EXTERNAL = ("external_select", "multi_external_select")  # options asked of the bot as one types


def select_html(el: dict, ctx: Ctx, block_id: str | None, label: str, *, field_id: str, dispatch: bool) -> str:
    """Static / external selects (multi ones too) as a native <select>; external ones get a search box (the bot's)."""
    multi = str(el.get("type")).startswith("multi_")
    chosen = _chosen(el, ctx, block_id) if multi else \
        [c for c in [_selected(el, ctx, block_id)] if isinstance(c, dict)]
    values = {c.get("value") for c in chosen}
    placeholder_text = plain_of(el.get("placeholder")) or "Choose an option"
    cls = "sk-select" + (" sk-dispatch" if dispatch else " sk-field")
    opts = _options(el)
    if el.get("type") in EXTERNAL:  # what was chosen stays listed while the search shows other options
        opts = [c for c in chosen if not any(o.get("value") == c.get("value") for o in opts)] + opts
    tags = [] if multi else [f'<option value=""{"" if values else " selected"} disabled>{esc(placeholder_text)}</option>']
    tags += [_option_tag(o, values) for o in opts]
    select = (f'<select id="{field_id}" class="{cls}"{" multiple" if multi else ""} {_attrs(el, block_id)}>'
              f'{"".join(tags)}</select>')
    if el.get("type") not in EXTERNAL:
        return select
    return (f'<div class="sk-external"><input type="search" id="{field_id}-search" class="sk-search" '
            f'data-min-query="{esc(el.get("min_query_length", 3))}" data-for="{field_id}" '
            f'aria-label="Search {esc(label)}" aria-controls="{field_id}" placeholder="{esc(placeholder_text)}" '
            f'autocomplete="off">{select}</div>')


def radios_html(el: dict, ctx: Ctx, block_id: str | None, label: str, *, field_id: str, dispatch: bool) -> str:
    chosen = _selected(el, ctx, block_id)
    chosen_value = chosen.get("value") if isinstance(chosen, dict) else None
    items = []
    for i, opt in enumerate(_options(el)):
        oid = f"{field_id}-{i}"
        checked = " checked" if opt.get("value") == chosen_value else ""
        desc = f'<span class="sk-desc">{txt(opt.get("description"), ctx)}</span>' if opt.get("description") else ""
        items.append(f'<div class="sk-radio"><input type="radio" id="{oid}" name="{field_id}" '
                     f'value="{esc(opt.get("value", ""))}"{checked}>'
                     f'<label for="{oid}">{txt(opt.get("text"), ctx)}{desc}</label></div>')
    cls = "sk-radios" + (" sk-dispatch" if dispatch else " sk-field")
    return (f'<fieldset id="{field_id}" class="{cls}" {_attrs(el, block_id)}>'
            f'<legend class="sk-sr">{esc(label)}</legend>{"".join(items)}</fieldset>')


def _state_value(el: dict, ctx: Ctx, block_id: str | None) -> Any:
    entry = (ctx.state.get(block_id) or {}).get(el.get("action_id")) if block_id else None
    if isinstance(entry, dict) and entry.get("value") is not None:
        return entry["value"]
    return el.get("initial_value")


def text_input_html(el: dict, ctx: Ctx, block_id: str | None, label: str, *, field_id: str, dispatch: bool) -> str:
    value = _state_value(el, ctx, block_id)
    common = (f'id="{field_id}" class="sk-input sk-field" {_attrs(el, block_id)} '
              f'placeholder="{esc(plain_of(el.get("placeholder")))}"')
    if el.get("max_length"):
        common += f' maxlength="{esc(el["max_length"])}"'
    if el.get("min_length"):
        common += f' minlength="{esc(el["min_length"])}"'
    if el.get("multiline"):
        return f'<textarea {common} rows="3">{esc(value or "")}</textarea>'
    return f'<input type="text" {common} value="{esc(value or "")}">'


def number_input_html(el: dict, ctx: Ctx, block_id: str | None, label: str, *, field_id: str, dispatch: bool) -> str:
    value = _state_value(el, ctx, block_id)
    decimal = bool(el.get("is_decimal_allowed"))
    extra = f' step="{"any" if decimal else "1"}" inputmode="{"decimal" if decimal else "numeric"}"'
    for key in ("min_value", "max_value"):
        if el.get(key) is not None:
            extra += f' {key[:3]}="{esc(el[key])}"'
    return (f'<input type="number" id="{field_id}" class="sk-input sk-field" {_attrs(el, block_id)}{extra} '
            f'placeholder="{esc(plain_of(el.get("placeholder")))}" value="{esc(value or "")}">')


FIELD_RENDERERS: dict[str, Callable[..., str]] = {
    "static_select": select_html, "external_select": select_html, "radio_buttons": radios_html,
    "multi_static_select": select_html, "multi_external_select": select_html,
    "plain_text_input": text_input_html, "number_input": number_input_html,
}


def element_html(el: Any, ctx: Ctx, block_id: str | None, *, label: str = "", dispatch: bool = True) -> str:
    """One interactive element (actions, accessory, input); a placeholder for types this console lacks."""
    if not isinstance(el, dict):
        return placeholder("element", type(el).__name__)
    etype = el.get("type")
    if etype == "button":
        return button_html(el, ctx, block_id)
    if etype == "image":
        alt = esc(el.get("alt_text"))
        return f'<span class="sk-image" role="img" aria-label="{alt}">[image: {alt}]</span>'
    renderer = FIELD_RENDERERS.get(etype)
    if renderer is None:
        return placeholder("element", etype)
    field_id = dom_id(ctx, block_id, el.get("action_id"))
    label = label or plain_of(el.get("placeholder")) or str(el.get("action_id") or etype)
    inner = renderer(el, ctx, block_id, label, field_id=field_id, dispatch=dispatch)
    if dispatch and etype != "radio_buttons":  # an element outside an input block: name it for screen readers
        inner = f'<label class="sk-sr" for="{field_id}">{esc(label)}</label>{inner}'
    return inner


# ---- blocks ---------------------------------------------------------------------------------------------


def _section(block: dict, ctx: Ctx) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="sk-text">{txt(block["text"], ctx)}</div>')
    if block.get("fields"):
        cells = "".join(f'<div class="sk-field-cell">{txt(f, ctx)}</div>' for f in block["fields"])
        parts.append(f'<div class="sk-fields">{cells}</div>')
    body = f'<div class="sk-section-body">{"".join(parts)}</div>'
    if block.get("accessory") is not None:
        body += f'<div class="sk-accessory">{element_html(block["accessory"], ctx, block.get("block_id"))}</div>'
    return f'<div class="sk-block sk-section">{body}</div>'


def _context(block: dict, ctx: Ctx) -> str:
    items = []
    for el in block.get("elements") or []:
        if isinstance(el, dict) and el.get("type") in ("mrkdwn", "plain_text"):
            items.append(f"<span>{txt(el, ctx)}</span>")
        else:
            items.append(element_html(el, ctx, block.get("block_id")))
    return f'<div class="sk-block sk-context">{"".join(items)}</div>'


def _actions(block: dict, ctx: Ctx) -> str:
    els = "".join(element_html(el, ctx, block.get("block_id")) for el in block.get("elements") or [])
    return f'<div class="sk-block sk-actions" role="group">{els}</div>'


def _input(block: dict, ctx: Ctx) -> str:
    el = block.get("element") or {}
    bid = block.get("block_id")
    field_id = dom_id(ctx, bid, el.get("action_id"))
    label = plain_of(block.get("label"))
    optional = ' <span class="sk-optional">(optional)</span>' if block.get("optional") else ""
    error = ctx.errors.get(bid) if bid else None
    inner = element_html(el, ctx, bid, label=label, dispatch=bool(block.get("dispatch_action")))
    # the field points at its hint and error, so screen readers read them with it
    described = f'{field_id}-hint' + (f' {field_id}-error' if error else "")
    invalid = ' aria-invalid="true"' if error else ""
    inner = inner.replace(f' id="{field_id}"', f' id="{field_id}" aria-describedby="{described}"{invalid}', 1)
    if el.get("type") == "radio_buttons":  # the fieldset's legend names the group; this is the visible title
        label_html = f'<span class="sk-label" aria-hidden="true">{esc(label)}{optional}</span>'
    else:
        label_html = f'<label class="sk-label" for="{field_id}">{esc(label)}{optional}</label>'
    hint = f'<p class="sk-hint" id="{field_id}-hint">{txt(block.get("hint"), ctx)}</p>' if block.get("hint") else \
        f'<span id="{field_id}-hint" hidden></span>'
    err = f'<p class="sk-error" id="{field_id}-error" role="alert">{esc(error)}</p>' if error else ""
    return (f'<div class="sk-block sk-input-block{" sk-has-error" if error else ""}" data-block-id="{esc(bid)}" '
            f'data-optional="{str(bool(block.get("optional"))).lower()}">{label_html}{inner}{err}{hint}</div>')


def _header(block: dict, ctx: Ctx) -> str:
    return f'<h3 class="sk-block sk-header">{txt(block.get("text"), ctx)}</h3>'


def _divider(block: dict, ctx: Ctx) -> str:
    return '<hr class="sk-block sk-divider">'


def _image(block: dict, ctx: Ctx) -> str:
    alt = esc(block.get("alt_text"))
    return f'<div class="sk-block sk-image" role="img" aria-label="{alt}">[image: {alt}]</div>'


BLOCK_RENDERERS: dict[str, Callable[[dict, Ctx], str]] = {
    "section": _section, "context": _context, "actions": _actions, "input": _input, "header": _header,
    "divider": _divider, "image": _image,
}


def block_html(block: Any, ctx: Ctx) -> str:
    """One block; a placeholder for an unknown type, or if rendering fails (the page must not break)."""
    if not isinstance(block, dict):
        return placeholder("block", type(block).__name__)
    renderer = BLOCK_RENDERERS.get(block.get("type"))
    if renderer is None:
        return placeholder("block", block.get("type"))
    try:
        return renderer(block, ctx)
    except Exception as e:  # noqa: BLE001 - a malformed block shows as such, the rest of the page still renders
        return placeholder("block", f'{block.get("type")} ({type(e).__name__})')


def blocks_html(blocks: Any, ctx: Ctx) -> str:
    if not isinstance(blocks, list):
        return placeholder("blocks", type(blocks).__name__)
    return "".join(block_html(b, ctx) for b in blocks)
