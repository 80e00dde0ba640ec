"""What a person does in the ConnectBooster portal, for guided mode: resync an invoice, run a sync;
and, in any mode, what ConnectBooster support does about a stuck sync (the console's "End the stuck sync").

The console's books panel offers these as buttons, so a newcomer can walk the guided checklist in the browser:
the bot tells them what to do in the thread, they do it here, the ConnectBooster emulator changes exactly as
it does when the API asks (the same engine, the same timing), and they confirm in the thread.
"""
from __future__ import annotations

import json
import re
from datetime import date

from sandbox.cb_api import ApiError

END_STUCK = {"end_stuck_sync": {
    "label": "End the stuck sync",
    "what": "ConnectBooster support clears the stuck run: it ends as failed, and new syncs can start again.",
    "bot": "The bot sees the run end: its thread offers Sync again, which starts a new run.",
}}
# The thread messages that ask the person to run Sync Now: a job's step 2, a sweep's checklist, its undo's.
ASKS_FOR_SYNC = ("guided_sync_finished", "sweep_guided_done", "sweep_undo_done")
SYNC_FROM = re.compile(r"sync from \*(\d{4}-\d{2}-\d{2})\*")


def resync_invoice(cb, number: str) -> str:
    """Entities → Invoices → search the number → ⋯ → Resync."""
    if cb.portal_resync(number) is None:
        return f"ConnectBooster has no invoice {number} (the sync brings new invoices)."
    return f"Resync of invoice {number} requested in ConnectBooster; its balance updates in a moment."


def sync_now(cb, sync_from: date | None = None) -> str:
    """Integrations → QuickBooks Online → Sync Now, from the date the person entered (yesterday if none)."""
    try:
        run = cb.portal_sync_now(sync_from)
    except ApiError as e:
        return f"Sync Now refused: {e.message}."
    return f"Sync {run['id']} requested from {run['sync_from']}: {run['status']} (the PSA stage runs first)."


def asked_sync_from(channels: list[dict]) -> str | None:
    """The date the newest checklist in the channels' threads asks Sync Now to run from, as the person reads it
    (the console prefills its date field with it, so what the thread says and what runs agree)."""
    asked = []
    for channel in channels:
        for parent in channel.get("messages") or []:
            for message in [parent, *(parent.get("replies") or [])]:
                blocks = json.dumps(message.get("blocks") or [], ensure_ascii=False)
                found = SYNC_FROM.search(blocks) if any(a in blocks for a in ASKS_FOR_SYNC) else None
                if found:
                    asked.append((float(message["ts"]), found.group(1)))
    return max(asked)[1] if asked else None


def end_stuck_sync(cb) -> str:
    """Support clears the pending or active QuickBooks Online sync (it fails, and a new one may start)."""
    try:
        run = cb.end_stuck_sync()
    except ApiError:
        return "No ConnectBooster sync is pending or active right now: nothing to end."
    return f"Sync {run['id']} ended: {run['error']}"
