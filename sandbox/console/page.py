"""Slack-like pieces of the page, rendered server-side: messages with threads, ephemerals, modals."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sandbox.console.mrkdwn import mrkdwn_html, plain_of
from sandbox.console.render import Ctx, blocks_html, dom_id, esc, txt


def clock(ts: str) -> str:
    """A message ts as local HH:MM:SS (what Slack shows on hover, to the second: steps come fast)."""
    try:
        return datetime.fromtimestamp(float(ts)).strftime("%H:%M:%S")
    except (TypeError, ValueError):
        return ""


def _author(msg: dict, users: Mapping[str, str]) -> tuple[str, bool]:
    if msg.get("bot_id") or (msg.get("bot_profile") or {}).get("name"):
        return (msg.get("bot_profile") or {}).get("name") or "applycredit", True
    uid = msg.get("user") or ""
    return users.get(uid, uid or "someone"), False


def message_html(msg: dict, users: Mapping[str, str], channels: Mapping[str, str], *,
                 replies: list[dict] | None = None) -> str:
    """One message (or ephemeral) as an <article>, its thread (replies) collapsed under a toggle."""
    ts = str(msg.get("ts", ""))
    ephemeral = bool(msg.get("is_ephemeral"))
    author, is_bot = _author(msg, users)
    ctx = Ctx(users=users, channels=channels, scope=("e" if ephemeral else "m") + ts)
    if msg.get("blocks"):
        body = blocks_html(msg["blocks"], ctx)
    else:
        body = f'<div class="sk-text">{mrkdwn_html(msg.get("text", ""), users, channels)}</div>'
    head = [f'<span class="msg-author">{esc(author)}</span>']
    if is_bot:
        head.append('<span class="app-badge">APP</span>')
    head.append(f'<time datetime="{esc(ts)}">{clock(ts)}</time>')
    if msg.get("edited"):
        head.append('<span class="edited">(edited)</span>')
    only = ('<p class="only-you"><span aria-hidden="true">👁</span> Only visible to you</p>' if ephemeral else "")
    thread = ""
    if replies:
        tid = dom_id(ctx, "thread")
        count = sum(1 for r in replies if not r.get("is_ephemeral"))
        label = f"{count} repl{'y' if count == 1 else 'ies'}"
        last = clock(str(replies[-1].get("ts", "")))
        items = "".join(message_html(r, users, channels) for r in replies)
        thread = (f'<button type="button" class="thread-toggle" aria-expanded="false" aria-controls="{tid}" '
                  f'data-thread="{esc(ts)}">{label}<span class="thread-last"> · last reply {last}</span></button>'
                  f'<div class="thread" id="{tid}" role="region" aria-label="Thread: {label}" hidden>{items}</div>')
    classes = "msg" + (" msg-bot" if is_bot else "") + (" msg-ephemeral" if ephemeral else "")
    initial = esc((author[:1] or "?").upper())
    return (f'<article class="{classes}" data-kind="{"ephemeral" if ephemeral else "message"}" '
            f'data-channel="{esc(msg.get("channel"))}" data-ts="{esc(ts)}">'
            f'<div class="avatar{" avatar-bot" if is_bot else ""}" aria-hidden="true">{initial}</div>'
            f'<div class="msg-main"><div class="msg-head">{"".join(head)}</div>{only}'
            f'<div class="msg-body">{body}</div>{thread}</div></article>')


def timeline(channel: dict, ephemerals: list[dict], users: Mapping[str, str],
             channels: Mapping[str, str]) -> list[dict]:
    """A channel's items in order: messages (with replies and in-thread ephemerals) and the viewer's ephemerals.
    Each item is {key, html, text}: the page swaps an item only when its html changed (focus stays put)."""
    cid = channel.get("id")
    mine = [e for e in ephemerals if e.get("channel") == cid]
    in_thread: dict[str, list[dict]] = {}
    top: list[dict] = []
    for e in mine:
        (in_thread.setdefault(e["thread_ts"], []) if e.get("thread_ts") else top).append(e)
    items = []
    for msg in channel.get("messages") or []:
        replies = sorted([*(msg.get("replies") or []), *in_thread.get(msg.get("ts"), [])],
                         key=lambda m: float(m.get("ts", 0)))
        items.append((float(msg.get("ts", 0)), msg, replies))
    items += [(float(e.get("ts", 0)), e, []) for e in top]
    items.sort(key=lambda t: t[0])
    return [{"key": ("e" if m.get("is_ephemeral") else "m") + str(m.get("ts")),
             "html": message_html({**m, "channel": cid}, users, channels, replies=r),
             "text": m.get("text", ""), "replies": [x.get("text", "") for x in r]} for _, m, r in items]


def modal_html(view: dict, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """The top modal of the viewer's stack: title, blocks (with the user's state and validation errors), buttons."""
    vid = str(view.get("id", "view"))
    ctx = Ctx(users=users, channels=channels, scope=vid, state=(view.get("state") or {}).get("values") or {},
              errors=view.get("validation_errors") or {})
    form_id = f"form-{esc(vid)}"
    submit = (f'<button type="submit" form="{form_id}" class="sk-btn sk-btn-primary modal-submit">'
              f'{esc(plain_of(view.get("submit")))}</button>') if view.get("submit") else ""
    close = esc(plain_of(view.get("close")) or "Close")
    return (f'<div class="modal" role="dialog" aria-modal="true" aria-labelledby="title-{esc(vid)}" '
            f'data-view-id="{esc(vid)}"><div class="modal-head"><h2 id="title-{esc(vid)}">'
            f'{txt(view.get("title"), ctx)}</h2><button type="button" class="modal-x modal-close" '
            f'aria-label="Close the modal">×</button></div>'
            f'<form class="modal-body" id="{form_id}" data-view-id="{esc(vid)}" novalidate>'
            f'{blocks_html(view.get("blocks") or [], ctx)}</form>'
            f'<div class="modal-foot"><button type="button" class="sk-btn modal-close">{close}</button>{submit}</div>'
            f"</div>")


def names(state: dict) -> tuple[dict[str, str], dict[str, str]]:
    """User id → display name and channel id → name, for mentions."""
    users = {u["id"]: (u.get("profile") or {}).get("display_name") or u.get("name") or u["id"]
             for u in state.get("users") or []}
    chans = {c["id"]: c.get("name") or c["id"] for c in state.get("channels") or []}
    return users, chans

