"""The fake Slack Web API, driven by the real slack_sdk clients: auth, messages, Block Kit, views, faults."""
from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack
from tests.sandbox.slack.kit import CH, buttons, modal, options, plain, refused, section

# ---- auth, unknown methods ------------------------------------------------------------------------


def test_auth_test_and_refusals(slack: FakeSlack, client: WebClient):
    auth = client.auth_test()
    assert auth["user_id"] == "UBOT0001" and auth["team_id"] == "T0SANDBOX" and auth["bot_id"]
    assert auth["url"].startswith("https://")
    anonymous = WebClient(base_url=slack.api_url)
    assert refused(lambda: anonymous.chat_postMessage(channel=CH, text="x"))["error"] == "not_authed"
    assert refused(lambda: WebClient(token="xoxp-user", base_url=slack.api_url).auth_test())["error"] == "invalid_auth"
    assert refused(lambda: client.api_call("chat.frobnicate"))["error"] == "unknown_method"
    assert [c["method"] for c in slack.calls][-1] == "chat.frobnicate" and slack.calls[-1]["ok"] is False


# ---- messages ---------------------------------------------------------------------------------------


def test_post_thread_reply_broadcast_and_records(slack: FakeSlack, client: WebClient):
    blocks = [section("Request"), buttons("approve", "reject")]
    parent = client.chat_postMessage(channel=CH, text="Request: apply $10.00", blocks=blocks)
    assert parent["ok"] and parent["channel"] == CH
    msg = parent["message"]
    assert msg["ts"] == parent["ts"] and msg["user"] == "UBOT0001" and msg["bot_id"] and msg["type"] == "message"
    assert msg["blocks"][1]["elements"][0]["action_id"] == "approve" and "thread_ts" not in msg

    r1 = client.chat_postMessage(channel=CH, thread_ts=parent["ts"], text="pending")
    r2 = client.chat_postMessage(channel=CH, thread_ts=parent["ts"], text="complete", reply_broadcast=True)
    assert r1["message"]["thread_ts"] == parent["ts"] and r1["message"]["parent_user_id"] == "UBOT0001"
    assert [m["text"] for m in slack.thread(CH, parent["ts"])] == ["pending", "complete"]

    top = slack.messages(CH)
    assert [m["text"] for m in top] == ["Request: apply $10.00", "complete"]  # the broadcast shows in channel
    assert top[0]["reply_count"] == 2 and top[0]["latest_reply"] == r2["ts"] and top[0]["channel"] == CH
    assert top[1]["subtype"] == "thread_broadcast"
    # a reply to a reply lands in the parent's thread; an unknown thread_ts is refused
    r3 = client.chat_postMessage(channel=CH, thread_ts=r1["ts"], text="nested")
    assert r3["message"]["thread_ts"] == parent["ts"]
    unknown_thread = refused(lambda: client.chat_postMessage(channel=CH, thread_ts="1.000001", text="x"))
    assert unknown_thread["error"] == "invalid_thread_ts"
    assert refused(lambda: client.api_call("chat.postMessage", json={"channel": CH}))["error"] == "no_text"
    assert refused(lambda: client.chat_postMessage(channel="#nowhere", text="x"))["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="#finance", text="by name")["channel"] == CH


def test_update_replaces_text_and_blocks(slack: FakeSlack, client: WebClient):
    ts = client.chat_postMessage(channel=CH, text="pending", blocks=[section("pending"), buttons("approve")])["ts"]
    resp = client.chat_update(channel=CH, ts=ts, text="approved", blocks=[section("approved by <@U0APPROVE>")])
    assert resp["ok"] and resp["ts"] == ts and resp["text"] == "approved" and resp["channel"] == CH
    current = slack.message(CH, ts)
    assert current["text"] == "approved" and len(current["blocks"]) == 1  # the buttons are gone
    client.chat_update(channel=CH, ts=ts, text="text only")  # blocks absent: kept, as Slack documents
    assert slack.message(CH, ts)["blocks"][0]["text"]["text"] == "approved by <@U0APPROVE>"
    client.chat_update(channel=CH, ts=ts, text="no blocks", blocks=[])
    assert "blocks" not in slack.message(CH, ts)
    assert refused(lambda: client.chat_update(channel=CH, ts="1.000001", text="x"))["error"] == "message_not_found"
    human = slack.post_user_message(CH, "U0REQUEST", "hello")
    assert refused(lambda: client.chat_update(channel=CH, ts=human["ts"], text="x"))["error"] == "cant_update_message"


def test_ephemeral_and_permalink(slack: FakeSlack, client: WebClient):
    eph = client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="only you")
    assert eph["ok"] and eph["message_ts"]
    assert [e["text"] for e in slack.ephemerals("U0REQUEST")] == ["only you"]
    assert slack.ephemerals("U0REQUEST", channel="C0OTHER") == [] and slack.ephemerals("U0APPROVE") == []
    assert slack.messages(CH) == []  # ephemerals are not channel messages

    ts = client.chat_postMessage(channel=CH, text="parent")["ts"]
    reply = client.chat_postMessage(channel=CH, text="reply", thread_ts=ts)["ts"]
    link = client.chat_getPermalink(channel=CH, message_ts=ts)["permalink"]
    assert link == f"https://sandbox.slack.local/archives/{CH}/p{ts.replace('.', '')}"
    rlink = client.chat_getPermalink(channel=CH, message_ts=reply)["permalink"]
    assert rlink == f"https://sandbox.slack.local/archives/{CH}/p{reply.replace('.', '')}?thread_ts={ts}&cid={CH}"
    assert refused(lambda: client.chat_getPermalink(channel=CH, message_ts="1.000001"))["error"] == "message_not_found"


