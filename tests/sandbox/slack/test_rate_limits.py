"""Rate limits per method tier ([DOC] docs.slack.dev/apis/web-api/rate-limits; tiers from each method's page): HTTP 429
`{"ok": false, "error": "ratelimited"}` with Retry-After, token buckets on the fake's clock, off by default."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.fake_slack import DOCUMENTED_LIMITS, Bucket, FakeSlack

CH, OTHER = "C0FINANCE", "C0NOTICES"


@pytest.fixture
def limited(clock):
    """A started FakeSlack factory: `limited(rate_limits)`, with two public channels the bot is in."""
    started: list[FakeSlack] = []

    def make(rate_limits) -> tuple[FakeSlack, WebClient]:
        fake = FakeSlack(clock=clock, rate_limits=rate_limits)
        fake.start(port=0)
        started.append(fake)
        fake.add_user("U0REQUEST", "requester")
        fake.add_channel(CH, "finance")
        fake.add_channel(OTHER, "notices")
        return fake, WebClient(token="xoxb-test", base_url=fake.api_url, timeout=5)

    yield make
    for fake in started:
        fake.stop()


def limited_answer(call) -> tuple[int, dict, str | None]:
    """(HTTP status, body, Retry-After) of a refused call."""
    with pytest.raises(SlackApiError) as info:
        call()
    resp = info.value.response
    return resp.status_code, resp.data, resp.headers.get("Retry-After")


def test_off_by_default_even_for_a_burst(slack: FakeSlack, client: WebClient):
    for i in range(80):  # 80 posts to one channel within the same instant: real Slack would refuse most
        client.chat_postMessage(channel=CH, text=str(i))
    assert len(slack.messages(CH)) == 80 and slack.ratelimited_counts() == {}


def test_post_message_is_limited_per_channel_with_a_short_burst(limited, clock):
    slack, client = limited(True)
    burst = DOCUMENTED_LIMITS["chat.postMessage:channel"].burst
    for i in range(burst):
        client.chat_postMessage(channel=CH, text=f"burst {i}")
    status, body, retry = limited_answer(lambda: client.chat_postMessage(channel=CH, text="one too many"))
    assert (status, body, retry) == (429, {"ok": False, "error": "ratelimited"}, "1")
    assert "one too many" not in [m["text"] for m in slack.messages(CH)]
    assert client.chat_postMessage(channel=OTHER, text="another channel")["ok"]  # its own bucket
    clock.advance(1)  # ~1 message per second per channel
    assert client.chat_postMessage(channel=CH, text="a second later")["ok"]
    assert slack.ratelimited_counts() == {"chat.postMessage": 1}


def test_a_channel_named_or_by_id_shares_one_bucket(limited):
    slack, client = limited({"chat.postMessage:channel": Bucket(per_minute=60, burst=1)})
    assert client.chat_postMessage(channel=CH, text="by id")["ok"]
    assert limited_answer(lambda: client.chat_postMessage(channel="#finance", text="by name"))[0] == 429
    assert client.chat_postMessage(channel=OTHER, text="elsewhere")["ok"]


def test_the_workspace_ceiling_spans_channels_and_a_refusal_spends_nothing(limited, clock):
    table = {"chat.postMessage:channel": Bucket(per_minute=60, burst=1), "chat.postMessage": Bucket(6, burst=2)}
    slack, client = limited(table)
    slack.add_channel("C0THIRD00", "third")
    assert client.chat_postMessage(channel=CH, text="1")["ok"] and client.chat_postMessage(channel=OTHER, text="2")
    status, _, retry = limited_answer(lambda: client.chat_postMessage(channel="C0THIRD00", text="3"))
    assert (status, retry) == (429, "10")  # 6 per minute: one token every 10 s
    clock.advance(10)
    assert client.chat_postMessage(channel="C0THIRD00", text="3 again")["ok"]  # its channel bucket was untouched


def test_a_custom_table_limits_only_what_it_names_and_refills_on_the_clock(limited, clock):
    slack, client = limited({"chat.update": Bucket(per_minute=2, burst=1)})
    ts = client.chat_postMessage(channel=CH, text="v0")["ts"]
    assert client.chat_update(channel=CH, ts=ts, text="v1")["ok"]
    assert limited_answer(lambda: client.chat_update(channel=CH, ts=ts, text="v2"))[2] == "30"
    clock.advance(29)
    assert limited_answer(lambda: client.chat_update(channel=CH, ts=ts, text="v2"))[2] == "1"  # whole seconds
    clock.advance(1)
    assert client.chat_update(channel=CH, ts=ts, text="v2")["ok"] and slack.message(CH, ts)["text"] == "v2"
    for i in range(30):  # chat.postMessage is not in this table
        client.chat_postMessage(channel=CH, text=str(i))
    assert slack.ratelimited_counts() == {"chat.update": 2}


def test_views_and_ephemerals_have_tier_4_buckets(limited):
    slack, client = limited(True)
    assert DOCUMENTED_LIMITS["views.update"].per_minute == 100 == DOCUMENTED_LIMITS["chat.postEphemeral"].per_minute
    home = {"type": "home", "blocks": []}
    for _ in range(DOCUMENTED_LIMITS["views.publish"].burst):
        client.views_publish(user_id="U0REQUEST", view=home)
    assert limited_answer(lambda: client.views_publish(user_id="U0REQUEST", view=home))[0] == 429
    assert slack.call("views.publish", {"user_id": "U0REQUEST", "view": home})[0] == 429  # in-process too
    assert client.chat_postEphemeral(channel=CH, user="U0REQUEST", text="its own bucket")["ok"]


def test_every_method_the_fake_answers_has_a_documented_tier():
    assert set(FakeSlack._METHODS) <= set(DOCUMENTED_LIMITS)
    tiers = {m: b.per_minute for m, b in DOCUMENTED_LIMITS.items()}
    assert tiers["apps.connections.open"] == 1 and tiers["chat.update"] == 50 == tiers["conversations.join"]
    assert tiers["files.getUploadURLExternal"] == 100 == tiers["files.completeUploadExternal"]
    assert tiers["chat.postMessage:channel"] == 60 and tiers["auth.test"] > 100


def test_response_urls_are_not_web_api_calls_and_stay_unlimited(limited):
    slack, _ = limited({"chat.postMessage": Bucket(1, 1), "chat.postEphemeral": Bucket(1, 1)})
    hook = WebhookClient(slack.issue_response_url(CH, "U0REQUEST"))
    assert [hook.send(text=f"#{i}").status_code for i in range(5)] == [200] * 5
    assert slack.ratelimited_counts() == {}


def test_the_call_log_counts_everything(limited):
    slack, client = limited({"chat.postMessage:channel": Bucket(60, 1)})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 40}}]
    client.chat_postMessage(channel=CH, text="first", blocks=blocks)
    limited_answer(lambda: client.chat_postMessage(channel=CH, text="second", blocks=blocks))
    WebhookClient(slack.issue_response_url(CH, "U0REQUEST")).send(text="via response_url")
    log = slack.call_log()
    assert [(c["method"], c["channel"], c["status"], c["ok"], c["error"], c["blocks_text"]) for c in log] == [
        ("chat.postMessage", CH, 200, True, None, 40),
        ("chat.postMessage", CH, 429, False, "ratelimited", 40),
        ("response_url", CH, 200, True, None, 0),
    ]
    assert all(isinstance(c["at"], float) for c in log) and slack.call_log("response_url") == log[2:]
    assert slack.ratelimited_counts() == {"chat.postMessage": 1}
