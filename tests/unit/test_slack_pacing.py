"""The bot's pace on Slack (messages/pacing.py, messages/deliverer.py) against the fake Slack's documented tiers at
their real speed on a fake clock: a sweep's burst of progress gets no 429, Slack ends up showing the latest
content, posts and the notice never wait behind stale updates, and a listener's call waits for its token."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from data.db import Connections
from data.jobs import JobStore
from data.outbox import Outbox
from messages.deliverer import Deliverer
from messages.pacing import PROGRESS_SECONDS, PacedWebClient, Pacer, Rate, pace_requests
from sandbox.fake_slack import FakeSlack
from sandbox.fake_slack.ratelimits import Bucket
from tests.clock import FakeClock

CH, NOTIFY = "C0FINANCE", "C0NOTIFY"
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your credits"}}]}


@pytest.fixture
def slack_on_clock():
    clock = FakeClock()
    slack = FakeSlack(clock=clock, rate_limits=True)  # Slack's documented tiers, on the fake clock
    slack.start()
    slack.add_channel(CH, "finance")
    slack.add_channel(NOTIFY, "notices")
    yield slack, clock
    slack.stop()


def deliverer_on(tmp_path, slack: FakeSlack, clock: FakeClock) -> tuple[Deliverer, Outbox]:
    """The outbox's deliverer with a pacer of its own on the fake clock (as bot.py gives it the process's)."""
    connections = Connections(str(tmp_path / "a.db"))
    outbox = Outbox(connections.get)
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    return Deliverer(outbox, JobStore(connections.get), client, clock=clock, pacer=Pacer(clock=clock)), outbox


def status(n: int) -> dict:
    return {"text": f"Sweep #1: {n} done", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                                   "text": f"Done {n}/100"}}]}


def test_a_sweeps_burst_of_progress_replies_and_notice_gets_no_429_and_the_notice_is_prompt(tmp_path, slack_on_clock):
    slack, clock = slack_on_clock
    _, posted = slack.call("chat.postMessage", {"channel": CH, "text": "Sweep #1"})  # the sweep's message
    ts = posted["ts"]
    deliverer, outbox = deliverer_on(tmp_path, slack, clock)
    start, notice_queued, n = clock(), None, 0
    # Ten seconds of a sweep: ten progress updates a second (100), a reply in its thread every second, then its
    # summary and its notice; the deliverer makes a pass every 0.1 s.
    for tick in range(200):
        if tick < 100:
            n += 1
            outbox.enqueue(job_id=-1, dedupe_key=f"status:{n}", method="chat.update",
                           payload={"args": {"channel": CH, "ts": ts, **status(n)}})
            if tick % 10 == 0:
                outbox.enqueue(job_id=-1, dedupe_key=f"reply:{tick}", method="chat.postMessage",
                               payload={"args": {"channel": CH, "thread_ts": ts, "text": f"reply {tick // 10}"}})
        if tick == 100:
            outbox.enqueue(job_id=-1, dedupe_key="summary", method="chat.postMessage",
                           payload={"args": {"channel": CH, "thread_ts": ts, "text": "Sweep #1 finished"}})
            outbox.enqueue(job_id=-1, dedupe_key="notice", method="chat.postMessage",
                           payload={"args": {"channel": NOTIFY, "text": "Sweep #1 finished: 100 applications"}})
            notice_queued = clock()
        deliverer.deliver_due()
        clock.advance(0.1)
    assert slack.ratelimited_counts() == {}
    assert slack.message(CH, ts)["text"] == "Sweep #1: 100 done"  # the latest content, nothing older after it
    updates = [c for c in slack.call_log("chat.update")]
    # One message's progress at most every PROGRESS_SECONDS: 20 s of fake time, a handful of updates, not 100.
    assert len(updates) <= (clock() - start) / PROGRESS_SECONDS + 1
    assert [m["text"] for m in slack.thread(CH, ts)] == [f"reply {k}" for k in range(10)] + ["Sweep #1 finished"]
    notice = next(c for c in slack.call_log("chat.postMessage") if c["channel"] == NOTIFY)
    assert notice["at"] - notice_queued <= 2.0  # behind its summary (a second per channel), never the updates
    assert outbox.pending_count() == 0


def test_a_newer_update_supersedes_a_held_one_and_posts_do_not_wait_for_it(tmp_path, slack_on_clock):
    """A 429 on an update holds chat.update; the replies of its stream go on meanwhile, and only the newest
    content is sent once the hold ends."""
    slack, clock = slack_on_clock
    _, posted = slack.call("chat.postMessage", {"channel": CH, "text": "Sweep #2"})
    deliverer, outbox = deliverer_on(tmp_path, slack, clock)
    slack.faults.inject("ratelimited", "chat.update", times=1, retry_after=5)
    outbox.enqueue(job_id=-2, dedupe_key="s1", method="chat.update",
                   payload={"args": {"channel": CH, "ts": posted["ts"], **status(1)}})
    deliverer.deliver_due()  # refused: held for 5 s
    outbox.enqueue(job_id=-2, dedupe_key="r1", method="chat.postMessage",
                   payload={"args": {"channel": CH, "thread_ts": posted["ts"], "text": "a reply"}})
    outbox.enqueue(job_id=-2, dedupe_key="s2", method="chat.update",
                   payload={"args": {"channel": CH, "ts": posted["ts"], **status(2)}})
    clock.advance(1)
    deliverer.deliver_due()
    assert [m["text"] for m in slack.thread(CH, posted["ts"])] == ["a reply"]  # not behind the held update
    assert slack.message(CH, posted["ts"])["text"] == "Sweep #2"
    clock.advance(5)
    deliverer.deliver_due()
    assert slack.message(CH, posted["ts"])["text"] == "Sweep #1: 2 done"
    sent = [c for c in slack.call_log("chat.update") if c["ok"]]
    assert len(sent) == 1 and outbox.pending_count() == 0  # the first content was superseded, never sent


def test_a_listeners_views_update_waits_for_its_token(slack_on_clock):
    """views.update is Tier 4 (100 a minute, short bursts): a listener's 150 at once are paced, none refused. The
    listener's client is the one Bolt builds for each request (not the app's): bot.py's before_authorize
    middleware (messages.pacing.pace_requests) paces it."""
    slack, clock = slack_on_clock
    slack.add_user("U0REQUEST", "requester")
    _, home = slack.call("views.publish", {"user_id": "U0REQUEST", "view": HOME})
    app = App(client=WebClient(token="xoxb-test", base_url=slack.api_url), signing_secret="unused",
              request_verification_enabled=False, token_verification_enabled=False, process_before_response=True,
              before_authorize=pace_requests(Pacer(clock=clock, sleep=clock.sleep)))
    answers = []

    @app.action("paced")
    def on_click(ack, client, body):
        ack()
        answers.extend(client.views_update(view_id=body["view"]["id"], view=HOME)["ok"] for _ in range(150))

    start = clock()
    payload = {"type": "block_actions", "user": {"id": "U0REQUEST"}, "team": {"id": slack.team_id},
               "api_app_id": slack.app_id, "trigger_id": "1.2.3", "container": {"type": "view"},
               "view": home["view"], "actions": [{"action_id": "paced", "block_id": "b", "type": "button"}]}
    response = app.dispatch(BoltRequest(body="payload=" + quote(json.dumps(payload)),
                                        headers={"content-type": ["application/x-www-form-urlencoded"]}))
    assert response.status == 200 and answers == [True] * 150
    assert slack.ratelimited_counts() == {}
    assert clock() - start >= (150 - 20) / 100 * 60 * 0.9  # it waited, about as long as the tier asks


def test_a_listeners_call_refused_with_429_waits_its_retry_after_and_goes_through_once_more():
    """Slack can refuse what the pacer let go (another app process, a budget already spent): the paced client holds
    the method for Retry-After, then sends the call once more; nothing is lost and Slack is asked no faster."""
    clock = FakeClock()
    slack = FakeSlack(clock=clock, rate_limits={"views.publish": Bucket(per_minute=6, burst=1)})  # one per 10 s
    slack.start()
    try:
        slack.add_user("U0REQUEST", "requester")
        pacer = Pacer({"views.publish": Rate(6000, 100)}, clock=clock, sleep=clock.sleep)  # unaware of the limit
        client = PacedWebClient(token="xoxb-test", base_url=slack.api_url, pacer=pacer)
        start = clock()
        answers = [client.views_publish(user_id="U0REQUEST", view=HOME)["ok"] for _ in range(2)]
        assert answers == [True, True]
        assert slack.ratelimited_counts() == {"views.publish": 1}  # the second was refused once, then went through
        assert clock() - start >= 10  # after the Retry-After Slack asked for, not at once
    finally:
        slack.stop()


def test_a_scaled_pacer_runs_the_same_tiers_faster():
    clock = FakeClock()
    normal, fast = Pacer(clock=clock), Pacer(clock=clock, scale=20)
    for pacer in (normal, fast):
        while pacer.try_take("chat.postMessage", CH) == 0:
            pass  # the channel's burst
    assert normal.try_take("chat.postMessage", CH) == pytest.approx(20 * fast.try_take("chat.postMessage", CH))
    assert fast.hold("chat.update", CH, 20) == 1.0 and fast.progress_seconds == PROGRESS_SECONDS / 20
