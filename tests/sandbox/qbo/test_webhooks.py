"""Webhooks (sandbox/qbo_webhooks.py) against Intuit's documentation: formats, signature, aggregation on the
emulator's clock, retries with backoff, head-of-line waiting, redelivery, several realms in one delivery."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from sandbox.qbo_emulator import QBOEmulator
from sandbox.serving import LoopbackServer
from tests.sandbox.qbo.helpers import cm_payment

TOKEN = "verifier-token-0123456789"


class Receiver:
    """A webhook endpoint on loopback: records every POST; answers `statuses` in turn, then 200."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app, name="webhook-receiver")

    def _app(self, environ: dict, start_response) -> object:
        req = Request(environ)
        with self._lock:
            self.posts.append({"headers": dict(req.headers), "body": req.get_data()})
            status = self.statuses.pop(0) if self.statuses else 200
        time.sleep(self.delay)
        return Response(b"", status=status)(environ, start_response)

    def start(self) -> str:
        self._server.start()
        return f"{self._server.origin}/qbo/webhooks"

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    r.url = r.start()
    yield r
    r.stop()


def events(post: dict) -> list[dict]:
    return json.loads(post["body"])


def types(post: dict) -> list[str]:
    return [e["type"] for e in events(post)]


def test_off_until_configured(emu, qbo):
    assert qbo.payment(cm_payment(1)).status_code == 200
    assert emu.webhooks.deliveries == [] and emu.webhooks.pending == 0


def test_a_cloudevents_delivery_is_signed_and_carries_no_data(emu, qbo, receiver, clock):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    pid = qbo.payment(cm_payment(1)).json()["Payment"]["Id"]
    assert emu.webhooks.flush()
    [post] = receiver.posts
    [event] = events(post)
    assert event == {"specversion": "1.0", "id": event["id"], "source": event["source"],
                     "type": "qbo.payment.created.v1", "datacontenttype": "application/json", "time": event["time"],
                     "intuitentityid": pid, "intuitaccountid": emu.realm_id, "data": {}}
    assert event["source"].startswith("intuit.") and event["time"].endswith("Z") and len(event["id"]) == 36
    expected = base64.b64encode(hmac.new(TOKEN.encode(), post["body"], hashlib.sha256).digest()).decode()
    assert post["headers"]["Intuit-Signature"] == expected
    assert post["headers"]["Content-Type"] == "application/cloudevents-batch+json; charset=utf-8"
    assert post["headers"]["User-Agent"] == "intuit_notification_server/1.0"
    [attempt] = emu.webhooks.deliveries
    assert (attempt["delivery"], attempt["attempt"], attempt["status"], attempt["body"]) == (1, 1, 200, post["body"])


def test_events_wait_for_the_aggregation_window_on_the_emulators_clock(emu, qbo, receiver, clock):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, delay=60.0)
    qbo.payment(cm_payment(1))
    clock.advance(30)
    emu.ledger.create_customer("Late Tide Co")
    clock.advance(29)
    assert emu.webhooks.wait_idle() is False and receiver.posts == []  # not acknowledged: nothing sent yet
    clock.advance(1)  # 60 s after the first event of the window
    assert emu.webhooks.wait_attempts(1)
    assert sorted(types(receiver.posts[0])) == ["qbo.customer.created.v1", "qbo.payment.created.v1"]


def test_every_kind_of_change_and_derived_balances_on_request(emu, qbo, receiver):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    qbo.payment(cm_payment(10))  # changes invoice 130's and credit memo 150's balances too: not announced
    cust = emu.ledger.create_customer("Ebb & Flow LLC")
    inv = emu.ledger.create_invoice(cust["Id"], "25.00", txn_date="2026-10-01")
    emu.ledger.update_document("Invoice", inv["Id"], DueDate="2026-12-01")
    emu.ledger.delete_document("Invoice", inv["Id"])
    assert emu.webhooks.flush()
    sent = [(e["type"], e["intuitentityid"]) for p in receiver.posts for e in events(p)]
    assert ("qbo.invoice.updated.v1", "130") not in sent
    assert {t for t, _ in sent} == {"qbo.payment.created.v1", "qbo.customer.created.v1", "qbo.invoice.created.v1",
                                    "qbo.invoice.updated.v1", "qbo.invoice.deleted.v1"}
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, derived=True, delay=60.0)  # one delivery
    qbo.payment({"Id": "171", "SyncToken": "0", "sparse": True}, operation="update", include="void")
    assert emu.webhooks.flush()
    last = {(e["type"], e["intuitentityid"]) for e in events(receiver.posts[-1])}
    assert last == {("qbo.payment.void.v1", "171"), ("qbo.invoice.updated.v1", "141"),
                    ("qbo.customer.updated.v1", "59")}


