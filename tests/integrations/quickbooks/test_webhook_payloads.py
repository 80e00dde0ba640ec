"""Reading Intuit's webhook deliveries (integrations/quickbooks_webhooks.py) as the emulator writes them on the wire:
the signature over the raw bytes, CloudEvents and legacy bodies, several realms, ids stable for deduplication."""
from __future__ import annotations

import base64

import pytest

from integrations.quickbooks_webhooks import Notice, parse, verify
from sandbox.qbo_webhook_payload import WebhookEvent, cloudevents_body, legacy_body, sign

TOKEN = "verifier-0123"
EVENTS = [WebhookEvent("4620816365", "CreditMemo", "1301", "Create", 1_790_000_000.0, event_id="e-1"),
          WebhookEvent("4620816365", "Payment", "1302", "Void", 1_790_000_001.0, event_id="e-2"),
          WebhookEvent("9130357766200000", "Invoice", "7", "Update", 1_790_000_002.0, event_id="e-3")]


def test_the_signature_is_checked_over_the_raw_bytes():
    body = cloudevents_body(EVENTS)
    assert verify(TOKEN, body, sign(TOKEN, body))
    assert not verify(TOKEN, body + b" ", sign(TOKEN, body))           # one byte more
    assert not verify("another-token", body, sign(TOKEN, body))
    assert not verify(TOKEN, body, None) and not verify(TOKEN, body, "not base64!")
    assert not verify("", body, sign("", body))                         # no token configured: nothing is trusted
    forged = base64.b64encode(b"\0" * 32).decode()
    assert not verify(TOKEN, body, forged)


def test_cloudevents_names_entity_operation_realm_and_keeps_the_id():
    assert parse(cloudevents_body(EVENTS)) == [
        Notice("e-1", "4620816365", "CreditMemo", "1301", "Create"),
        Notice("e-2", "4620816365", "Payment", "1302", "Void"),
        Notice("e-3", "9130357766200000", "Invoice", "7", "Update")]


def test_legacy_has_no_id_so_the_same_entity_change_gets_the_same_key():
    notices = parse(legacy_body(EVENTS))
    assert [(n.realm_id, n.entity, n.entity_id, n.operation) for n in notices] == [
        ("4620816365", "CreditMemo", "1301", "Create"), ("4620816365", "Payment", "1302", "Void"),
        ("9130357766200000", "Invoice", "7", "Update")]
    assert parse(legacy_body(EVENTS)) == notices and len({n.event_id for n in notices}) == 3


@pytest.mark.parametrize("body", [b"", b"{", b'{"something": []}', b'"text"'])
def test_anything_else_is_not_a_delivery(body):
    with pytest.raises(ValueError):
        parse(body)
