"""A ConnectBooster emulator serving the project's REST contract (docs/connectbooster-api.md) over loopback.

    qbo = QBOEmulator(seed_data=True)
    cb = ConnectBoosterEmulator(qbo=qbo.ledger, timing=SyncTiming.fast(), clock=fake_clock)
    base = cb.start(port=0)        # "http://127.0.0.1:PORT/api/v1"

Its copies come from the QuickBooks emulator's ledger, read in-process, and change only through a resync or
a sync (the lag the bot exists to close). State advances from the injected clock at the start of every
request, so no background thread is needed. Per-request faults ("500", "503", "429", "slow",
"slow_after_commit": handle, then sleep before answering) and
behavioural faults ("fail_sync", "stuck_pending", "stuck_active", "skip_changes": the next run finishes without
picking up any change, "fail_resync") are armed through `cb.faults`.

A stuck run ("stuck_pending": never starts; "stuck_active": its QuickBooks Online stage never ends) blocks every
new sync of its integration (409 with its id) until it ends: `cb.end_stuck_sync(status="failed", error=...)`
(support clears it, or the person cancels it; status "finished" lets it complete instead), or, when
`stuck_fail_after` seconds (constructor argument, or the fault's own `seconds`) have passed on the emulator's
clock, ConnectBooster gives up and it fails with a "Sync Not Running" error. Sync history shows either way.
Test-only routes live under `/_emulator/` (sandbox/cb_controls.py; also reachable under the base URL); no key.
The seed source (`seed=`, default: the ledger's `seed_source`, else sandbox/seed.py) gives the fixed ids, the
portal's pending payments and the QuickBooks writes that come after the first sync.
"""
from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from sandbox import cb_api
from sandbox import seed as default_seed
from sandbox.cb_api import ApiError
from sandbox.cb_controls import emulator_route
from sandbox.cb_state import QBO, CBState, utc_date
from sandbox.cb_sync import END_STATUSES, INTEGRATIONS, Run, SyncEngine, SyncTiming, cleared_message
from sandbox.faults import Fault, Faults
from sandbox.serving import LoopbackServer

PREFIX = "/api/v1"
IDEMPOTENCY_TTL = 24 * 3600.0
__all__ = ["ConnectBoosterEmulator", "SyncTiming", "CBFaults"]


class CBFaults(Faults):
    """`Faults` whose behavioural kinds wait for the next sync run or resync instead of the next request."""

    SYNC_KINDS = ("fail_sync", "stuck_pending", "stuck_active", "skip_changes")
    RESYNC_KINDS = ("fail_resync",)

    def __init__(self) -> None:
        super().__init__()
        self._sync, self._resync = Faults(), Faults()

    def inject(self, kind: str, *, times: int | None = 1, match=None, seconds: float | None = None) -> None:
        target = self._sync if kind in self.SYNC_KINDS else self._resync if kind in self.RESYNC_KINDS else None
        (target or super()).inject(kind, times=times, match=match, seconds=seconds)

    def take_behaviour(self, which: str, method: str, path: str) -> Fault | None:
        """Consume the behavioural fault for a run ("sync") or a resync ("resync") starting at this path."""
        return (self._sync if which == "sync" else self._resync).take(method, path)

    def clear(self) -> None:
        super().clear()
        self._sync.clear()
        self._resync.clear()

    @property
    def armed(self) -> list[dict]:
        return super().armed + self._sync.armed + self._resync.armed


