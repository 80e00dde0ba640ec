"""The bulk sweep's plan: for every unapplied credit, what QuickBooks' Receive Payment would apply.

Oldest open invoices first; a credit larger than one invoice spreads over the next ones; invoices with a
ConnectBooster payment waiting to sync are skipped; one Payment per (credit, invoice). Several credits of one
client consume the same running balances, so no invoice is over-applied. Clients come from ConnectBooster
(every organization with an open credit) and are joined with QuickBooks by `load_client`, exactly as the
picker does, so a credit already used in QuickBooks (waiting for a sync) is never planned again. Guided mode plans
from QuickBooks alone (workflow/qbo_only.plan_sweep) through the same `plan_clients`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from data.states import PAST_QUICKBOOKS
from integrations.errors import IntegrationError, brief
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, load_client

log = logging.getLogger(__name__)
MONEY = ("amount", "invoice_total", "invoice_balance_before", "credit_remaining_before")


@dataclass
class Plan:
    """The proposed items in execution order, plus the clients that could not be read."""

    items: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((Decimal(i["amount"]) for i in self.items), Decimal("0"))


def plan_client(view: ClientView) -> list[dict]:
    """Receive Payment's allocation for one client (pure; items have no `seq` yet)."""
    balances = {i.qbo_id: i.balance for i in view.invoices}
    credits = sorted((c for c in view.credits if c.diagnosis != APPLIED_WAITING_SYNC and c.remaining > 0),
                     key=lambda c: (c.date, c.kind, c.number, c.qbo_id))
    items: list[dict] = []
    for credit in credits:
        left = credit.remaining
        for inv in view.invoices:  # list_open_invoices: oldest first
            if left <= 0:
                break
            balance = balances[inv.qbo_id]
            if balance <= 0 or inv.pending_payment or inv.currency != credit.currency:
                continue
            amount = min(left, balance)
            items.append({
                "client": view.name, "org_id": view.org_id, "qbo_customer_id": view.qbo_customer_id,
                "credit_kind": credit.kind, "qbo_credit_id": credit.qbo_id, "cb_credit_id": credit.cb_id,
                "credit_number": credit.number, "credit_remaining_before": str(left), "credit_date": credit.date,
                "invoice_qbo_id": inv.qbo_id, "invoice_number": inv.number, "cb_invoice_id": inv.cb_id,
                "invoice_total": str(inv.total), "invoice_balance_before": str(balance), "amount": str(amount),
                "currency": inv.currency,
            })
            left -= amount
            balances[inv.qbo_id] = balance - amount
    return items


def build_plan(*, qbo, cb, pool: ThreadPoolExecutor, workers: int = 4) -> Plan:
    """Read every organization with an open credit and plan each; one client's trouble never stops the others."""
    orgs = cb.search_organizations(text="")
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep-plan") as outer:
        has_credit = list(outer.map(lambda o: bool(cb.list_credits(org_id=o.id, status="open")), orgs))
    candidates = [o for o, yes in zip(orgs, has_credit, strict=True) if yes]
    return plan_clients(candidates, lambda org: load_client(qbo=qbo, cb=cb, org=org, pool=pool), workers=workers)


def plan_clients(candidates: list, load: Callable[[object], ClientView], *, workers: int = 4) -> Plan:
    """Load each candidate client (`load`: its ClientView) and plan it, numbering the items in order.

    A client that cannot be read is left out and named in `problems`, never stopping the others."""
    plan = Plan()
    # Its own small pool: `load` uses the read pool for its parallel reads, nesting there could starve it.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep-plan") as outer:

        def view(org):
            try:
                return load(org)
            except (IntegrationError, LookupError) as e:
                return e

        views = list(outer.map(view, candidates))
    for org, found in zip(candidates, views, strict=True):
        if isinstance(found, Exception):
            log.warning("sweep: organization %s skipped: %s", org.id, brief(found))
            plan.problems.append(f"{org.name}: {found}")
            continue
        plan.items += plan_client(found)
    for seq, item in enumerate(plan.items):
        item["seq"] = seq
    return plan


def heads(plan: list[dict], existing: dict) -> list[dict]:
    """The plan items each client starts next: its first item without a job, every earlier one past QuickBooks."""
    chains: dict[str, list[dict]] = {}
    for item in plan:
        chains.setdefault(item["qbo_customer_id"], []).append(item)
    found = []
    for chain in chains.values():
        for item in chain:
            job = existing.get(item["seq"])
            if job is None:
                found.append(item)
                break
            if job.state not in PAST_QUICKBOOKS:
                break  # still in QuickBooks, or failed: this client starts nothing now
    return found


def item_values(item: dict) -> dict:
    """The job columns of one plan item (money as Decimal)."""
    values = {k: item[k] for k in ("qbo_customer_id", "credit_kind", "qbo_credit_id", "cb_credit_id",
                                   "credit_number", "invoice_qbo_id", "invoice_number", "cb_invoice_id", "currency")}
    values.update({k: Decimal(item[k]) for k in MONEY})
    values.update(client_name=item["client"], cb_org_id=item["org_id"], batch_seq=item["seq"])
    return values
