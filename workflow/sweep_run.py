"""SweepService: propose a sweep, decide it, and drive its items through the JobRunner.

    awaiting_approval ─approve→ running ─every item left QuickBooks→ syncing ─every item settled→ finished
         ├─reject→ rejected / cancelled (requester)     ├─nothing applied→ finished
         └─expire→ expired                              └─guided mode→ guided_checklist ─confirmed→ finished
                                                                      (workflow/sweep_guided.py)
    leave clients out before approval, undo a finished sweep: workflow/sweep_controls.py (SweepService.controls)

Each plan item becomes an "apply" job (batch_id, batch_seq) when its turn comes: items of one client run
strictly one after another (they share credits and invoice balances; the plan assumed that order), clients in
parallel on the runner's pool. An item holds its credit (open_credit_key) only while it is in QuickBooks, so a
single request for the same credit is refused meanwhile, and two writes on one credit are never open. An item
that fails stops its client's chain (later items are recorded as skipped); the other clients go on. When every
item has left its QuickBooks step, ONE ConnectBooster sync serves them all, then each item is verified.
`advance()` is idempotent and derives everything from the stored rows, so a restart simply calls it again.

Bulk reads between rounds of at most WAVE items: workflow/prefetch.py. The message's rebuilds: sweep_publish.py.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from data.batches import Batch, BatchBusy, BatchStore
from data.events import EventKind
from data.jobs import Job, JobStore, stamp
from data.states import (
    BATCH_DECIDING,
    BATCH_TERMINAL,
    BATCH_UNDOING,
    IN_QUICKBOOKS,
    PAST_QUICKBOOKS,
    SETTLED,
    BatchState,
    JobKind,
    JobState,
)
from workflow.machine import move_batch
from workflow.policy import REFUSAL_EVENTS, Action, NotAllowed, Permit, Policy
from workflow.prefetch import Prefetch, RoundReads, confirm, read_round, unconfirmed
from workflow.sweep import Plan, heads
from workflow.sweep_controls import SweepControls
from workflow.sweep_items import create_item
from workflow.sweep_publish import PublishesMessage, PublishThrottle

log = logging.getLogger(__name__)
# Items started together with bulk reads: one read's worth, so a snapshot is seconds old at its check, not minutes.
WAVE = 100


class SweepService(PublishesMessage):
    """Built by the runner it drives (JobRunner(sweeps=...)); `planner` is the directory's plan_sweep."""

    def __init__(self, *, store: JobStore, batches: BatchStore, runner, planner: Callable[[], Plan], policy: Policy,
                 ttl: timedelta, now: Callable[[], datetime], bulk_reads: bool = True) -> None:
        self.store, self.batches, self.runner = store, batches, runner
        self.qbo, self.half = runner.qbo, runner.half
        self.policy, self.ttl, self.now = policy, ttl, now
        self.planner = planner
        self.bulk_reads = bulk_reads  # read in bulk before and after each round (False: as a single request does)
        self.prefetch = Prefetch(now=now)  # the items' snapshots, taken by their check step
        self.lock = threading.RLock()  # held while a sweep advances (guided mode's confirmation takes it too)
        self._local = threading.local()  # set while this thread advances: an item moved meanwhile is seen anyway
        self.controls = SweepControls(self)  # leave clients out of a plan, undo a finished sweep
        self.throttle = PublishThrottle(self._publish_later)  # its message rebuilt at most every second per state

    # -- proposing and deciding (who may: workflow/policy.py) -----------------------------------
    def claim(self, *, user_id: str, channel_id: str) -> Batch:
        """Take the one-sweep-at-a-time slot before reading anything (raises NotAllowed when taken or not allowed)."""
        self.policy.check(Action.PROPOSE_SWEEP, user_id, None)
        try:
            return self.batches.create(kind="sweep", requester_id=user_id, channel_id=channel_id, plan=[],
                                       total=Decimal("0"), expires_at=None, state=BatchState.PLANNING,
                                       mode=self.half.mode)
        except BatchBusy as busy:
            doing = ("being planned" if busy.batch.state == BatchState.PLANNING else busy.batch.state.label)
            raise NotAllowed(f"Sweep #{busy.batch.id} is {doing} (by <@{busy.batch.requester_id}>); one sweep at a "
                          "time.", record=False) from None

    def plan(self, batch: Batch, plan: Plan | None = None) -> tuple[Batch, Plan]:
        """Read both systems (slow: run it off Slack's threads) and put the plan up for approval.

        `plan`: one already built (the benchmark's, whose reads are not part of its figure). Raises NotAllowed when
        there is nothing to sweep; the slot is released on any failure."""
        try:
            plan = plan if plan is not None else self.planner()
        except Exception:
            move_batch(self.batches, batch, BatchState.CANCELLED)
            raise
        if not plan.items:
            move_batch(self.batches, batch, BatchState.CANCELLED)
            extra = f" Left out: {plan.left_out()}." if plan.problems else ""
            raise NotAllowed("Nothing to sweep: no unapplied credit has an open invoice to go to." + extra,
                             record=False)
        moved = move_batch(self.batches, batch, BatchState.AWAITING_APPROVAL, plan=plan.items, total=plan.total,
                           expires_at=stamp(self.now() + self.ttl))
        self.store.record(None, actor=batch.requester_id, kind=EventKind.SWEEP_REQUESTED,
                          details={"batch": batch.id, "items": len(plan.items), "total": str(plan.total),
                                   "problems": plan.problems})
        return moved or self.batches.get(batch.id), plan

    def propose(self, *, user_id: str, channel_id: str) -> tuple[Batch, Plan]:
        """Claim the slot and plan, in one go (for callers already off Slack's threads)."""
        return self.plan(self.claim(user_id=user_id, channel_id=channel_id))

    def _permit(self, action: Action, user_id: str, batch: Batch | None, channel_id: str, message_ts: str) -> Permit:
        try:
            return self.policy.check(action, user_id, batch, channel=channel_id, message_ts=message_ts)
        except NotAllowed as refused:
            if refused.record:
                self.store.record(None, actor=user_id, kind=REFUSAL_EVENTS[action, "sweep"],
                                  details={"batch": batch.id if batch else None, "reason": refused.message})
            if refused.expired and batch is not None:
                self.expire(batch)
            raise

    def approve(self, *, batch_id: int, user_id: str, channel_id: str, message_ts: str) -> Batch:
        """Start the sweep, or the proposal (raises NotAllowed); above DUAL_APPROVAL_ABOVE the first of two approvals
        only records who gave it."""
        batch = self.batches.get(batch_id)
        action = Action.ACCEPT if batch is not None and batch.proposal else Action.SWEEP_APPROVE
        permit = self._permit(action, user_id, batch, channel_id, message_ts)
        if permit.first_of_two:
            moved = move_batch(self.batches, batch, BatchState.AWAITING_SECOND_APPROVAL, first_approver_id=user_id)
        else:
            moved = move_batch(self.batches, batch, BatchState.RUNNING, approver_id=user_id,
                               decided_at=stamp(self.now()))
        if moved is None:
            raise NotAllowed(f"{batch.kind.capitalize()} #{batch.id} was already decided; nothing was changed.",
                             record=False)
        kind = EventKind.SWEEP_FIRST_APPROVAL if permit.first_of_two else \
            EventKind.PROPOSAL_ACCEPTED if batch.proposal else EventKind.SWEEP_APPROVED
        self.store.record(None, actor=user_id, kind=kind, details={"batch": batch.id})
        if permit.first_of_two:
            self._publish(moved)
        else:
            self.advance(batch.id)
        return moved

    def reject(self, *, batch_id: int, user_id: str, channel_id: str, message_ts: str) -> Batch:
        """Reject (an approver) or withdraw (the proposer) a sweep (raises NotAllowed)."""
        batch = self.batches.get(batch_id)
        action = Action.NOT_NOW if batch is not None and batch.proposal else Action.SWEEP_REJECT
        permit = self._permit(action, user_id, batch, channel_id, message_ts)
        moved = move_batch(self.batches, batch, BatchState.CANCELLED if permit.withdraw else BatchState.REJECTED,
                           approver_id=None if permit.withdraw else user_id, decided_at=stamp(self.now()))
        if moved is None:
            raise NotAllowed("That sweep was already decided; nothing was changed.", record=False)
        self.store.record(None, actor=user_id, kind=EventKind.PROPOSAL_NOT_NOW if batch.proposal else
                          EventKind.SWEEP_CANCELLED if permit.withdraw else EventKind.SWEEP_REJECTED,
                          details={"batch": batch.id})
        self._publish(moved)
        return moved

    def cancel_unposted(self, batch: Batch, error: str | None) -> Batch | None:
        """Slack refused the sweep's approval message: cancel it (the one-sweep slot is free again)."""
        self.store.record(None, actor="bot", kind=EventKind.APPROVAL_MESSAGE_REFUSED,
                          details={"batch": batch.id, "error": error})
        return move_batch(self.batches, batch, BatchState.CANCELLED)

    def expire(self, batch: Batch) -> Batch | None:
        moved = move_batch(self.batches, batch, BatchState.EXPIRED)
        if moved is not None:
            self._publish(moved)
        return moved

    def expire_due(self) -> int:
        now = stamp(self.now())
        due = [b for b in self.batches.in_states(BATCH_DECIDING) if b.expires_at and b.expires_at <= now]
        return sum(1 for b in due if self.expire(b))

    # -- running ---------------------------------------------------------------------------------
    def resume(self) -> None:
        """On start-up: continue every approved sweep (items were resumed by the runner); release a slot
        claimed by a planning that died with the process."""
        for batch in self.batches.in_states([BatchState.PLANNING]):
            move_batch(self.batches, batch, BatchState.CANCELLED)
        for batch in self.batches.in_states([BatchState.RUNNING, BatchState.SYNCING, BatchState.GUIDED_CHECKLIST,
                                             *BATCH_UNDOING]):
            self.advance(batch.id)

    def item_changed(self, job: Job) -> None:
        """While an item (with bulk reads: any) still writes nothing starts, while one is unsettled after the sync
        nothing finishes: then only the message moves (at most every second); else the sweep advances."""
        with self.lock:  # the state alone: the plan (JSON of every item) is read only to rebuild the message
            state, writing = self.batches.state_of(job.batch_id), job.state in IN_QUICKBOOKS
            if (state == BatchState.RUNNING and (writing or self.bulk_reads and self.store.count_in_batch(
                    job.batch_id, IN_QUICKBOOKS))) or (state == BatchState.SYNCING and self.store.count_in_batch(
                    job.batch_id, SETTLED, outside=True)):
                if self.throttle.due(job.batch_id, state):
                    self._rebuild(self.batches.get(job.batch_id))
                return
        self.advance(job.batch_id)

    def accepts_parked(self, job: Job) -> bool:
        """True while the item's sweep still waits to request its one sync."""
        if job.kind == JobKind.UNDO:
            batch = self.batches.get(job.batch_id)
            return batch is not None and self.controls.accepts_parked(batch)
        return self.batches.state_of(job.batch_id) == BatchState.RUNNING

    def advance(self, batch_id: int) -> None:
        """Create the next items, request the sync when all left QuickBooks, finish when all settled."""
        if getattr(self._local, "active", False):
            return  # an item this very call moved (a confirmation): the call goes on from the stored rows
        followup = None
        with self.lock:
            self._local.active = True
            try:
                batch = self.batches.get(batch_id)
                if batch is None or batch.state == BatchState.PLANNING or batch.state in BATCH_DECIDING:
                    return
                if batch.state in BATCH_TERMINAL:
                    self._publish(batch)  # e.g. an item retried after the sweep finished
                    return
                if batch.state in BATCH_UNDOING:
                    batch, followup = self.controls.advance(batch)
                if batch.state == BatchState.RUNNING:
                    items = self._next_items(batch)
                    if all(j.state not in IN_QUICKBOOKS for j in items) and len(items) == len(batch.plan):
                        batch, followup = self._finish_quickbooks(batch, items)
                if batch.state not in BATCH_TERMINAL | BATCH_UNDOING and batch.state != BatchState.RUNNING:
                    batch = self.half.settle_sweep(self, batch)  # its one sync, or its one checklist
                self._publish(batch)
            finally:
                self._local.active = False
        if followup is not None:
            followup()

    def _next_items(self, batch: Batch) -> list[Job]:
        """Per client, create the next item once the previous one left QuickBooks; skip after a failure.

        With bulk reads, only once the whole round has left QuickBooks: confirm it, then start the next."""
        existing = {j.batch_seq: j for j in self.store.in_batch(batch.id)}
        reads = None
        if self.bulk_reads:
            if any(j.state in IN_QUICKBOOKS for j in existing.values()):
                return sorted(existing.values(), key=lambda j: j.batch_seq)  # the round is still writing
            reads = self._read_round(batch, existing)
        chains: dict[str, list[dict]] = {}
        for item in batch.plan:
            chains.setdefault(item["qbo_customer_id"], []).append(item)
        started = []
        for chain in chains.values():
            failed = False
            for item in chain:
                job = existing.get(item["seq"])
                if job is None and not failed and self.bulk_reads and len(started) >= WAVE:
                    break  # the next wave: its snapshots are read when this one has left QuickBooks
                if job is None:
                    job = create_item(self.store, batch, item, skip_reason="an earlier application for this client did "
                                                                     "not complete" if failed else None)
                    existing[item["seq"]] = job
                    if job.state == JobState.APPROVED:
                        started.append(job)
                if job.state in IN_QUICKBOOKS:
                    break  # its turn: wait until it leaves QuickBooks
                failed = failed or job.state not in PAST_QUICKBOOKS
        for job in started:
            snapshot = reads.snapshot(job) if reads is not None else None
            if snapshot is not None:
                self.prefetch.put(job.id, snapshot)
            self.runner.submit(job.id)
        return sorted(existing.values(), key=lambda j: j.batch_seq)

    def _read_round(self, batch: Batch, existing: dict[int, Job]) -> RoundReads | None:
        """One bulk read between rounds: confirm the items just written, read what the next round checks."""
        waiting = unconfirmed(existing.values())
        upcoming = heads(batch.plan, existing)[:WAVE]
        if not waiting and not upcoming:
            return None
        reads = read_round(self.qbo, now=self.now,
                           invoice_ids=[j.invoice_qbo_id for j in waiting] + [i["invoice_qbo_id"] for i in upcoming],
                           credits=[(i["credit_kind"], i["qbo_credit_id"]) for i in upcoming])
        if waiting:
            confirm(self.runner, waiting, reads.invoices)
            existing.update({j.batch_seq: j for j in self.store.in_batch(batch.id)})
        return reads

    def _finish_quickbooks(self, batch: Batch, items: list[Job]):
        """Every item left QuickBooks: the ConnectBooster half takes the parked ones (one sync, or one checklist)."""
        parked = [j for j in items if j.state == JobState.AWAITING_BATCH_SYNC]
        if not parked:
            return move_batch(self.batches, batch, BatchState.FINISHED) or batch, None
        return self.half.finish_sweep(self, batch, parked)
