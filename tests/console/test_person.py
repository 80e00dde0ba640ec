"""Guided mode's portal actions in the console: Sync Now runs from the date in the books panel, prefilled with the
date the newest checklist in the thread asks for."""
from __future__ import annotations

import pytest

from sandbox.console.person import asked_sync_from
from tests.console.test_api import post, state
from tests.scenarios.world import REQUESTER


def _message(ts: str, text: str, action: str, replies=()) -> dict:
    return {"ts": ts, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                                 {"type": "actions", "elements": [{"type": "button", "action_id": action}]}],
            "replies": list(replies)}


def test_the_date_asked_for_is_the_newest_checklists():
    step_2 = _message("10.1", "4. Adjust the sync date range: sync from *2026-10-01* (the day before …)",
                      "guided_sync_finished")
    sweep = _message("12.5", "*Step 2 of 3 — Run the sync once*: … sync from *2026-08-20* (the day …)",
                     "sweep_guided_done")
    advice = _message("13.0", "widen the sync date range (set it back before 2026-07-01 …)", "guided_still_shows")
    parent = {"ts": "9.0", "blocks": [], "replies": [step_2, advice]}
    assert asked_sync_from([{"messages": [parent]}]) == "2026-10-01"
    assert asked_sync_from([{"messages": [parent, {**sweep, "replies": []}]}]) == "2026-08-20"  # newer
    assert asked_sync_from([{"messages": [{"ts": "1.0", "blocks": [], "replies": [advice]}]}]) is None


@pytest.fixture
def guided_console(tmp_path):
    from sandbox.console import start_console
    from tests.scenarios.world import World

    world = World(tmp_path, settings={"connectbooster_mode": "guided"}, transport="http")
    world.sandbox.bot_url = world.driver.bot_url
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds, guided=True)
    yield world
    world.console.stop()
    world.close()


def test_sync_now_runs_from_the_date_entered_and_refuses_a_bad_one(guided_console):
    world = guided_console
    assert 'id="sync-from"' in state(world)["books"]["html"] and state(world)["books"]["sync_from"] is None
    answer = post(world, "person", user=REQUESTER, do="sync", sync_from="2026-11-01").json()
    assert answer["ok"] and "requested from 2026-11-01" in answer["message"]
    assert world.cb.snapshot()["syncs"][0]["sync_from"] == "2026-11-01"
    bad = post(world, "person", user=REQUESTER, do="sync", sync_from="01/11/2026")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
