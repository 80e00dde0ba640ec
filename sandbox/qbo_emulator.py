"""A stateful QuickBooks Online emulator on loopback: OAuth 2.0, the accounting endpoints the bot uses, faults.

    emu = QBOEmulator(realm_id=seed.REALM_ID, client_id="sandbox-client-id", client_secret="sandbox-client-secret")
    base = emu.start()            # "http://127.0.0.1:PORT"; API at {base}/v3/company/{realm}/...
    tokens = emu.mint_tokens()
    emu.faults.inject("drop_after_commit", match="/payment")
    emu.stop()

Behaviour follows ../shared/reference/quickbooks-api.md and real-world.md §6. Every request passes, in order:
fault injection, path check (400 "Unsupported Operation", code 500), bearer check (401 gateway envelope), realm
check (401 AuthenticationFault), throttling (429; a batch counts each item), requestid replay (switchable:
`emu.replay_requestids = False` treats a repeated requestid as new: window expired or another data centre),
the handler. `emu.today` dates payments sent without TxnDate; `emu.missing_txn_date` lists them.
Fault kinds: "429", "500", "503", "401", "6000", "5010", "6210" (a 400 Fault with that code),
"slow" (sleep `seconds`, then answer), "drop_after_commit"
(answer fully, commit, then close the connection without a response), "slow_after_commit" (commit, then
sleep `seconds` before answering: a client that gives up or dies in between never learns the outcome).

Behaviour a client must survive, each with its sources in its module: queries without ORDERBY answer in a new
order every time (`emu.stable_order = True` restores Id order; sandbox/qbo_query_run.py); CDC looks back 30 days
at most (sandbox/qbo_cdc.py); webhooks are off until `emu.webhooks.configure(...)` (sandbox/qbo_webhooks.py);
refresh tokens end 100 days after their last use or at the grant's hard expiry, and `emu.oauth.disconnect()`
ends a company's grants (sandbox/qbo_oauth.py); Preferences change at runtime (`emu.company.enable_multicurrency()`,
`emu.ledger.close_books(through)`, sandbox/qbo_company.py). Bookkeeper-side changes: `emu.ledger.create_invoice`,
`create_credit_memo`, `create_customer`, `update_document`, `delete_document` (sandbox/qbo_ledger_docs.py).
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from sandbox import seed
from sandbox.faults import Fault, Faults
from sandbox.qbo_batch import batch_size
from sandbox.qbo_company import Company
from sandbox.qbo_ledger import Ledger
from sandbox.qbo_oauth import OAuthServer
from sandbox.qbo_routes import API_ENDPOINTS, URLS, Routes, finish, json_response, new_tid, unsupported_operation
from sandbox.qbo_throttle import Throttle
from sandbox.qbo_webhooks import Webhooks
from sandbox.qbo_wire import QBOFault, gateway_body
from sandbox.serving import LoopbackServer

QBO_VERSION = "1.0.0-emulator"  # real responses carry a build number here (spec §4.5); never parse it


# Service faults a test can force once (the ledger produces them too, from real conflicts).
BUSINESS_FAULTS = {
    "6000": ("A business validation error has occurred while processing your request",
             "Business Validation Error: The transaction could not be saved (injected by the emulator)."),
    "5010": ("Stale Object Error", "Stale Object Error : You and root were working on this at the same time. "
             "root finished before you did, so your work was not saved."),
    "6210": ("Account Period Closed", "The account period has closed and can't be updated."),
}


class QBOEmulator:
    """The QuickBooks Online emulator: a werkzeug server over a Ledger and an OAuthServer."""

    def __init__(self, realm_id: str = seed.REALM_ID, client_id: str = "sandbox-client-id",
                 client_secret: str = "sandbox-client-secret", *, seed_data: bool = True,
                 clock: Callable[[], float] = time.time, limits: tuple[int, int] | None = None,
                 multicurrency: bool = False) -> None:
        self.realm_id = realm_id
        self.clock = clock
        self.ledger = Ledger(clock=clock, seed_data=seed_data, multicurrency=multicurrency)
        # Intuit documents replay only for a dropped connection with the same body, and no window (spec §3):
        # False plays the expired window / other data centre, where a repeat is a brand-new request.
        self.replay_requestids = True
        self.oauth = OAuthServer(client_id=client_id, client_secret=client_secret, realm_id=realm_id,
                                 clock=clock)
        self.faults = Faults()
        self.webhooks = Webhooks(realm_id, clock)
        self.ledger.listeners.append(self.webhooks.record)
        self.requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.base_url = ""
        self._throttle = Throttle(limits[0], limits[1], clock) if limits else None
        self._replay: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._replay_lock = threading.RLock()
        self._routes = Routes(self)
        # The OAuth gate plays the discovery-document hang fault (the token endpoint hangs inside itself).
        self._server = LoopbackServer(self.oauth.gate(self.wsgi), name="qbo-emulator")

    # ---- lifecycle -----------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:port (0: any free port) in a daemon thread; returns the base URL."""
        self._server.start(port)
        self.base_url = self._server.origin
        return self.base_url

    def stop(self) -> None:
        """Stop serving (idempotent); requests parked by a hang fault are dropped, never left hanging; the
        webhooks sender stops (joined)."""
        self.oauth.release()
        self.webhooks.stop()
        self._server.stop()

    def __enter__(self) -> QBOEmulator:
        if not self._server.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_configuration"

    @property
    def api_base(self) -> str:
        """{base}/v3/company/{realm}: where the accounting endpoints live."""
        return f"{self.base_url}/v3/company/{self.realm_id}"

    @property
    def today(self) -> Callable[[], str]:
        """The company's date for payments sent without TxnDate (settable: `emu.today = lambda: "2026-10-31"`)."""
        return self.ledger.today

    @today.setter
    def today(self, fn: Callable[[], str]) -> None:
        self.ledger.today = fn

    @property
    def company(self) -> Company:
        """Preferences and CompanyInfo (e.g. `emu.company.enable_multicurrency()`)."""
        return self.ledger.company

    @property
    def stable_order(self) -> bool:
        """False (default): a query without ORDERBY answers in a new order each time; True: by Id, as before."""
        return self.ledger.row_order.stable

    @stable_order.setter
    def stable_order(self, stable: bool) -> None:
        self.ledger.row_order.stable = stable

    @property
    def missing_txn_date(self) -> list[str]:
        """Ids of payments created without TxnDate (the bot must always send it, real-world.md 6.3)."""
        return self.ledger.missing_txn_date

    # ---- test helpers --------------------------------------------------------------------------------
    def mint_tokens(self, *, hard_expires_in: float | None = None) -> dict:
        """Valid tokens without the OAuth dance: {access_token, refresh_token, realm_id, x_refresh_token_expires_in};
        the grant's hard expiry `hard_expires_in` seconds from now (default five years)."""
        return self.oauth.mint(hard_expires_in=hard_expires_in)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        self.oauth.expire_access_tokens()

    def issue_auth_code(self, state: str = "") -> str:
        """A one-time authorization code (what the consent screen would produce); any redirect_uri."""
        return self.oauth.issue_code(None)

    # ---- WSGI ----------------------------------------------------------------------------------------
    def wsgi(self, environ: dict, start_response: Callable) -> object:
        req = Request(environ)
        fault = self.faults.take(req.method, req.path)
        resp = self._answer(req, fault)
        if "intuit_tid" not in resp.headers:  # every answer carries one, redirects and text pages too
            resp.headers["intuit_tid"] = new_tid()
        if req.path.startswith("/v3/"):
            resp.headers["qbo-version"] = QBO_VERSION
        entry = {"method": req.method, "path": req.path, "query": req.args.to_dict(),
                 "status": resp.status_code, "at": self.clock()}
        self.requests.append(entry)
        if fault is not None and fault.kind == "slow_after_commit":
            time.sleep(fault.seconds if fault.seconds is not None else 1.0)
        if fault is not None and fault.kind == "drop_after_commit":
            entry["dropped"] = True
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # werkzeug treats ConnectionError as "client went away": no 500, no traceback.
            raise ConnectionAbortedError("drop_after_commit: response deliberately lost")
        return resp(environ, start_response)

    def _answer(self, req: Request, fault: Fault | None) -> Response:
        if fault is not None:
            early = self._play(fault)
            if early is not None:
                return early
        try:
            endpoint, args = URLS.bind_to_environ(req.environ).match()
        except HTTPException as e:
            if req.path.startswith("/v3/"):  # real-world.md 6.4: a bad API path is a 400 ValidationFault "500"
                return finish(400, unsupported_operation(req).body(self.clock()), self.clock())
            return finish(e.code or 404, QBOFault(str(e.code), e.name, e.description or "",
                                                  status=e.code or 404, type="SystemFault").body(self.clock()),
                          self.clock())
        req.view_args = args
        if endpoint not in API_ENDPOINTS:
            return getattr(self._routes, endpoint)(req)
        return self._api(req, endpoint, args)

    def _play(self, fault: Fault) -> Response | None:
        """The answer a fault replaces the normal one with (None: answer normally)."""
        now = self.clock()
        if fault.kind == "slow":
            time.sleep(fault.seconds if fault.seconds is not None else 1.0)
            return None
        if fault.kind in ("drop_after_commit", "slow_after_commit"):
            return None
        if fault.kind == "429":
            return self._throttled(fault.seconds)
        if fault.kind == "401":
            return self._unauthorized("Token expired")
        if fault.kind == "500":
            return finish(500, QBOFault("10000", "An application error has occurred while processing your "
                                        "request", "System Failure Error: An unexpected error occurred while "
                                        "accessing or saving your data.", status=500,
                                        type="SystemFault").body(now), now)
        if fault.kind == "503":
            # The gateway's own page, not JSON: clients must not assume a Fault body on 5xx.
            resp = Response("<html><body><h1>503 Service Unavailable</h1>No server is available to handle "
                            "this request.</body></html>", status=503, content_type="text/html")
            resp.headers["intuit_tid"] = new_tid()
            return resp
        if fault.kind in BUSINESS_FAULTS:
            message, detail = BUSINESS_FAULTS[fault.kind]
            return finish(400, QBOFault(fault.kind, message, detail, status=400).body(now), now)
        raise ValueError(f"unknown QBO fault kind {fault.kind!r}")

    def _throttled(self, retry_after: float | None) -> Response:
        body = gateway_body("message=ThrottleExceeded; errorCode=003001; statusCode=429",
                            "The request limit was reached.", "3001", "SERVICE", self.clock())
        # Intuit documents no Retry-After (clients wait 60 s, spec §4.4); sent only when a test asks for it.
        headers = {"Retry-After": str(int(retry_after) if float(retry_after).is_integer() else retry_after)} \
            if retry_after is not None else {}
        return json_response(429, body, headers)

    def _unauthorized(self, why: str) -> Response:
        body = gateway_body("message=AuthenticationFailed; errorCode=003200; statusCode=401", why, "3200",
                            "AUTHENTICATION", self.clock())
        return json_response(401, body, {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})

    def _api(self, req: Request, endpoint: str, args: dict) -> Response:
        # `minorversion` is accepted and ignored: 1-74 are treated as 75 since 2025-08-01 (spec §2).
        realm, why = self.oauth.check_bearer(req.headers.get("Authorization"))
        if realm is None:
            return self._unauthorized(why)
        if args["realm"] != self.realm_id or realm != args["realm"]:
            # Issue 11 item 7: Intuit reproduced a 401 AuthenticationFault for a token of another realm (the
            # 403/3100 of real-world.md 6.4 was observed only in older threads).
            return self._unauthorized(f"Token is not valid for company {args['realm']}")
        if self._throttle is not None:
            # Each batch item is metered like a normal call (real-world.md 6.5: the conservative reading).
            for _ in range(batch_size(req) if endpoint == "batch" else 1):
                if not self._throttle.allow():
                    return self._throttled(None)
        rid = req.args.get("requestid")
        if not rid or not self.replay_requestids:
            return self._handle(req, endpoint, args)
        key = (args["realm"], rid)
        with self._replay_lock:  # one request per requestid at a time; completed ones are replayed
            stored = self._replay.get(key)
            if stored is not None:
                resp = Response(stored[1], status=stored[0], content_type="application/json;charset=UTF-8")
                resp.headers["intuit_tid"] = new_tid()
                return resp
            resp = self._handle(req, endpoint, args)
            self._replay[key] = (resp.status_code, resp.get_data())
            return resp

    def _handle(self, req: Request, endpoint: str, args: dict) -> Response:
        handler = getattr(self._routes, endpoint)
        try:
            if endpoint in ("read", "companyinfo"):
                status, body = handler(req, args["entity" if endpoint == "read" else "id"])
            else:
                status, body = handler(req)
        except QBOFault as f:
            return finish(f.status, f.body(self.clock()), self.clock())
        return finish(status, body, self.clock())
