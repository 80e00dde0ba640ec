"""A rate limit's Retry-After holds every queued message for that method and channel, not only the one refused:
many streams posting in one channel (a burst of proposals) wait their turn instead of collecting 429s."""
from slack_sdk import WebClient

from data.db import Connections
from data.jobs import JobStore
from data.outbox import Outbox
from messages.deliverer import Deliverer
from sandbox.fake_slack import FakeSlack
from sandbox.fake_slack.ratelimits import Bucket
from tests.clock import FakeClock


def test_one_429_holds_the_channel_for_every_stream(tmp_path):
    clock = FakeClock()
    # One message per second in a channel, two at once (the documented chat.postMessage rule, a smaller burst).
    slack = FakeSlack(clock=clock, rate_limits={"chat.postMessage:channel": Bucket(60, 2)})
    client = WebClient(token="xoxb-test", base_url=slack.start())
    slack.add_channel("C0NOTIFY", "notices")
    try:
        connections = Connections(str(tmp_path / "a.db"))
        outbox = Outbox(connections.get)
        for n in range(8):  # eight streams (eight proposals), one message each
            outbox.enqueue(job_id=-(n + 1), dedupe_key=f"p{n}", method="chat.postMessage",
                           payload={"args": {"channel": "C0NOTIFY", "text": f"proposal {n}"}})
        deliverer = Deliverer(outbox, JobStore(connections.get), client, clock=clock)
        passes = 0
        while outbox.pending_count() and passes < 50:
            deliverer.deliver_due()
            clock.advance(1.0)  # a second between passes, on Slack's clock and the outbox's
            passes += 1
        assert sorted(m["text"] for m in slack.messages("C0NOTIFY")) == [f"proposal {n}" for n in range(8)]
        # Two at once, then one per second: each refusal held the channel for its Retry-After, so at most one 429
        # per second waited (without the hold, every queued stream was refused on every pass: 21 here).
        assert slack.ratelimited_counts().get("chat.postMessage", 0) <= passes
        assert slack.ratelimited_counts().get("chat.postMessage", 0) <= 6
    finally:
        slack.stop()