def test_ts_unique_and_increasing_within_one_second(slack: FakeSlack, client: WebClient, clock):
    stamps = [client.chat_postMessage(channel=CH, text=str(i))["ts"] for i in range(30)]
    assert len(set(stamps)) == 30 and stamps == sorted(stamps, key=float)
    assert all(s.split(".")[0] == str(int(clock.time())) and len(s.split(".")[1]) == 6 for s in stamps)
    clock.advance(-100)  # a clock going backwards never makes ts go backwards
    later = client.chat_postMessage(channel=CH, text="later")["ts"]
    assert float(later) > float(stamps[-1])


def test_form_encoded_arguments(slack: FakeSlack, client: WebClient):
    resp = client.api_call(
        "chat.postMessage",
        params={"channel": CH, "text": "form", "blocks": json.dumps([section("form")]), "reply_broadcast": "false"},
    )
    assert resp["ok"] and slack.message(CH, resp["ts"])["blocks"][0]["text"]["text"] == "form"
    bad = refused(lambda: client.api_call("chat.postMessage", params={"channel": CH, "blocks": "[not json"}))
    assert bad["error"] == "invalid_blocks_format"


def test_conversations_open_needs_im_write_and_makes_a_dm_the_bot_is_in(slack: FakeSlack, client: WebClient):
    # real-world.md §1 "DMs": conversations.open needs im:write on bot tokens
    err = refused(lambda: client.conversations_open(users="U0APPROVE"))
    assert err["error"] == "missing_scope" and err["needed"] == "im:write"
    slack.scopes.add("im:write")
    dm = client.conversations_open(users="U0APPROVE")["channel"]["id"]
    assert dm.startswith("D") and slack.is_member(dm, "UBOT0001") and slack.is_member(dm, "U0APPROVE")
    client.chat_postMessage(channel=dm, text="please approve")
    assert [m["text"] for m in slack.messages(dm)] == ["please approve"]
    assert refused(lambda: client.conversations_open(users="U0NOBODY"))["error"] == "user_not_found"


# ---- Block Kit validation ---------------------------------------------------------------------------


def test_invalid_blocks_refused(slack: FakeSlack, client: WebClient):
    assert client.chat_postMessage(channel=CH, text="50", blocks=[section(str(i)) for i in range(50)])["ok"]
    fifty_one = [section(str(i)) for i in range(51)]
    too_many = refused(lambda: client.chat_postMessage(channel=CH, text="51", blocks=fifty_one))
    assert too_many["error"] == "invalid_blocks"
    assert "no more than 50 items allowed [json-pointer:/blocks]" in too_many["errors"]
    assert too_many["response_metadata"]["messages"][0].startswith("[ERROR] ")

    no_text = {"type": "actions", "elements": [{"type": "button", "action_id": "approve", "value": "1"}]}
    err = refused(lambda: client.chat_postMessage(channel=CH, text="x", blocks=[no_text]))
    assert err["error"] == "invalid_blocks"
    assert err["errors"] == ["missing required field: text [json-pointer:/blocks/0]"]

    assert client.chat_postMessage(channel=CH, text="x", blocks=[section("x" * 3000)])["ok"]
    long = refused(lambda: client.chat_postMessage(channel=CH, text="x", blocks=[section("x" * 3001)]))
    assert long["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]

    for bad in (
        [{"type": "sparkle"}],
        [section("")],
        [section("a", "b1"), section("b", "b1")],
        [{"type": "actions", "elements": [{"type": "button", "action_id": "a", "text": plain("A")}] * 2}],
        [{"type": "actions", "elements": [{"type": "radio_buttons", "action_id": "r", "options": options(11)}]}],
        [{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "placeholder": plain("p"),
                                           "options": options(101)}]}],
    ):
        answer = refused(lambda b=bad: client.chat_postMessage(channel=CH, text="x", blocks=b))
        assert answer["error"] == "invalid_blocks", bad
    # chat.update and chat.postEphemeral validate too; nothing invalid was stored
    ts = client.chat_postMessage(channel=CH, text="ok")["ts"]
    answer = refused(lambda: client.chat_update(channel=CH, ts=ts, text="x", blocks=[no_text]))
    assert answer["error"] == "invalid_blocks"
    eph = refused(lambda: client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="x", blocks=[no_text]))
    assert eph["error"] == "invalid_blocks"
    assert slack.message(CH, ts)["text"] == "ok" and slack.ephemerals("U0REQUEST") == []


