"""The console's "Make something go wrong" menu: each documented trouble, what it does, and what the bot does then
(worded for the mode the bot runs in: in guided mode the troubles hit the sync the person runs)."""
from __future__ import annotations

from sandbox.console import person as person_actions


def fault_catalogue(sync_timeout: float, guided: bool = False) -> dict[str, dict]:
    """The documented troubles the page can arm: what happens, and what the bot will do about it."""
    if guided:  # the bot never calls ConnectBooster: the troubles hit the sync the person runs in the books panel
        return {**fault_catalogue(sync_timeout), **GUIDED_TROUBLES}
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
            "bot": f"After {int(sync_timeout)} s the thread says the sync is stuck, what is already done and what "
                   "helps; the bot keeps watching it and offers Sync again once the run ends (End the stuck sync).",
        },
        "qbo_429": {
            "label": "Throttle QuickBooks",
            "what": "QuickBooks answers the next 3 requests with HTTP 429 (Retry-After: 2 s).",
            "bot": "The bot waits as asked and retries: the step just takes a few seconds longer, and each write "
                   "keeps its requestid, so nothing is recorded twice.",
        },
        **person_actions.END_STUCK,  # not a trouble: the way out of a stuck sync
    }


GUIDED_TROUBLES = {
    "fail_sync": {"label": "Fail the next sync", "what": "The next Sync Now you run in the books panel fails.",
                  "bot": "Answer \"Sync failed\" in the thread: it says QuickBooks is already recorded and how to run "
                         "the sync again in the portal."},
    "stuck_pending": {"label": "Stick the next sync", "what": "The next Sync Now stays pending, and ConnectBooster "
                      "refuses another until it is ended below.",
                      "bot": "The step waits for your confirmation; the thread reminds you after GUIDED_REMIND_MINUTES "
                             "and, after a day, the request needs attention. End the stuck sync, then run Sync Now again."},
}
