"""HTTP handlers of the QBO emulator: OAuth endpoints and the accounting API (werkzeug Request in, Response out).

The emulator (sandbox/qbo_emulator.py) wraps these with logging, faults, auth, throttling and requestid replay.
"""
from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.qbo_batch import run_batch
from sandbox.qbo_cdc import change_data_capture
from sandbox.qbo_oauth import HARD_EXPIRY_HEADER, TokenError
from sandbox.qbo_wire import QBOFault, dumps, loads, not_found, stamp_ms, unsupported

if TYPE_CHECKING:
    from sandbox.qbo_emulator import QBOEmulator

ENTITY_PATHS = {"customer": "Customer", "invoice": "Invoice", "creditmemo": "CreditMemo", "payment": "Payment"}

URLS = Map([
    Rule("/.well-known/openid_configuration", endpoint="discovery", methods=["GET"]),
    Rule("/connect/oauth2", endpoint="authorize", methods=["GET"]),
    Rule("/oauth2/v1/tokens/bearer", endpoint="token", methods=["POST"]),
    Rule("/v2/oauth2/tokens/revoke", endpoint="revoke", methods=["POST"]),
    Rule("/op/v1/jwks", endpoint="jwks", methods=["GET"]),
    Rule("/v1/openid_connect/userinfo", endpoint="userinfo", methods=["GET"]),
    Rule("/v3/company/<realm>/query", endpoint="query", methods=["GET", "POST"]),
    Rule("/v3/company/<realm>/payment", endpoint="payment", methods=["POST"]),
    Rule("/v3/company/<realm>/cdc", endpoint="cdc", methods=["GET"]),
    Rule("/v3/company/<realm>/preferences", endpoint="preferences", methods=["GET"]),
    Rule("/v3/company/<realm>/companyinfo/<id>", endpoint="companyinfo", methods=["GET"]),
    Rule("/v3/company/<realm>/batch", endpoint="batch", methods=["POST"]),
    Rule("/v3/company/<realm>/<entity>/<id>", endpoint="read", methods=["GET"]),
], strict_slashes=False)


# Endpoints behind auth, realm check, throttling and requestid replay.
API_ENDPOINTS = ("query", "payment", "read", "cdc", "preferences", "companyinfo", "batch")


def unsupported_operation(req: Request) -> QBOFault:
    """400 ValidationFault code "500" for a path QuickBooks has no resource for (real-world.md 6.4)."""
    return QBOFault("500", "Unsupported Operation",
                    f"Operation Could not find resource for relative : {req.path} of full path: {req.url} "
                    f"is not supported.", status=400)


def new_tid() -> str:
    """An intuit_tid-looking unique id."""
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


def json_response(status: int, body: dict, headers: dict | None = None) -> Response:
    resp = Response(dumps(body), status=status, content_type="application/json;charset=UTF-8")
    resp.headers["intuit_tid"] = new_tid()
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