def test_invalid_views_refused(slack: FakeSlack, client: WebClient):
    def open_(view):
        return refused(lambda: client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=view))

    err = open_(modal(n_blocks=101))
    assert err["error"] == "invalid_arguments"
    assert "no more than 100 items allowed [json-pointer:/view/blocks]" in err["errors"]
    assert open_(modal(title="x" * 25))["error"] == "invalid_arguments"
    with_input = modal()
    with_input["blocks"].append({"type": "input", "label": {"type": "plain_text", "text": "Amount"},
                                 "element": {"type": "number_input", "is_decimal_allowed": True,
                                             "action_id": "amount"}})
    assert "must define `submit`" in open_(with_input)["errors"][0]
    with_input["submit"] = {"type": "plain_text", "text": "Apply"}
    assert client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=with_input)["ok"]
    assert client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal(n_blocks=100))["ok"]


# ---- views and triggers -----------------------------------------------------------------------------


def test_trigger_expires_after_3s_and_is_single_use(slack: FakeSlack, client: WebClient, clock):
    fresh = slack.issue_trigger_id("U0REQUEST")
    clock.advance(2.9)
    view = client.views_open(trigger_id=fresh, view=modal("Loading…"))["view"]
    assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
    assert refused(lambda: client.views_open(trigger_id=fresh, view=modal()))["error"] == "exchanged_trigger_id"

    old = slack.issue_trigger_id("U0REQUEST")
    clock.advance(3.0)
    assert refused(lambda: client.views_open(trigger_id=old, view=modal()))["error"] == "expired_trigger_id"
    assert refused(lambda: client.views_open(trigger_id="123.456.abc", view=modal()))["error"] == "invalid_trigger_id"
    assert [v["id"] for v in slack.views("U0REQUEST")["modals"]] == [view["id"]]


def test_views_update_push_publish(slack: FakeSlack, client: WebClient):
    opened = client.views_open(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal("Loading…"))["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"],
                                  view=modal("Pick invoices", n_blocks=3))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"] and len(updated["blocks"]) == 3
    stale = refused(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale["error"] == "hash_conflict"
    assert refused(lambda: client.views_update(view_id="V0NOPE", view=modal()))["error"] == "not_found"
    pushed = client.views_push(trigger_id=slack.issue_trigger_id("U0REQUEST"), view=modal("Confirm"))["view"]
    assert pushed["root_view_id"] == opened["id"] and pushed["previous_view_id"] == opened["id"]
    assert [v["title"]["text"] for v in slack.views("U0REQUEST")["modals"]] == ["Pick invoices", "Confirm"]

    home = {"type": "home", "blocks": [section("Your open requests")]}
    published = client.views_publish(user_id="U0REQUEST", view=home)["view"]
    assert slack.views("U0REQUEST")["home"]["id"] == published["id"]
    assert client.views_publish(user_id="U0REQUEST", view=home, hash=published["hash"])["view"]["id"] == published["id"]
    assert slack.views("U0APPROVE") == {"modals": [], "home": None}


# ---- faults -----------------------------------------------------------------------------------------


def test_ratelimited_fault_is_a_429_with_retry_after(slack: FakeSlack, client: WebClient):
    slack.faults.inject("ratelimited", method="chat.postMessage", times=1, retry_after=7)
    err = refused(lambda: client.chat_postMessage(channel=CH, text="x"))
    assert err == {"ok": False, "error": "ratelimited"}
    with pytest.raises(SlackApiError) as info:
        slack.faults.inject("ratelimited", method="chat.postMessage", retry_after=2)
        client.chat_postMessage(channel=CH, text="x")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "2"
    client.auth_test()  # other methods are untouched
    assert client.chat_postMessage(channel=CH, text="after")["ok"]  # the fault was used up
    slack.faults.inject("500", method="chat.update")
    with pytest.raises(SlackApiError) as info:
        client.chat_update(channel=CH, ts="1.1", text="x")
    assert info.value.response.status_code == 500
    slack.faults.inject("channel_not_found", method="chat.postEphemeral")
    answer = refused(lambda: client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="x"))
    assert answer["error"] == "channel_not_found"


def test_an_answer_held_after_the_commit_leaves_the_message_posted_while_the_caller_waits(slack: FakeSlack):
    """Slack may take a message and the answer never reach the caller: the message is there all the same."""
    slack.faults.inject("hold_after_commit", method="chat.postMessage", seconds=30)
    impatient = WebClient(base_url=slack.api_url, token="xoxb-sandbox", timeout=0.5)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel=CH, text="approve me?")
    assert [m["text"] for m in slack.messages(CH)] == ["approve me?"]  # committed, though never answered
    assert WebClient(base_url=slack.api_url, token="xoxb-sandbox").chat_postMessage(channel=CH, text="next")["ok"]
