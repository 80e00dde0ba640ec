"""What a person does in the ConnectBooster portal, for guided mode: resync an invoice, run a sync;
and, in any mode, what ConnectBooster support does about a stuck sync (the console's "End the stuck sync").

The console's books panel offers these as buttons, so a newcomer can walk the guided checklist in the browser:
the bot tells them what to do in the thread, they do it here, the ConnectBooster emulator changes exactly as
it does when the API asks (the same engine, the same timing), and they confirm in the thread.
"""
from __future__ import annotations

from datetime import date, timedelta

from sandbox.cb_api import ApiError

QBO = "quickbooks_online"
END_STUCK = {"end_stuck_sync": {
    "label": "End the stuck sync",
    "what": "ConnectBooster support clears the stuck run: it ends as failed, and new syncs can start again.",
    "bot": "The bot sees the run end: its thread offers Sync again, which starts a new run.",
}}


def resync_invoice(cb, number: str) -> str:
    """Entities → Invoices → search the number → ⋯ → Resync."""
    with cb._lock:  # the emulator's own lock: the same one its HTTP API takes
        cb.engine.advance(cb.clock())
        found = next((i for i in cb.state.invoices.values() if str(i.number) == str(number)), None)
        if found is None:
            return f"ConnectBooster has no invoice {number} (the sync brings new invoices)."
        cb.engine.start_resync(found.id, cb.clock())
    return f"Resync of invoice {number} requested in ConnectBooster; its balance updates in a moment."


def sync_now(cb, sync_from: date | None = None) -> str:
    """Integrations → QuickBooks Online → Sync Now (from yesterday unless a date is given)."""
    with cb._lock:
        cb.engine.advance(cb.clock())
        start = sync_from or cb.state.today() - timedelta(days=1)
        try:
            run = cb.begin_sync(QBO, "manual", start, "POST", f"/integrations/{QBO}/syncs")
        except ApiError as e:
            return f"Sync Now refused: {e.message}."
    return f"Sync {run['id']} requested from {start.isoformat()}: {run['status']} (the PSA stage runs first)."


def end_stuck_sync(cb) -> str:
    """Support clears the pending or active QuickBooks Online sync (it fails, and a new one may start)."""
    try:
        run = cb.end_stuck_sync()
    except ApiError:
        return "No ConnectBooster sync is pending or active right now: nothing to end."
    return f"Sync {run['id']} ended: {run['error']}"
