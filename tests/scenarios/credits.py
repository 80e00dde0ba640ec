"""New-credit helpers for the scenarios: a world that hears QuickBooks (its webhooks signed and delivered to the
bot's own HTTP server, or CDC), proposals found by their credit, clicks on them."""
from __future__ import annotations

from decimal import Decimal

from data.batches import Batch
from tests.scenarios.world import NOTIFY

TOKEN = "qbo-verifier-token-for-scenarios"
ATOMAR = "58"                 # Atomar's Best Tackle: open invoices 10031 (Id 120, $85, the oldest) and 10040
OLDEST, OLDEST_ID = "10031", "120"


def hearing_world(make_world, *, cdc: float = 0, settings: dict | None = None, transport: str = "inprocess",
                  webhooks: bool = True, **kwargs):
    """A world whose bot serves POST /quickbooks/webhooks (QuickBooks' webhooks point at it) and/or polls CDC every
    `cdc` seconds; returned once the first full read of the open credits is done."""
    extra = {"qbo_cdc_poll_seconds": cdc, **({"qbo_webhook_verifier_token": TOKEN} if webhooks else {})}
    w = make_world(settings={**extra, **(settings or {})}, transport=transport, **kwargs)
    if webhooks:
        listen(w)
    assert w.bot.watch.wait_ready(timeout=20)
    return w


def listen(w, delay: float = 0.0) -> str:
    """Serve the bot over HTTP (whatever way Slack reaches it) and point QuickBooks' webhooks at it."""
    server = w.bot.serve_http(0, host="127.0.0.1")
    w.webhook_url = f"http://127.0.0.1:{server.effective_port}/quickbooks/webhooks"
    w.qbo.webhooks.configure(url=w.webhook_url, verifier_token=TOKEN, delay=delay)
    return w.webhook_url


def new_memo(w, amount: str, customer: str = ATOMAR, number: str = "1101") -> str:
    """A credit memo made in QuickBooks (its screens, not the bot); returns its credit key."""
    memo = w.qbo.ledger.create_credit_memo(customer, amount, txn_date="2026-11-20", doc_number=number)
    return f"credit_memo:{memo['Id']}"


def batches(w):
    return w.bot.service.sweeps.batches


def proposal(w, key: str, timeout: float = 15) -> Batch:
    """The proposal of this credit, once its message is in Slack (its ts stored)."""
    return w.slack.wait_for(lambda s: (b := batches(w).for_credit(key)) and b.parent_ts and b, timeout)


def message(w, batch: Batch) -> dict:
    return w.slack.message(NOTIFY, batch.parent_ts)


def shows(w, batch: Batch, fragment: str, timeout: float = 20) -> dict:
    """Wait until the proposal's message (updated in place) shows `fragment`."""
    return w.slack.wait_for(lambda s: fragment in str((m := message(w, batch)).get("blocks")) and m, timeout)


def click(w, batch: Batch, action_id: str, user: str, **kwargs):
    return w.driver.click(user, action_id, source=message(w, batch), **kwargs)


def wait_state(w, batch_id: int, state: str, timeout: float = 40) -> Batch:
    return w.slack.wait_for(lambda s: (b := batches(w).get(batch_id)).state == state and b, timeout)


def payments_using(w, memo_key: str) -> list[dict]:
    """QuickBooks payments with a line linking this credit memo."""
    memo_id = memo_key.split(":")[1]
    return [p for p in w.qbo.ledger.list("Payment") if any(
        link["TxnType"] == "CreditMemo" and link["TxnId"] == memo_id for line in p["Line"] for link in line["LinkedTxn"])]


def remaining(w, memo_key: str) -> Decimal:
    return Decimal(str(w.qbo.ledger.get("CreditMemo", memo_key.split(":")[1])["RemainingCredit"]))


def notices(w) -> int:
    return w.bot.connections.get().execute("SELECT count(*) FROM qbo_notices").fetchone()[0]
