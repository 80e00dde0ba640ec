"""The bulk sweep's plan: for every unapplied credit, what QuickBooks' Receive Payment would apply.

Oldest open invoices first; a credit larger than one invoice spreads over the next ones; invoices with a
ConnectBooster payment waiting to sync are skipped; one Payment per (credit, invoice). Several credits of one
client consume the same running balances, so no invoice is over-applied. Clients come from ConnectBooster (every
organization with an open credit, from the directory's mirror: workflow/cb_mirror.py) and are joined with
QuickBooks by `join_client`, exactly as the picker joins them, so a credit already used in QuickBooks (waiting for
a sync) is never planned again. QuickBooks is read for all of them at once (workflow/bulk.py), not client by
client. A credit QuickBooks would refuse to apply (a closed period, workflow/periods.py) is left out and named, as
is a client that could not be read, or whose credit could only go to a sub-customer's (or its parent's) invoices.
Guided mode plans from QuickBooks alone (workflow/qbo_only.plan_sweep) through the same `plan_views`.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from data.states import PAST_QUICKBOOKS
from integrations.errors import brief
from workflow.bulk import Books, read_books, relatives_owing
from workflow.cb_mirror import Snapshot
from workflow.lookup import CLOSED_PERIOD, NOT_APPLICABLE, ClientView, join_client
from workflow.periods import closed_problem, mark_closed

log = logging.getLogger(__name__)
MONEY = ("amount", "invoice_total", "invoice_balance_before", "credit_remaining_before")


@dataclass
class Plan:
    """The proposed items in execution order, plus what was left out and why (clients that could not be read,
    credits QuickBooks would refuse)."""

    items: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((Decimal(i["amount"]) for i in self.items), Decimal("0"))

    def left_out(self, limit: int = 10) -> str:
        """The problems in one line: the first `limit`, then how many more."""
        more = [f"and {len(self.problems) - limit} more"] if len(self.problems) > limit else []
        return "; ".join(self.problems[:limit] + more)


def plan_client(view: ClientView) -> list[dict]:
    """Receive Payment's allocation for one client (pure; items have no `seq` yet)."""
    balances = {i.qbo_id: i.balance for i in view.invoices}
    credits = sorted((c for c in view.credits if c.diagnosis not in NOT_APPLICABLE and c.remaining > 0),
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


def _found(side: Snapshot) -> list:
    """Each organization holding an open credit: (organization, its credits, its invoices), or its problem line."""
    found: list = []
    for org, theirs, invoices, error in side.holders():
        if error is not None:
            log.warning("sweep: organization %s skipped: %s", org.id, brief(error))
            found.append(f"{org.name}: {error}")
        elif not org.qbo_customer_id:
            found.append(f"{org.name}: not linked to a QuickBooks customer in ConnectBooster")
        else:
            found.append((org, theirs, invoices))
    return found


def plan_books(qbo, pool: ThreadPoolExecutor, side: Snapshot) -> Books:
    """The open invoices and every open credit of the clients holding a ConnectBooster credit, in bulk (and every
    active customer when ConnectBooster shows one with no open invoice: see inbox_books)."""
    found = [(org, invoices) for org, _, invoices, error in side.holders() if error is None and org.qbo_customer_id]
    return read_books(qbo, pool, [org.qbo_customer_id for org, _ in found], open_credits=True,
                      relatives=any(not invoices for _, invoices in found))


def build_plan(*, qbo, side: Snapshot, pool: ThreadPoolExecutor, today: date, books: Books | None = None) -> Plan:
    """Every organization with an open credit (`side`, the mirror's snapshot of ConnectBooster: its contract has
    no read across organizations, workflow/cb_mirror.py), QuickBooks read for all of them at once (`books`: already
    read for this side, else read now), each planned in turn."""
    found = _found(side)
    books = books if books is not None else plan_books(qbo, pool, side)
    views: list[ClientView | str] = []
    for entry in found:
        if isinstance(entry, str):
            views.append(entry)
            continue
        org, theirs, invoices = entry
        customer = org.qbo_customer_id
        if customer in books.failed:
            log.warning("sweep: organization %s skipped: %s", org.id, books.failed[customer])
            views.append(f"{org.name}: {books.failed[customer]}")
            continue
        view = join_client(org, customer, cb_credits=theirs, cb_invoices=invoices,
                           qbo_credits=books.credits.get(customer, []), qbo_invoices=books.invoices.get(customer, []))
        views.append(mark_closed(view, books.closed_through, today))
    return plan_views(views, qbo, books.everyone)


def plan_views(views: list[ClientView | str], qbo, everyone: list | None = None) -> Plan:
    """Plan each client in order, numbering the items; a string is a client that could not be read (its line);
    `everyone`: the active customers, when already read."""
    plan = Plan()
    stranded = [v.qbo_customer_id for v in views if isinstance(v, ClientView) and not v.invoices
                and any(c.remaining > 0 for c in v.usable_credits)]
    notes = relatives_owing(qbo, stranded, everyone) if stranded else {}
    for view in views:
        if isinstance(view, str):
            plan.problems.append(view)
            continue
        plan.problems += [closed_problem(view, c) for c in view.credits if c.diagnosis == CLOSED_PERIOD]
        if view.qbo_customer_id in notes:
            plan.problems.append(f"{view.name}: {notes[view.qbo_customer_id]}")
        plan.items += plan_client(view)
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
