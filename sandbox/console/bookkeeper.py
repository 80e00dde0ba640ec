"""What a bookkeeper does in QuickBooks' own screens, from the console's books panel: a new credit memo, or a payment
received with no invoice ticked (an unapplied payment). The QuickBooks emulator announces it with a signed webhook
to the bot (after the aggregation delay, if one is set), and a proposal appears in the proposals channel."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sandbox.qbo_wire import QBOFault
from workflow.money import fmt

KINDS = {"credit_memo": "New credit memo", "payment": "Receive a payment"}


def new_credit(ledger, client: str, kind: str, amount_text: str) -> str:
    """Make the credit for `client` (a DisplayName) dated the company's today; returns what the page says.
    Raises ValueError with the words for the page."""
    if kind not in KINDS:
        raise ValueError(f"Unknown bookkeeper action {kind!r}.")
    customer = next((c for c in ledger.list("Customer") if c.get("DisplayName") == client), None)
    if customer is None:
        raise ValueError(f"{client} is not a QuickBooks customer.")
    try:
        amount = Decimal((amount_text or "").strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        amount = Decimal("0")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Type an amount above 0 with at most 2 decimals, like 25.00.")
    try:
        if kind == "credit_memo":
            doc = ledger.create_credit_memo(customer["Id"], amount, txn_date=ledger.today())
            what = f"Credit memo #{doc['DocNumber']}"
        else:
            doc = ledger.receive_payment(customer["Id"], amount, txn_date=ledger.today())
            what = f"Payment {doc['Id']} (unapplied)"
    except QBOFault as e:
        raise ValueError(f"QuickBooks refused it: {e.detail}") from None
    return (f"{what} of {fmt(amount)} recorded in QuickBooks for {client}. QuickBooks sends its webhook; the bot's "
            "proposal appears in #applycredit-notices.")
