"""Helpers for the QBO emulator tests (not fixtures): a thin HTTP client, request bodies, the Fault reader."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal

import requests

from sandbox.qbo_emulator import QBOEmulator

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"


class QBO:
    """A thin client over `requests` for the tests: Decimal JSON, bearer auth, minorversion=75."""

    def __init__(self, emu: QBOEmulator, access_token: str) -> None:
        self.emu = emu
        self.http = requests.Session()
        self.token = access_token

    def _headers(self, extra: dict | None = None) -> dict:
        h = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        h.update(extra or {})
        return h

    def get(self, entity: str, id: str) -> requests.Response:
        return self.http.get(f"{self.emu.api_base}/{entity.lower()}/{id}", headers=self._headers(),
                             params={"minorversion": 75}, timeout=10)

    def entity(self, entity: str, id: str) -> dict:
        r = self.get(entity, id)
        assert r.status_code == 200, r.text
        return r.json(parse_float=Decimal)[entity]

    def query(self, statement: str, *, post: bool = False) -> requests.Response:
        if post:
            return self.http.post(f"{self.emu.api_base}/query", params={"minorversion": 75}, data=statement,
                                  headers=self._headers({"Content-Type": "application/text"}), timeout=10)
        return self.http.get(f"{self.emu.api_base}/query", params={"query": statement, "minorversion": 75},
                             headers=self._headers(), timeout=10)

    def payment(self, body: dict, *, requestid: str | None = None, **params: str) -> requests.Response:
        params = {"minorversion": "75", "requestid": requestid or str(uuid.uuid4()), **params}
        data = _dumps(body)
        return self.http.post(f"{self.emu.api_base}/payment", params=params, data=data,
                              headers=self._headers({"Content-Type": "application/json"}), timeout=10)


def _dumps(body: dict) -> str:
    return json.dumps(body, default=lambda o: float(o) if isinstance(o, Decimal) else str(o))


def fault(resp: requests.Response) -> dict:
    """The first Error of a service Fault body."""
    return resp.json()["Fault"]["Error"][0]


def cm_payment(amount, invoice: str = "130", credit_memo: str = "150", customer: str = "58") -> dict:
    """The spec §1.2 body: a $0 payment with an Invoice line and a CreditMemo line."""
    return {"CustomerRef": {"value": customer}, "TotalAmt": 0, "TxnDate": "2026-10-01",
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]},
                     {"Amount": amount, "LinkedTxn": [{"TxnId": credit_memo, "TxnType": "CreditMemo"}]}]}
