"""Reading what changed among QuickBooks' credits: change data capture, and the entities a webhook named.

`GET /v3/company/{realm}/cdc?entities=CreditMemo,Payment&changedSince=...` answers every credit memo and payment
changed after `changedSince` (full objects; deleted ones as `{"Id", "status": "Deleted"}`), at most 1,000 per
entity, within the last 30 days; the answer's `time` is where the next window starts. A payment that applies a credit
memo changes that memo's remaining credit too: the memos a changed payment links are read as well (in bulk), so
neither path depends on QuickBooks announcing the memo's derived change.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from integrations.quickbooks_bulk import QuickBooksBulkReads
from integrations.quickbooks_models import CREDIT_MEMO, UNAPPLIED_PAYMENT, Credit, credit_from_memo, credit_from_payment

CDC_ENTITIES = "CreditMemo,Payment"
CDC_MAX = 1000  # objects per entity in one answer: exactly this many means some may be missing


@dataclass(frozen=True)
class CreditChanges:
    """Credits as QuickBooks has them now (remaining 0: used up), the ones deleted, and the answer's server time."""

    credits: list[Credit] = field(default_factory=list)
    gone: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    time: str | None = None
    capped: bool = False  # an entity came back with CDC_MAX objects: read everything instead


class QuickBooksChanges(QuickBooksBulkReads):
    """The reads that keep the bot's index of open credits fresh."""

    def credit_changes_since(self, since: str) -> CreditChanges:
        """Change data capture of credit memos and payments after `since` (ISO date-time, within 30 days)."""
        payload = self._call("GET", "cdc", params={"entities": CDC_ENTITIES, "changedSince": since})
        rows: dict[str, list[dict]] = {"CreditMemo": [], "Payment": []}
        for answer in payload.get("CDCResponse") or []:
            for part in answer.get("QueryResponse") or []:
                for entity in rows:
                    rows[entity] += part.get(entity) or []
        capped = any(len(found) >= CDC_MAX for found in rows.values())
        live = {e: [r for r in found if str(r.get("status", "")).lower() != "deleted"] for e, found in rows.items()}
        gone = [(CREDIT_MEMO, str(r["Id"])) for r in rows["CreditMemo"] if r not in live["CreditMemo"]]
        gone += [(UNAPPLIED_PAYMENT, str(r["Id"])) for r in rows["Payment"] if r not in live["Payment"]]
        credits = self._with_linked_memos(live["CreditMemo"], live["Payment"])
        return CreditChanges(credits=credits, gone=gone, time=payload.get("time"), capped=capped)

    def credits_now(self, *, memo_ids: list[str], payment_ids: list[str]) -> CreditChanges:
        """Re-read the credit memos and payments a webhook named (in bulk); the ones not found are gone."""
        memos = self._by_ids("CreditMemo", memo_ids) if memo_ids else []
        payments = self._by_ids("Payment", payment_ids) if payment_ids else []
        found_memos = {str(r["Id"]) for r in memos}
        found_payments = {str(r["Id"]) for r in payments}
        gone = [(CREDIT_MEMO, i) for i in dict.fromkeys(memo_ids) if str(i) not in found_memos]
        gone += [(UNAPPLIED_PAYMENT, i) for i in dict.fromkeys(payment_ids) if str(i) not in found_payments]
        return CreditChanges(credits=self._with_linked_memos(memos, payments), gone=gone)

    def _with_linked_memos(self, memos: list[dict], payments: list[dict]) -> list[Credit]:
        """The credits of these rows, plus every credit memo a payment among them links (read in bulk)."""
        have = {str(m["Id"]) for m in memos}
        linked = sorted({str(link.get("TxnId")) for p in payments for line in p.get("Line") or []
                         for link in line.get("LinkedTxn") or []
                         if link.get("TxnType") == "CreditMemo" and link.get("TxnId")} - have)
        memos = [*memos, *(self._by_ids("CreditMemo", linked) if linked else [])]
        credits = [credit_from_memo(m, self._currency) for m in memos]
        credits += [credit_from_payment(p, self._currency) for p in payments]
        return [c for c in credits if c.customer_id]
