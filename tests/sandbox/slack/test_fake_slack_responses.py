"""The fake Slack's response_url, its console routes and wait_for, driven by the real slack_sdk clients."""
from __future__ import annotations

import json
import threading

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from sandbox.fake_slack import FakeSlack, WaitTimeout
from tests.sandbox.slack.kit import CH, modal, refused, section

# ---- response_url -----------------------------------------------------------------------------------


def test_response_url_ephemeral_replace_delete(slack: FakeSlack):
    url = slack.issue_response_url(CH, "U0REQUEST")
    hook = WebhookClient(url)
    assert hook.send(text="Looking up invoices…").status_code == 200
    [eph] = slack.ephemerals("U0REQUEST", CH)
    assert eph["text"] == "Looking up invoices…" and eph["is_ephemeral"]
    hook.send(text="3 open invoices", blocks=[section("3 open invoices")], replace_original=True)
    [eph2] = slack.ephemerals("U0REQUEST", CH)
    assert eph2["ts"] == eph["ts"] and eph2["text"] == "3 open invoices" and eph2["blocks"]
    assert hook.send(text="bad", blocks=[{"type": "sparkle"}], replace_original=True).status_code == 400
    hook.send(delete_original=True)
    assert slack.ephemerals("U0REQUEST", CH) == []

    # in_channel, threaded; replace_original on a registered channel message
    ts = WebClient(token="xoxb-t", base_url=slack.api_url).chat_postMessage(channel=CH, text="parent")["ts"]
    url2 = slack.issue_response_url(CH, "U0APPROVE", original_ts=ts)
    hook2 = WebhookClient(url2)
    hook2.send_dict({"text": "status", "response_type": "in_channel", "thread_ts": ts})
    assert [m["text"] for m in slack.thread(CH, ts)] == ["status"]
    hook2.send(text="parent, decided", replace_original=True)
    assert slack.message(CH, ts)["text"] == "parent, decided"


def test_response_url_five_uses_and_30_minutes(slack: FakeSlack, clock):
    hook = WebhookClient(slack.issue_response_url(CH, "U0REQUEST"))
    assert [hook.send(text=f"#{i}").status_code for i in range(5)] == [200] * 5
    sixth = hook.send(text="#6")
    assert sixth.status_code == 404 and json.loads(sixth.body)["error"] == "used_url"
    assert len(slack.ephemerals("U0REQUEST")) == 5

    late = WebhookClient(slack.issue_response_url(CH, "U0REQUEST"))
    clock.advance(30 * 60 + 1)
    assert late.send(text="too late").status_code == 404
    assert WebhookClient(f"{slack.url}/response/nope").send(text="x").status_code == 404


# ---- console routes, wait_for -----------------------------------------------------------------------


def test_state_routes_and_wait_for(slack: FakeSlack, client: WebClient):
    v0 = requests.get(f"{slack.url}/_fake/version", timeout=5).json()["version"]
    threading.Timer(0.05, lambda: client.chat_postMessage(channel=CH, text="from a background thread")).start()
    msgs = slack.wait_for(lambda s: s.messages(CH), timeout=5)
    assert msgs[0]["text"] == "from a background thread"
    assert slack.history_version > v0
    polled = requests.get(f"{slack.url}/_fake/version", params={"since": 0, "timeout": 1}, timeout=5).json()
    assert polled["version"] == slack.history_version
    client.chat_postMessage(channel=CH, text="reply", thread_ts=msgs[0]["ts"])
    client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="psst")
    state = requests.get(f"{slack.url}/_fake/state", params={"user": "U0REQUEST"}, timeout=5).json()
    [finance] = [c for c in state["channels"] if c["id"] == CH]
    assert finance["name"] == "finance" and finance["messages"][0]["replies"][0]["text"] == "reply"
    assert [e["text"] for e in state["ephemerals"]] == ["psst"]
    with pytest.raises(WaitTimeout):
        slack.wait_for(lambda s: False, timeout=0.1)


def test_view_submission_acks_and_dm_by_user_id(slack: FakeSlack, client: WebClient):
    root = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal("Root"))["view"]
    slack.apply_view_response("U0REQUEST", root["id"], {"response_action": "push", "view": modal("Pushed")})
    [_, pushed] = slack.views("U0REQUEST")["modals"]
    slack.apply_view_response("U0REQUEST", pushed["id"], {"response_action": "update", "view": modal("Updated")})
    assert [v["title"]["text"] for v in slack.views("U0REQUEST")["modals"]] == ["Root", "Updated"]
    slack.apply_view_response("U0REQUEST", pushed["id"], {"response_action": "update", "view": modal(n_blocks=101)})
    assert slack.calls[-1]["method"] == "view_submission.ack" and slack.calls[-1]["error"] == "invalid_arguments"
    slack.apply_view_response("U0REQUEST", pushed["id"], None)  # an empty ack closes the top view only
    assert [v["title"]["text"] for v in slack.views("U0REQUEST")["modals"]] == ["Root"]
    slack.apply_view_response("U0REQUEST", root["id"], {"response_action": "clear"})
    assert slack.views("U0REQUEST")["modals"] == []
    assert refused(lambda: client.views_update(view_id=root["id"], view=modal()))["error"] == "not_found"

    dm = client.chat_postMessage(channel="U0APPROVE", text="a DM")["channel"]
    assert dm == "D0APPROVE" and [m["text"] for m in slack.messages(dm)] == ["a DM"]
