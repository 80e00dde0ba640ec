"""The Slack outbox: in order per job, never blocking, and a message in flight at a crash sent again."""
import time

from slack_sdk import WebClient

from data.db import Connections
from data.jobs import JobStore
from data.outbox import Outbox
from messages.deliverer import Deliverer
from sandbox.fake_slack import FakeSlack


def test_a_message_in_flight_at_a_crash_goes_out_again_and_is_flagged(tmp_path):
    slack = FakeSlack()
    client = WebClient(token="xoxb-test", base_url=slack.start())
    slack.add_channel("C0FINANCE", "finance")  # the bot is a member (Slack refuses posts elsewhere)
    try:
        connections = Connections(str(tmp_path / "a.db"))
        outbox, store = Outbox(connections.get), JobStore(connections.get)
        outbox.enqueue(job_id=None, dedupe_key="k1", method="chat.postMessage",
                       payload={"args": {"channel": "C0FINANCE", "text": "step one"}})
        item = outbox.due(time.time())[0]
        outbox.start_sending(item.id)  # ... and the process dies here
        assert outbox.due(time.time()) == []
        deliverer = Deliverer(outbox, store, client, idle_seconds=0.05)
        deliverer.start()  # the restarted bot
        try:
            slack.wait_for(lambda s: [m for m in s.messages("C0FINANCE") if m["text"] == "step one"])
            assert outbox.pending_count() == 0
            flagged = connections.get().execute("SELECT in_flight_at_crash FROM outbox").fetchone()[0]
            assert flagged == 1
        finally:
            deliverer.stop()
    finally:
        slack.stop()


def test_messages_wait_out_a_rate_limit_in_order(tmp_path):
    slack = FakeSlack()
    client = WebClient(token="xoxb-test", base_url=slack.start())
    slack.add_channel("C0FINANCE", "finance")  # the bot is a member (Slack refuses posts elsewhere)
    try:
        connections = Connections(str(tmp_path / "a.db"))
        outbox, store = Outbox(connections.get), JobStore(connections.get)
        slack.faults.inject("ratelimited", "chat.postMessage", times=2, retry_after=0.2)
        for n in range(3):
            outbox.enqueue(job_id=7, dedupe_key=f"k{n}", method="chat.postMessage",
                           payload={"args": {"channel": "C0FINANCE", "text": f"step {n}"}})
        deliverer = Deliverer(outbox, store, client, idle_seconds=0.05)
        deliverer.start()
        try:
            got = slack.wait_for(lambda s: len(s.messages("C0FINANCE")) == 3 and s.messages("C0FINANCE"), timeout=10)
            assert [m["text"] for m in got] == ["step 0", "step 1", "step 2"]
        finally:
            deliverer.stop()
    finally:
        slack.stop()


def test_a_crash_between_the_last_transition_and_its_publish_loses_no_reply(tmp_path):
    """The job reached `verified` but the process died before queueing the reply: a restart queues it."""
    from decimal import Decimal

    from messages.notifier import SlackNotifier
    from workflow.connectbooster import AutomatedConnectBooster
    from workflow.runner import JobRunner

    connections = Connections(str(tmp_path / "a.db"))
    outbox, store = Outbox(connections.get), JobStore(connections.get)
    job = store.create(actor="U1", kind="apply", state="sync_finished", requester_id="U1", channel_id="C1",
                       client_name="A", qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id="150",
                       invoice_qbo_id="130", invoice_number="10040", amount=Decimal("10.00"), currency="USD")
    store.transition(job.id, from_states=["sync_finished"], to_state="verified", details={"credit_gone": True})
    assert outbox.pending_count() == 0  # ... and the process died here
    runner = JobRunner(store=store, qbo=None, half=AutomatedConnectBooster(None),
                       notifier=SlackNotifier(outbox, notify_channel="C0NOTIFY"))
    try:
        runner.resume_all()
    finally:
        runner.stop()
    keys = [r[0] for r in connections.get().execute("SELECT dedupe_key FROM outbox").fetchall()]
    verified = [e.id for e in store.events(job.id) if e.kind == "verified"][0]
    assert f"event:{verified}:reply" in keys and f"event:{verified}:notice" in keys
