"""Helpers for the ConnectBooster client tests (not fixtures): building a client, applying a credit in QBO."""
from __future__ import annotations

from integrations.connectbooster import ConnectBoosterClient

API_KEY = "sandbox-cb-key"


def make_client(cb, session, retry, *, api_key: str = API_KEY, timeout: float = 5.0) -> ConnectBoosterClient:
    return ConnectBoosterClient(session=session, base_url=cb.base_url, api_key=api_key, retry=retry,
                                timeout=timeout)


def apply_credit_in_qbo(ledger, *, customer: str, invoice: str, credit_memo: str, amount) -> dict:
    """What the bot (or a person in QuickBooks) does: a $0 payment linking the invoice and the credit memo."""
    return ledger.create_payment({
        "CustomerRef": {"value": customer}, "TotalAmt": 0,
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]},
                 {"Amount": amount, "LinkedTxn": [{"TxnId": credit_memo, "TxnType": "CreditMemo"}]}],
    })