class ConnectBoosterEmulator:
    """ConnectBooster's copies of one QuickBooks ledger, behind the contract's HTTP API."""

    def __init__(self, *, qbo: Any, api_key: str = "sandbox-cb-key", timing: SyncTiming | None = None,
                 clock: Callable[[], float] = time.time, seed_data: bool = True,
                 sleep: Callable[[float], None] = time.sleep, stuck_fail_after: float | None = None,
                 seed: Any = None) -> None:
        self.api_key = api_key
        self.clock = clock
        self.sleep = sleep
        self.stuck_fail_after = stuck_fail_after  # seconds until a stuck run fails by itself (None: never)
        self.seed = seed if seed is not None else getattr(qbo, "seed_source", default_seed)
        self.faults = CBFaults()
        self.requests: list[dict] = []
        self.state = CBState(qbo, clock, fixed_ids=self.seed.CB_IDS)
        self.engine = SyncEngine(self.state, timing or SyncTiming())
        self._lock = threading.RLock()
        self._idempotency: dict[str, tuple[str, str, int, dict, float]] = {}
        self._server = LoopbackServer(self.wsgi, name="cb-emulator")
        if seed_data:
            self._seed(qbo)

    # seeding ---------------------------------------------------------------------------------------------
    def _seed(self, ledger: Any) -> None:
        """First full sync from the ledger, the portal's pending payments, then QuickBooks moves on alone."""
        t, now = self.engine.timing, self.clock()
        took = t.to_active + t.psa_seconds + t.accounting_seconds
        first = ledger.earliest_txn_date() or (utc_date(now) - timedelta(days=1)).isoformat()
        run = self.engine.start_run(QBO, "scheduled", date.fromisoformat(first), now - took)
        details, counts = self.state.pull(None, now)
        self.engine.record_finished_run(run, details, counts)
        by_number = {i.number: i for i in self.state.invoices.values()}
        for number, amount in self.seed.CB_PENDING_PAYMENTS:
            if number in by_number:
                self.state.add_pending_payment(by_number[number], amount, now)
        ledger.apply_after_first_sync()

    # lifecycle -------------------------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on a daemon thread; returns the base URL including the version."""
        self._server.start(port, host)
        return self.base_url

    def stop(self) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str | None:
        return f"{self._server.origin}{PREFIX}" if self._server.running else None

    # in-process API for tests and the sandbox console ----------------------------------------------------
    def advance(self) -> None:
        with self._lock:
            self.engine.advance(self.clock())

    def seconds_to_next_change(self) -> float | None:
        """How long until a resync or sync moves on by itself (None: nothing will change without a request)."""
        with self._lock:
            due = self.engine.next_due()
            return None if due is None else max(0.0, due - self.clock())

    def snapshot(self) -> dict:
        """Everything, contract-shaped, after playing due transitions."""
        with self._lock:
            self.engine.advance(self.clock())
            st = self.state
            return {
                "organizations": [st.org_json(o) for o in sorted(st.orgs.values(), key=lambda o: o.id)],
                "credits": [st.credit_json(c) for c in sorted(st.credits.values(), key=lambda c: c.id)],
                "invoices": [st.invoice_json(i) for i in sorted(st.invoices.values(), key=lambda i: i.id)],
                "syncs": [r.json() for r in sorted(self.engine.runs.values(), key=lambda r: r.id, reverse=True)],
                "payments": [st.payment_json(p) for p in sorted(st.payments.values(), key=lambda p: p.id)],
                "entity_resyncs": [r.json() for r in sorted(self.engine.resyncs.values(), key=lambda r: r.id)],
            }

    def start_scheduled_sync(self, integration_id: str = QBO) -> dict:
        """Start a run with trigger "scheduled" (sync_from one day back); the running one if there is one."""
        if integration_id not in INTEGRATIONS:
            raise ApiError(404, f"integration {integration_id} not found", {"id": integration_id})
        with self._lock:
            self.engine.advance(self.clock())
            running = self.engine.active_run(integration_id)
            if running is not None:
                return running.json()
            since = self.state.today() - timedelta(days=1)
            return self.begin_sync(integration_id, "scheduled", since, "POST", f"/integrations/{integration_id}/syncs")

    # the portal's own buttons: what a person does in guided mode (the sandbox console offers them) -------------
    def portal_resync(self, number: str) -> dict | None:
        """Entities → Invoices → search `number` → ⋯ → Resync: the resync started, or None (no invoice `number`)."""
        with self._lock:
            self.engine.advance(self.clock())
            found = next((i for i in self.state.invoices.values() if str(i.number) == str(number)), None)
            return None if found is None else self.engine.start_resync(found.id, self.clock()).json()

    def portal_sync_now(self, sync_from: date | None = None) -> dict:
        """Integrations → QuickBooks Online → Sync Now from `sync_from` (none: yesterday); refused as the API is."""
        with self._lock:
            self.engine.advance(self.clock())
            today = self.state.today()
            start = cb_api.check_sync_from(sync_from, today) if sync_from else today - timedelta(days=1)
            return self.begin_sync(QBO, "manual", start, "POST", f"/integrations/{QBO}/syncs")

    def begin_sync(self, integration_id: str, trigger: str, sync_from: date, method: str, path: str) -> dict:
        running = self.engine.active_run(integration_id)
        if running is not None:
            raise ApiError(409, f"a sync of {integration_id} is already {running.status}",
                           {"existing_sync_id": running.id, "status": running.status})
        fault = self.faults.take_behaviour("sync", method, path)
        kind = fault.kind if fault else None
        stuck = kind.removeprefix("stuck_") if kind in ("stuck_pending", "stuck_active") else None
        give_up = fault.seconds if fault is not None and fault.seconds is not None else self.stuck_fail_after
        run = self.engine.start_run(integration_id, trigger, sync_from, self.clock(), fail=kind == "fail_sync",
                                    stuck=stuck, skip=kind == "skip_changes", give_up_after=give_up)
        return run.json()

    def end_stuck_sync(self, status: str = "failed", error: str | None = None, *, sync_id: int | None = None,
                       integration_id: str = QBO) -> dict:
        """End the pending or active run (`sync_id`, else the integration's running one): support clears it or the
        person cancels it ("failed", with `error` or a default), or it gets going and completes ("finished")."""
        if status not in END_STATUSES:
            raise ApiError(422, f"status must be one of {', '.join(END_STATUSES)}", {"field": "status", "value": status})
        with self._lock:
            self.engine.advance(self.clock())
            run = self._run_to_end(sync_id, integration_id)
            self.engine.end_run(run, self.clock(), status, error or cleared_message(run))
            return run.json()

    def _run_to_end(self, sync_id: int | None, integration_id: str) -> Run:
        """The run a control ends: the one asked for, else the integration's running one; refusals as ApiError."""
        if sync_id is not None:
            run = self.engine.runs.get(sync_id)
            if run is None:
                raise ApiError(404, f"sync {sync_id} not found", {"id": sync_id})
            if run.status not in ("pending", "active"):
                raise ApiError(409, f"sync {sync_id} already ended ({run.status})", {"sync_id": sync_id,
                                                                                    "status": run.status})
            return run
        if integration_id not in INTEGRATIONS:
            raise ApiError(404, f"integration {integration_id} not found", {"id": integration_id})
        run = self.engine.active_run(integration_id)
        if run is None:
            raise ApiError(409, f"no sync of {integration_id} is pending or active", {"integration_id": integration_id})
        return run

    @staticmethod
    def relative(path: str) -> str:
        return path[len(PREFIX):] if path.startswith(PREFIX) else path

    # HTTP ------------------------------------------------------------------------------------------------
    def wsgi(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        rel = self.relative(request.path)
        if rel.startswith("/_emulator/"):
            return emulator_route(self, request, rel)(environ, start_response)
        status, body, headers = self._serve(request, rel)
        self.requests.append({"method": request.method, "path": rel, "query": request.args.to_dict(),
                              "status": status})
        return Response(json.dumps(body), status=status, headers=headers,
                        content_type="application/json")(environ, start_response)

    def _serve(self, request: Request, rel: str) -> tuple[int, dict, dict]:
        if not request.path.startswith(PREFIX + "/"):
            return 404, ApiError(404, "unknown path; the API lives under /api/v1").body(), {}
        self.advance()
        fault = self.faults.take(request.method, rel)
        if fault is not None and fault.kind == "slow":
            self.sleep(fault.seconds if fault.seconds is not None else 2.0)
        elif fault is not None and fault.kind in ("500", "503", "429"):
            return self._fault_answer(fault)
        elif fault is not None and fault.kind == "slow_after_commit":  # do it, then answer late (or never)
            answer = self._serve_authorized(request, rel)
            self.sleep(fault.seconds if fault.seconds is not None else 2.0)
            return answer
        return self._serve_authorized(request, rel)

    def _serve_authorized(self, request: Request, rel: str) -> tuple[int, dict, dict]:
        if not self._authorized(request):
            return 401, ApiError(401, "missing or invalid API key").body(), {"WWW-Authenticate": "Bearer"}
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with self._lock:
            self.engine.advance(self.clock())
            if key:
                replay = self._replay(key, request.method, rel)
                if replay is not None:
                    return replay
            try:
                endpoint, args = cb_api.ROUTES.bind("", path_info=rel).match(method=request.method)
                status, body = endpoint(self, request, **args)
            except (NotFound, MethodNotAllowed):
                return 404, ApiError(404, f"no such resource: {request.method} {rel}").body(), {}
            except ApiError as exc:
                return exc.status, exc.body(), {}
            if key and 200 <= status < 300:  # refusals and conflicts are not stored: a retry re-evaluates
                self._idempotency[key] = (request.method, rel, status, body, self.clock())
            return status, body, {}

    def _fault_answer(self, fault: Fault) -> tuple[int, dict, dict]:
        status = int(fault.kind)
        if status == 429:
            seconds = fault.seconds if fault.seconds is not None else 1
            return 429, ApiError(429, "too many requests", {"retry_after": seconds}).body(), {
                "Retry-After": f"{seconds:g}"}
        message = "internal error" if status == 500 else "service unavailable, try again shortly"
        return status, ApiError(status, message).body(), {}

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.api_key.encode())

    def _replay(self, key: str, method: str, rel: str) -> tuple[int, dict, dict] | None:
        now = self.clock()
        for old in [k for k, v in self._idempotency.items() if now - v[4] > IDEMPOTENCY_TTL]:
            del self._idempotency[old]
        stored = self._idempotency.get(key)
        if stored is None:
            return None
        if (stored[0], stored[1]) != (method, rel):
            raise_body = ApiError(422, "this Idempotency-Key was used for a different request",
                                  {"idempotency_key": key, "original_path": stored[1]}).body()
            return 422, raise_body, {}
        return stored[2], stored[3], {"Idempotent-Replayed": "true"}
