"""What one QuickBooks webhook delivery looks like on the wire: events, the two body formats, headers, signature.

CloudEvents (Intuit blog 2025-11-12 "Upcoming change to webhooks payload structure", mandatory in 2026): a JSON
array of `{"specversion": "1.0", "id", "source", "type": "qbo.<entity>.<operation>.v1", "datacontenttype":
"application/json", "time", "intuitentityid", "intuitaccountid" (the realm), "data": {}}`. Operation words
created, updated, deleted, merged, void, emailed ("void", not "voided": ballerina-platform/asyncapi-triggers #193,
from real deliveries [OBS]). `source` is "intuit." plus an opaque base64 string in Intuit's sample; what it
encodes is [UNVERIFIED] (here: a hash of the realm).

Legacy (developer.intuit.com .../develop/webhooks/managing-webhooks-notifications): `{"eventNotifications":
[{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}`, one
eventNotification per realm.

Headers of a real CloudEvents delivery (n8n-io/n8n #28750, captured by webhook.site): content-type
`application/cloudevents-batch+json; charset=utf-8`, accept application/json, user-agent
`intuit_notification_server/1.0`, intuit-notification-schema-version 2.0, intuit-t-id, intuit-created-time,
intuit-signature-algorithm HMAC-SHA256, intuit-signature-id, intuit-signature. The legacy Content-Type is
[UNVERIFIED] (application/json here). Signature: `intuit-signature` = base64(HMAC-SHA256(key = verifier token,
msg = raw body)) (Intuit's webhooks page; IntuitDeveloper/SampleApp-Webhooks-Java SecurityService.java).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

CLOUDEVENTS_TYPE = "application/cloudevents-batch+json; charset=utf-8"
LEGACY_TYPE = "application/json"  # [UNVERIFIED]
TYPE_WORDS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged", "Void": "void",
              "Emailed": "emailed"}


@dataclass(frozen=True)
class WebhookEvent:
    """One change notification: no entity data, only what changed, where and when (read the entity after)."""

    realm_id: str
    entity: str  # Invoice, Payment, ...
    entity_id: str
    operation: str  # Create | Update | Delete | Void | Merge | Emailed
    at: float  # the emulator's clock
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # kept across retries: a dedupe key


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _source(realm_id: str) -> str:
    return "intuit." + base64.b64encode(hashlib.sha256(f"emulator:{realm_id}".encode()).digest()).decode()


def cloudevents_body(events: list[WebhookEvent]) -> bytes:
    """The CloudEvents array for these events, in the order given."""
    return json.dumps([{
        "specversion": "1.0", "id": e.event_id, "source": _source(e.realm_id),
        "type": f"qbo.{e.entity.lower()}.{TYPE_WORDS[e.operation]}.v1", "datacontenttype": "application/json",
        "time": _utc(e.at), "intuitentityid": e.entity_id, "intuitaccountid": e.realm_id, "data": {},
    } for e in events], separators=(",", ":")).encode()


def legacy_body(events: list[WebhookEvent]) -> bytes:
    """The eventNotifications object: one entry per realm, in order of each realm's first event."""
    by_realm: dict[str, list[dict]] = {}
    for e in events:
        by_realm.setdefault(e.realm_id, []).append(
            {"name": e.entity, "id": e.entity_id, "operation": e.operation, "lastUpdated": _utc(e.at)})
    return json.dumps({"eventNotifications": [
        {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
    ]}, separators=(",", ":")).encode()


def sign(verifier_token: str, body: bytes) -> str:
    """The intuit-signature header value for a raw body."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def delivery_headers(body: bytes, verifier_token: str, content_type: str, created: float) -> dict[str, str]:
    """Every header Intuit's notification server was seen sending, the signature among them."""
    return {
        "Content-Type": content_type, "Accept": "application/json", "User-Agent": "intuit_notification_server/1.0",
        "intuit-notification-schema-version": "2.0", "intuit-t-id": str(uuid.uuid4()),
        "intuit-created-time": _utc(created)[:-4] + "Z", "intuit-signature-algorithm": "HMAC-SHA256",
        "intuit-signature-id": str(uuid.uuid4()), "intuit-signature": sign(verifier_token, body),
    }