class Routes:
    """Endpoint functions bound to one emulator."""

    def __init__(self, emu: QBOEmulator) -> None:
        self.emu = emu

    # ---- OAuth ---------------------------------------------------------------------------------------
    def discovery(self, req: Request) -> Response:
        base = self.emu.base_url
        return json_response(200, {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone",
                                 "com.intuit.quickbooks.accounting"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        })

    def authorize(self, req: Request) -> Response:
        """The consent screen, auto-consenting: 302 back with code, state (verbatim, if sent) and realmId; or, when
        `oauth.deny_consent`, with error=access_denied and the state (RFC 6749 §4.1.2.1)."""
        a = req.args
        if a.get("client_id") != self.emu.oauth.client_id or not a.get("redirect_uri"):
            return Response("invalid client_id or redirect_uri", status=400, content_type="text/plain")
        if a.get("response_type") != "code":
            return Response("unsupported response_type", status=400, content_type="text/plain")
        if self.emu.oauth.deny_consent:
            params = {"error": "access_denied"}
        else:
            params = {"code": self.emu.oauth.issue_code(a["redirect_uri"]), "realmId": self.emu.realm_id}
        if "state" in a:
            params["state"] = a["state"]
        sep = "&" if "?" in a["redirect_uri"] else "?"
        return Response(status=302, headers={"Location": f"{a['redirect_uri']}{sep}{urlencode(params)}"})

    def token(self, req: Request) -> Response:
        form = req.form.to_dict()
        try:
            self.emu.oauth.check_client(req.headers.get("Authorization"))
            include_hard = req.headers.get(HARD_EXPIRY_HEADER, "").strip().lower() == "true"
            body, status = self.emu.oauth.token(form, include_hard=include_hard), 200
        except TokenError as e:
            body, status = e.body, e.status
        self.emu.token_requests.append({"grant_type": form.get("grant_type"), "status": status})
        return json_response(status, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def revoke(self, req: Request) -> Response:
        try:
            self.emu.oauth.check_client(req.headers.get("Authorization"))
        except TokenError as e:
            return json_response(e.status, e.body)
        try:
            token = json.loads(req.get_data() or b"{}").get("token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            return json_response(400, {"error": "invalid_request"})
        self.emu.oauth.revoke(token)
        resp = Response(b"", status=200)
        resp.headers["intuit_tid"] = new_tid()
        return resp

    def jwks(self, req: Request) -> Response:
        return json_response(200, {"keys": []})

    def userinfo(self, req: Request) -> Response:
        realm, why = self.emu.oauth.check_bearer(req.headers.get("Authorization"))
        if realm is None:
            return json_response(401, {"error": "invalid_token", "error_description": why})
        return json_response(200, {"sub": "sandbox-user", "email": "finance@example.com",
                                   "emailVerified": True, "givenName": "Sandbox", "familyName": "User"})

    # ---- accounting ----------------------------------------------------------------------------------
    def read(self, req: Request, entity: str) -> tuple[int, dict]:
        name = ENTITY_PATHS.get(entity.lower())
        if name is None:  # an entity the emulator does not model: what QBO says of a resource it lacks
            raise unsupported_operation(req)
        return 200, {name: self.emu.ledger.read(name, req.view_args["id"])}

    def preferences(self, req: Request) -> tuple[int, dict]:
        """GET /preferences: all preferences in one object (real-world.md 6.1)."""
        return 200, {"Preferences": self.emu.ledger.company.preferences()}

    def companyinfo(self, req: Request, company_id: str) -> tuple[int, dict]:
        """GET /companyinfo/{realm}: the company's own record (6.1); any other id is 610."""
        if company_id != self.emu.realm_id:
            raise not_found()
        return 200, {"CompanyInfo": self.emu.ledger.company.company_info(self.emu.realm_id)}

    def batch(self, req: Request) -> tuple[int, dict]:
        """POST /batch (real-world.md 6.5): independent items, per-item Faults next to successes."""
        return 200, run_batch(self.emu.ledger, req.get_data())

    def query(self, req: Request) -> tuple[int, dict]:
        if req.method == "POST":  # python-quickbooks posts the statement as application/text
            statement = req.get_data(as_text=True) or req.args.get("query", "")
        else:
            statement = req.args.get("query", "")
        return 200, {"QueryResponse": self.emu.ledger.query(statement)}

    def payment(self, req: Request) -> tuple[int, dict]:
        try:
            body = loads(req.get_data() or b"null")
        except ValueError as e:
            raise unsupported(f"Failed to parse JSON request body: {e}") from None
        op = (req.args.get("operation") or "").lower()
        ledger = self.emu.ledger
        if op == "delete":
            if not isinstance(body, dict):
                raise unsupported("Payment: the request body must be a JSON object")
            return 200, {"Payment": ledger.delete_payment(body)}
        if op == "update" and req.args.get("include", "").lower() == "void":
            if not isinstance(body, dict):
                raise unsupported("Payment: the request body must be a JSON object")
            return 200, {"Payment": ledger.void_payment(body, wire=True)}
        if op not in ("", "create", "update"):
            raise unsupported(f"operation={op} is not supported")
        return 200, {"Payment": ledger.save_payment(body, wire=True)}

    def cdc(self, req: Request) -> tuple[int, dict]:
        """Change data capture (sandbox/qbo_cdc.py): changed and deleted records, on the emulator's clock."""
        return 200, change_data_capture(self.emu.ledger, req.args.get("entities", ""),
                                        req.args.get("changedSince", ""), self.emu.clock())


def finish(status: int, body: dict, now: float) -> Response:
    """A service answer with its `time` field."""
    body = dict(body)
    body["time"] = stamp_ms(now)
    return json_response(status, body)
