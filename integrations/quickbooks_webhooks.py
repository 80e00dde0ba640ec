"""QuickBooks webhooks: Intuit's signature, the two payload shapes, and the endpoint `POST /quickbooks/webhooks`.

A delivery carries no data, only which entity changed, where and how: the bot reads the entity afterwards.
* Signature: `intuit-signature` = base64(HMAC-SHA256(key = the app's verifier token, msg = the raw body)), compared
  in constant time before anything is parsed; anything else is answered 401 and changes nothing.
* CloudEvents (mandatory since 2026): a JSON array of `{"id", "type": "qbo.<entity>.<operation>.v1",
  "intuitentityid", "intuitaccountid" (the realm), ...}`; the `id` stays the same when Intuit retries.
  Legacy: `{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
  "lastUpdated"}]}}]}`, which has no event id: a hash of its fields stands in for one.
* One delivery may carry several companies (realms): only the bot's own are kept. The Content-Type is not looked
  at (Intuit's has changed with the format).
* Answer within 3 s: the notices are stored (durably: `store` commits) before the 200, and processed in the
  background (`wake`). A signed body that cannot be read is answered 200 and logged, because a refusal would hold
  every later delivery behind it at Intuit, and change data capture is the safety net for what it carried.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PATH = "/quickbooks/webhooks"
MAX_BODY = 4 * 1024 * 1024  # a delivery of hundreds of events is tens of kilobytes
ENTITIES = {"creditmemo": "CreditMemo", "payment": "Payment", "invoice": "Invoice", "customer": "Customer"}
OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "void": "Void", "voided": "Void",
              "merged": "Merge", "emailed": "Emailed"}


@dataclass(frozen=True)
class Notice:
    """One change QuickBooks announced (no entity data)."""

    event_id: str
    realm_id: str
    entity: str      # CreditMemo | Payment | Invoice | Customer | another QuickBooks entity, as named
    entity_id: str
    operation: str   # Create | Update | Delete | Void | Merge | Emailed


def verify(token: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` is Intuit's signature of exactly these bytes with this verifier token."""
    if not token or not signature:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(token.encode(), body, hashlib.sha256).digest(), given)


def parse(body: bytes) -> list[Notice]:
    """The notices of a delivery, CloudEvents or legacy (raises ValueError for anything else)."""
    data = json.loads(body)
    if isinstance(data, list):
        return [_cloudevent(e) for e in data if isinstance(e, dict)]
    if isinstance(data, dict) and isinstance(data.get("eventNotifications"), list):
        return [n for realm in data["eventNotifications"] if isinstance(realm, dict) for n in _legacy(realm)]
    raise ValueError("neither a CloudEvents array nor eventNotifications")


def _cloudevent(event: dict) -> Notice:
    parts = str(event.get("type") or "").split(".")  # qbo.creditmemo.created.v1
    entity, operation = (parts[1], parts[2]) if len(parts) >= 3 else ("", "")
    return Notice(event_id=str(event.get("id") or ""), realm_id=str(event.get("intuitaccountid") or ""),
                  entity=ENTITIES.get(entity.lower(), entity), entity_id=str(event.get("intuitentityid") or ""),
                  operation=OPERATIONS.get(operation.lower(), operation))


def _legacy(realm: dict) -> list[Notice]:
    realm_id = str(realm.get("realmId") or "")
    entities = (realm.get("dataChangeEvent") or {}).get("entities") or []
    out = []
    for e in entities:
        if not isinstance(e, dict):
            continue
        fields = [realm_id, str(e.get("name")), str(e.get("id")), str(e.get("operation")), str(e.get("lastUpdated"))]
        digest = hashlib.sha256("|".join(fields).encode()).hexdigest()[:32]
        out.append(Notice(event_id=f"legacy:{digest}", realm_id=realm_id, entity=str(e.get("name") or ""),
                          entity_id=str(e.get("id") or ""), operation=str(e.get("operation") or "")))
    return out


def webhook_app(*, verifier_token: str, realm_id: str, store: Callable[[list[Notice]], int],
                wake: Callable[[], None]) -> Callable:
    """The WSGI app of `POST /quickbooks/webhooks`: verify, store (committed), answer; `wake` starts the work."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 Method Not Allowed", [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return _answer(start_response, "413 Payload Too Large")
        body = environ["wsgi.input"].read(length) if length else b""
        if not verify(verifier_token, body, environ.get("HTTP_INTUIT_SIGNATURE")):
            log.warning("QuickBooks webhook refused: missing or wrong intuit-signature (%d bytes)", len(body))
            return _answer(start_response, "401 Unauthorized")
        try:
            notices = parse(body)
        except ValueError:
            log.warning("QuickBooks webhook signed but unreadable (%d bytes): answered 200; CDC will catch up",
                        len(body))
            return _answer(start_response, "200 OK")
        ours = [n for n in notices if n.realm_id == realm_id and n.event_id]
        new = store(ours)  # committed before the 200: a crash after it loses nothing
        log.info("QuickBooks webhook: %d event(s), %d for realm %s, %d new", len(notices), len(ours), realm_id, new)
        if new:
            wake()
        return _answer(start_response, "200 OK")

    return app


def _answer(start_response: Callable, status: str, headers: list | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json"), *(headers or [])])
    return [json.dumps({"ok": status.startswith("200")}).encode()]
