"""The inbox listeners and the command's modal opening, in-process: buttons from someone else's (or a stale)
inbox, refusals and outages shown in the modal, and a command whose trigger Slack no longer honours."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest

from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER

STALE = "This inbox is not valid any more; run `/applycredit` again."


def open_inbox(world, user: str = REQUESTER) -> dict:
    earlier = {v["id"] for v in world.slack.views(user)["modals"]}  # the command returns before views.open
    assert world.driver.command(user, CHANNEL, "").status == 200
    return world.slack.wait_for(lambda s: (m := [v for v in s.views(user)["modals"] if v["id"] not in earlier])
                                and "Reading every client" not in str(m[-1]["blocks"]) and m[-1])


def answer(world, view: dict, user: str, action_id: str, value: str | None = None) -> dict:
    """Click in the inbox and return the modal after the bot's views.update."""
    before = len(world.slack.calls_to("views.update"))
    assert world.driver.click(user, action_id, source=view, value=value, element_type="button", block_id="b").ok
    world.slack.wait_for(lambda s: len(s.calls_to("views.update")) > before, timeout=10)
    return world.slack.view(view["id"])


@pytest.mark.parametrize(("action_id", "value"), [
    ("inbox_page_next", "{draft}|1"),
    ("inbox_apply", "{draft}|501"),
    ("inbox_resync", "{draft}|507|credit_memo:155"),
])
def test_someone_elses_inbox_buttons_are_stale(world, action_id, value):
    inbox = open_inbox(world)
    shown = answer(world, inbox, APPROVER, action_id, value.format(draft=inbox["private_metadata"]))
    assert STALE in str(shown["blocks"])
    assert world.bot.store.all() == [] and world.slack.calls_to("views.push") == []


def test_a_client_not_in_the_snapshot_is_stale(world):
    inbox = open_inbox(world)
    shown = answer(world, inbox, REQUESTER, "inbox_apply", f"{inbox['private_metadata']}|999")
    assert STALE in str(shown["blocks"])


def test_resync_of_a_credit_that_is_not_used_up_is_refused_in_the_inbox(world):
    inbox = open_inbox(world)
    shown = answer(world, inbox, REQUESTER, "inbox_resync", f"{inbox['private_metadata']}|501|credit_memo:150")
    assert ":no_entry: This is only for a credit QuickBooks already shows as fully applied" in str(shown["blocks"])
    assert world.bot.store.all() == []


def test_resync_while_quickbooks_is_down_says_so_in_the_inbox(world):
    inbox = open_inbox(world)
    world.qbo.faults.inject("503", times=50)
    shown = answer(world, inbox, REQUESTER, "inbox_resync", f"{inbox['private_metadata']}|507|credit_memo:155")
    assert "couldn't read from QuickBooks just now" in str(shown["blocks"]) and world.bot.store.all() == []


def test_the_inbox_when_connectbooster_is_down(world):
    world.cb.faults.inject("503", times=50)
    shown = open_inbox(world)
    assert "couldn't read from ConnectBooster just now" in str(shown["blocks"])


@pytest.mark.parametrize(("text", "said"), [
    ("", "Slack didn't let me open the inbox (exchanged_trigger_id); please run `/applycredit` again."),
    ("Atomar", "Slack didn't let me open the form (exchanged_trigger_id); please run `/applycredit Atomar` again."),
])
def test_a_command_whose_trigger_was_already_used_is_answered_by_its_response_url(world, text, said):
    # A trigger works once (real-world.md §1): a late duplicate delivery of the command finds it exchanged.
    trigger = world.slack.issue_trigger_id(REQUESTER)
    assert world.slack.call("views.open", {"trigger_id": trigger, "view": {
        "type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}})[1]["ok"]
    form = {"command": "/applycredit", "text": text, "user_id": REQUESTER, "channel_id": CHANNEL,
            "team_id": world.slack.team_id, "trigger_id": trigger,
            "response_url": world.slack.issue_response_url(CHANNEL, REQUESTER)}
    body = urlencode(form)
    resp = world.bot.app.dispatch(BoltRequest(body=body, headers=world.driver.sign(body, int(time.time()))))
    assert resp.status == 200
    assert world.slack.wait_for(lambda s: [e["text"] for e in s.ephemerals(REQUESTER)])[-1] == said
    assert world.bot.store.all() == []
