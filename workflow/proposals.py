"""Proposals: every credit that becomes open gets one, ever, planned as the sweep plans and decided like a request.

A proposal is a batch of kind "proposal" (data/batches.py) whose items are its credit's planned applications:
QuickBooks' Receive Payment order, the oldest open invoices first, a credit larger than one invoice spread over the
next ones. Reusing the sweep's machinery (workflow/sweep_run.py) keeps ONE path to the write: each item is an
"apply" job whose check step re-reads QuickBooks before its write; the items of one credit run one after another
(they share the credit); one ConnectBooster sync, or one guided checklist, serves them all; a restart resumes them.
docs/architecture.md says why this and not a record of its own.

    noticed (credit_watch) → AWAITING_APPROVAL ─Apply as proposed→ RUNNING → … → FINISHED (Undo per application)
                               │ above DUAL_APPROVAL_ABOVE: AWAITING_SECOND_APPROVAL ─another approver→ RUNNING
                               ├ Not now → REJECTED            ├ a request for its credit → CANCELLED ("requested")
                               └ its credit used or changed in QuickBooks meanwhile → CANCELLED ("used elsewhere")
    at or under AUTO_APPLY_MAX: created RUNNING (no click), announced with Undo

One proposal per credit, ever (a unique index on batches.credit_key): a repeated webhook, a restart, a reopened
credit never make a second. New credits of one client are planned together, so two of them never aim at the same
invoice balance.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from data.batches import BOT, PROPOSAL, Batch, BatchBusy
from data.events import EventKind
from data.jobs import Job, stamp
from data.states import BATCH_DECIDING, BatchState
from integrations.errors import IntegrationError
from workflow.lookup import APPLIED_WAITING_SYNC, CLOSED_PERIOD, ClientView
from workflow.machine import move_batch
from workflow.money import fmt
from workflow.periods import closed_words
from workflow.policy import Policy
from workflow.sweep import plan_client
from workflow.text import esc

log = logging.getLogger(__name__)


class ProposalService:
    """Makes proposals (for the watcher), withdraws them when their credit changes, and serves the picker."""

    def __init__(self, *, sweeps, directory, policy: Policy, channel: str, now: Callable[[], datetime]) -> None:
        self.sweeps, self.directory, self.policy, self.channel, self.now = sweeps, directory, policy, channel, now
        self.store, self.batches = sweeps.store, sweeps.batches

    # -- making them --------------------------------------------------------------------------------------
    def propose_all(self, credits: list) -> list[Batch]:
        """One proposal for each of these newly open credits (index rows), each client's read once."""
        by_customer: dict[str, list] = {}
        for credit in credits:
            by_customer.setdefault(credit.customer_id, []).append(credit)
        made: list[Batch] = []
        for customer, theirs in by_customer.items():
            try:
                made += self._propose_client(customer, theirs)
            except IntegrationError as e:  # left in the index as new: the next pass tries again
                log.warning("proposals for customer %s postponed: %s", customer, e)
        return made

    def _propose_client(self, customer: str, credits: list) -> list[Batch]:
        try:
            view = self.directory.load(self.directory.client_for_customer(customer))
        except LookupError as e:  # e.g. not linked to a ConnectBooster organization: proposed without a plan
            return [b for c in credits if (b := self._create(c, f"customer {customer}", [], reason=str(e)))]
        keys = {c.key for c in credits}
        usable = [c for c in view.credits if c.key in keys and c.diagnosis != APPLIED_WAITING_SYNC and c.remaining > 0]
        plan = plan_client(replace(view, credits=usable))  # planned together: one running balance per invoice
        made = []
        for credit in [c for c in usable if c.diagnosis == CLOSED_PERIOD]:  # QuickBooks would refuse it: say why
            reason = f"it is {closed_words(view.books_closed_through)}, and QuickBooks refuses to change it"
            batch = self._create(credit, view.name, [], reason=reason, org_id=view.org_id, customer=customer)
            made += [batch] if batch is not None else []
        usable = [c for c in usable if c.diagnosis != CLOSED_PERIOD]
        for credit in usable:
            items = [dict(i) for i in plan if f"{i['credit_kind']}:{i['qbo_credit_id']}" == credit.key]
            batch = self._create(credit, view.name, items, org_id=view.org_id, customer=customer)
            if batch is not None:
                made.append(batch)
        return made

    def _create(self, credit, client: str, items: list[dict], *, reason: str | None = None,
                org_id: int | None = None, customer: str | None = None) -> Batch | None:
        """The proposal's row, its audit event and its message; None when the credit already had one."""
        for seq, item in enumerate(items):
            item["seq"] = seq
        total = sum((Decimal(i["amount"]) for i in items), Decimal("0"))
        amount = credit.remaining
        auto = bool(items) and reason is None and self.policy.auto_apply(amount)
        details = {"client": client, "qbo_customer_id": customer or credit.customer_id, "org_id": org_id,
                   "kind": credit.kind, "number": credit.number, "date": getattr(credit, "date", None)
                   or getattr(credit, "txn_date", ""), "amount": str(amount), "currency": credit.currency,
                   "auto": auto, "auto_max": str(self.policy.auto_max), "reason": reason,
                   "dual_above": str(self.policy.dual_above) if self.policy.needs_two(total) else None}
        extra = {"approver_id": BOT, "decided_at": stamp(self.now())} if auto else {}
        try:
            batch = self.batches.create(kind=PROPOSAL, requester_id=BOT, channel_id=self.channel, plan=items,
                                        total=total, expires_at=None, mode=self.sweeps.half.mode, credit_key=credit.key,
                                        state=BatchState.RUNNING if auto else BatchState.AWAITING_APPROVAL,
                                        details=details, **extra)
        except BatchBusy:
            return None  # proposed before (a repeated event, another pass): once, ever
        self.store.record(None, actor=BOT, kind=EventKind.AUTO_APPLIED if auto else EventKind.PROPOSED,
                          details={"batch": batch.id, "credit": credit.key, "items": len(items), "total": str(total)})
        log.info("proposal %s for %s: %d application(s)%s", batch.id, credit.key, len(items),
                 ", applied automatically" if auto else "")
        if auto:
            self.sweeps.advance(batch.id)
        else:
            self.publish(batch)
        return batch

    # -- when its credit changes ----------------------------------------------------------------------------
    def credit_changed(self, changed: dict[str, Decimal]) -> None:
        """The index saw these credits change: a proposal still waiting for its decision whose credit no longer has
        the proposed amount loses its buttons and says why (used elsewhere: in QuickBooks, a request, a sweep)."""
        for key, remaining in changed.items():
            batch = self.batches.for_credit(key)
            if batch is None or batch.state not in BATCH_DECIDING:
                continue
            proposed = Decimal(batch.details.get("amount") or "0")
            if remaining == proposed:
                continue
            holder = self.store.open_job_for_credit(key)
            where = (f" by sweep #{holder.batch_id}" if holder and holder.batch_id else
                     f" by request #{holder.id}" if holder else " in QuickBooks")
            currency = batch.details.get("currency") or "USD"
            self._withdraw(batch, f"Used elsewhere{where}: QuickBooks now shows {esc(fmt(remaining, currency))} of "
                                  f"{esc(fmt(proposed, currency))} left on this credit, so this proposal is closed; "
                                  "nothing was applied by it.")

    def requested(self, job: Job) -> None:
        """A request was made for a proposed credit (Choose…, or /applycredit): the proposal is followed there."""
        batch = self.batches.for_credit(f"{job.credit_kind}:{job.qbo_credit_id}")
        if batch is not None and batch.state in BATCH_DECIDING:
            self._withdraw(batch, f"Requested as #{job.id} by <@{job.requester_id}>: it is followed there.")

    def _withdraw(self, batch: Batch, outcome: str) -> None:
        """Closed without applying; `outcome` is mrkdwn shown as is (the bot's words; anything from outside escaped)."""
        moved = move_batch(self.batches, batch, BatchState.CANCELLED, outcome=outcome)
        if moved is None:
            return  # decided meanwhile
        self.store.record(None, actor=BOT, kind=EventKind.PROPOSAL_WITHDRAWN,
                          details={"batch": batch.id, "credit": batch.credit_key})
        self.publish(moved)

    def publish(self, batch: Batch) -> None:
        self.sweeps.runner.notifier.publish_batch(batch, self.store.in_batch(batch.id), {})

    # -- Choose… (the picker, prefilled) ---------------------------------------------------------------------
    def client_view(self, batch: Batch) -> tuple[object, ClientView]:
        """The proposal's client read live, its credit first (the picker preselects the first usable credit)."""
        client = self.directory.client_for_customer(batch.details["qbo_customer_id"])
        view = self.directory.load(client)
        view.credits.sort(key=lambda c: c.key != batch.credit_key)  # stable: the others keep their order
        return client, view
