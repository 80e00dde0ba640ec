"""The documented troubles the console's page can arm (moved out of server.py, which had grown past 300 lines)."""
from __future__ import annotations

from sandbox.console import person as person_actions


def fault_catalogue(sync_timeout: float) -> dict[str, dict]:
    """The documented troubles the page can arm: what happens, and what the bot will do about it."""
    return {
        "fail_sync": {
            "label": "Fail the next sync",
            "what": "ConnectBooster's next integration sync fails.",
            "bot": "The thread says the sync failed, that QuickBooks is already recorded, and offers Sync again "
                   "(nothing is written to QuickBooks twice).",
        },
        "stuck_pending": {
            "label": "Stick the next sync",
            "what": "ConnectBooster's next sync stays pending, blocking new syncs, until it is ended below.",
            "bot": f"The bot keeps polling; after {int(sync_timeout)} s it reports the sync as stuck in the thread, "
                   "alerts the notify channel, and offers Sync again.",
        },
        "qbo_429": {
            "label": "Throttle QuickBooks",
            "what": "QuickBooks answers the next 3 requests with HTTP 429 (Retry-After: 2 s).",
            "bot": "The bot waits as asked and retries: the step just takes a few seconds longer, and each write "
                   "keeps its requestid, so nothing is recorded twice.",
        },
        **person_actions.END_STUCK,  # not a trouble: the way out of a stuck sync
    }