def test_legacy_format_with_a_second_realm(emu, qbo, receiver):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, format="legacy", delay=60.0)
    pid = qbo.payment(cm_payment(1)).json()["Payment"]["Id"]
    emu.webhooks.add_foreign_realm_event(realm_id="123145", entity="Invoice", entity_id="7", operation="Create")
    assert emu.webhooks.flush()
    [post] = receiver.posts
    assert post["headers"]["Content-Type"] == "application/json"
    by_realm = {n["realmId"]: n for n in json.loads(post["body"])["eventNotifications"]}
    assert set(by_realm) == {emu.realm_id, "123145"}  # one eventNotification per realm
    ours, theirs = by_realm[emu.realm_id], by_realm["123145"]
    [entity] = ours["dataChangeEvent"]["entities"]
    assert (entity["name"], entity["id"], entity["operation"]) == ("Payment", pid, "Create") and entity["lastUpdated"]
    assert theirs["dataChangeEvent"]["entities"][0]["operation"] == "Create"


def test_cloudevents_delivery_with_two_realms(emu, receiver):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, delay=60.0)
    emu.webhooks.add_foreign_realm_event()
    emu.ledger.create_customer("Two Realms Ltd")
    assert emu.webhooks.flush()
    [post] = receiver.posts
    assert {e["intuitaccountid"] for e in events(post)} == {emu.realm_id, "9130357766200000"}


def test_retries_back_off_on_the_emulators_clock_and_later_events_wait(emu, qbo, receiver, clock):
    receiver.statuses = [500, 503]
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    qbo.payment(cm_payment(1))
    assert emu.webhooks.wait_attempts(1) and emu.webhooks.deliveries[0]["status"] == 500
    emu.ledger.create_customer("Queued Behind Inc")  # Intuit: nothing new until the first is acknowledged
    clock.advance(9)
    assert emu.webhooks.wait_idle() is False and len(receiver.posts) == 1
    clock.advance(1)  # 10 s after the failure
    assert emu.webhooks.wait_attempts(2)
    clock.advance(20)  # the second gap is 20 s
    assert emu.webhooks.wait_attempts(4) and emu.webhooks.wait_idle()
    seen = [(d["delivery"], d["attempt"], d["status"]) for d in emu.webhooks.deliveries]
    assert seen == [(1, 1, 500), (1, 2, 503), (1, 3, 200), (2, 1, 200)]
    assert receiver.posts[0]["body"] == receiver.posts[2]["body"]  # a retry is the same delivery, same signature
    assert receiver.posts[0]["headers"]["Intuit-Signature"] == receiver.posts[2]["headers"]["Intuit-Signature"]
    assert types(receiver.posts[3]) == ["qbo.customer.created.v1"]


def test_a_slow_answer_is_a_failed_attempt(emu, receiver, clock):
    receiver.delay = 0.5
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, timeout=0.2)
    emu.ledger.create_customer("Slow Harbor")
    assert emu.webhooks.wait_attempts(1)
    assert emu.webhooks.deliveries[0]["status"] is None and emu.webhooks.deliveries[0]["error"] == "ReadTimeout"
    receiver.delay = 0.0
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, timeout=5.0)  # a loaded machine answers late
    clock.advance(10)
    assert emu.webhooks.wait_attempts(2) and emu.webhooks.deliveries[1]["status"] == 200


def test_redeliver_sends_the_same_delivery_again(emu, receiver):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    emu.ledger.create_customer("Twice Told Co")
    assert emu.webhooks.flush()
    assert emu.webhooks.redeliver(1) == 200
    first, again = receiver.posts
    assert first["body"] == again["body"] and first["headers"]["Intuit-Signature"] == again["headers"]["Intuit-Signature"]
    assert emu.webhooks.deliveries[-1]["redelivery"] is True


def test_batch_order_and_content_type_switches(emu, receiver, clock):
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, delay=60.0, batch=4)
    made = [emu.ledger.create_customer(f"Batch Customer {n}")["Id"] for n in range(10)]
    emu.webhooks.content_type = "application/json"
    clock.advance(60)
    assert emu.webhooks.flush()
    sent = [[e["intuitentityid"] for e in events(p)] for p in receiver.posts]
    assert [len(s) for s in sent] == [4, 4, 2] and sorted(sum(sent, [])) == sorted(made)
    assert sum(sent, []) != made  # no documented order within a delivery: shuffled
    assert {p["headers"]["Content-Type"] for p in receiver.posts} == {"application/json"}
    emu.webhooks.configure(url=receiver.url, verifier_token=TOKEN, shuffle=False, delay=60.0)
    made = [emu.ledger.create_customer(f"In Order {n}")["Id"] for n in range(5)]
    assert emu.webhooks.flush() and [e["intuitentityid"] for e in events(receiver.posts[-1])] == made


def test_stop_is_joined_by_the_emulators_stop(clock, receiver):
    emulator = QBOEmulator(clock=clock)
    emulator.start()
    emulator.webhooks.configure(url=receiver.url, verifier_token=TOKEN)
    thread = emulator.webhooks._thread
    assert thread.is_alive()
    emulator.stop()
    assert not thread.is_alive()
    emulator.ledger.create_customer("After The End")  # ignored: no sender
    assert emulator.webhooks.pending == 0
