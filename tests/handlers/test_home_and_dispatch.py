"""App Home for an approver, a requester and an outsider; Bolt's verification of what reaches `app.dispatch`."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest

from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER


def home(world, user: str) -> dict:
    before = len(world.slack.calls_to("views.publish"))
    assert world.driver.app_home_opened(user).status == 200
    world.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > before)
    return world.slack.views(user)["home"]


def lists(view: dict) -> dict[str, list[str]]:
    """{heading: [the job numbers listed under it]} of a Home view."""
    out: dict[str, list[str]] = {}
    current = None
    for block in view["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and text.startswith("*") and not text.startswith("*#"):
            current = text.split("*")[1]
            out[current] = []
        elif block["type"] == "section" and current:
            out[current].append(text.split("*")[1])
    return out


def test_home_shows_each_person_what_is_theirs_to_see(world):
    waiting = world.request(invoice="10040", amount="10")                       # REQUESTER's, awaiting approval
    own = world.request("Blue Heron Marine", invoice="10050", amount="5", user=APPROVER)  # an approver's own

    approver = lists(home(world, APPROVER_2))
    assert sorted(approver["Waiting for your approval"]) == sorted([f"#{waiting}", f"#{own}"])
    assert approver["Your requests"] == []

    approver_own = lists(home(world, APPROVER))  # never asked to approve their own request
    assert approver_own["Waiting for your approval"] == [f"#{waiting}"]
    assert approver_own["Your requests"] == [f"#{own}"]

    requester = lists(home(world, REQUESTER))  # not an approver: no approvals section at all
    assert "Waiting for your approval" not in requester and requester["Your requests"] == [f"#{waiting}"]

    outsider = lists(home(world, OUTSIDER))
    assert "Waiting for your approval" not in outsider
    assert all(rows == [] for rows in outsider.values())  # nobody else's work


def test_a_request_signed_with_another_secret_never_reaches_a_listener(world):
    body = urlencode({"command": "/applycredit", "text": "Atomar", "user_id": REQUESTER, "channel_id": CHANNEL,
                      "trigger_id": world.slack.issue_trigger_id(REQUESTER), "team_id": world.slack.team_id})
    good = world.driver.sign(body, int(time.time()))
    forged = {**good, "X-Slack-Signature": "v0=" + "0" * 64}
    stale = world.driver.sign(body, int(time.time()) - 600)  # Slack's window is five minutes
    for headers in (forged, stale, {}):
        resp = world.bot.app.dispatch(BoltRequest(body=body, headers=headers))
        assert resp.status == 401
    assert world.slack.calls_to("views.open") == []
    resp = world.bot.app.dispatch(BoltRequest(body=body, headers=good))
    assert resp.status == 200
    world.slack.wait_for(lambda s: s.calls_to("views.open"))
