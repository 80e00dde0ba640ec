"""The ConnectBooster emulator's test-only routes under `/_emulator/` (no key; the production client never calls them).

    GET    /_emulator/snapshot          everything, contract-shaped
    GET    /_emulator/requests          the API requests served so far
    GET    /_emulator/faults            armed faults;  DELETE: disarm all
    POST   /_emulator/faults            {"kind", "times"?, "match"?, "seconds"?}: arm one (for "stuck_pending" and
                                        "stuck_active", `seconds` is when ConnectBooster gives up on that run)
    POST   /_emulator/scheduled-sync    {"integration_id"?}: start a scheduled run (or return the running one)
    POST   /_emulator/end-stuck-sync    {"status"?: "failed" | "finished", "error"?, "sync_id"?, "integration_id"?}:
                                        support clears a stuck run, or the person cancels it (ConnectBoosterEmulator
                                        .end_stuck_sync); 200 with the run, 404/409/422 in the contract's envelope
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.cb_api import ApiError
from sandbox.cb_records import QBO

if TYPE_CHECKING:  # pragma: no cover
    from sandbox.cb_emulator import ConnectBoosterEmulator


def _answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _body(request: Request) -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _arm(emu: ConnectBoosterEmulator, request: Request) -> Response:
    body = _body(request)
    if not body.get("kind"):
        return _answer(422, ApiError(422, "kind is required", {"field": "kind"}).body())
    emu.faults.inject(str(body["kind"]), times=body.get("times", 1), match=body.get("match"),
                      seconds=body.get("seconds"))
    return _answer(201, {"data": emu.faults.armed})


def _disarm(emu: ConnectBoosterEmulator, request: Request) -> Response:
    emu.faults.clear()
    return _answer(200, {"data": []})


def _scheduled(emu: ConnectBoosterEmulator, request: Request) -> Response:
    return _answer(202, emu.start_scheduled_sync(_body(request).get("integration_id", QBO)))


def _end_stuck(emu: ConnectBoosterEmulator, request: Request) -> Response:
    body = _body(request)
    sync_id = body.get("sync_id")
    if sync_id is not None and (isinstance(sync_id, bool) or not isinstance(sync_id, int)):
        raise ApiError(422, "sync_id must be an integer", {"field": "sync_id", "value": sync_id})
    run = emu.end_stuck_sync(str(body.get("status", "failed")), body.get("error"), sync_id=sync_id,
                             integration_id=str(body.get("integration_id", QBO)))
    return _answer(200, run)


ROUTES = {
    ("GET", "/_emulator/snapshot"): lambda emu, request: _answer(200, emu.snapshot()),
    ("GET", "/_emulator/requests"): lambda emu, request: _answer(200, {"data": list(emu.requests)}),
    ("GET", "/_emulator/faults"): lambda emu, request: _answer(200, {"data": emu.faults.armed}),
    ("DELETE", "/_emulator/faults"): _disarm,
    ("POST", "/_emulator/faults"): _arm,
    ("POST", "/_emulator/scheduled-sync"): _scheduled,
    ("POST", "/_emulator/end-stuck-sync"): _end_stuck,
}


def emulator_route(emu: ConnectBoosterEmulator, request: Request, rel: str) -> Response:
    """Answer one test-only route; refusals in the contract's error envelope."""
    handler = ROUTES.get((request.method, rel.rstrip("/")))
    if handler is None:
        return _answer(404, ApiError(404, f"no such emulator route: {request.method} {rel}").body())
    try:
        return handler(emu, request)
    except ApiError as exc:
        return _answer(exc.status, exc.body())
