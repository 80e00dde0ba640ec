"""SweepService: propose a sweep, decide it, and drive its items through the JobRunner.

    awaiting_approval ─approve→ running ─every item left QuickBooks→ syncing ─every item settled→ finished
         ├─reject→ rejected / cancelled (requester)     └─nothing applied→ finished
         └─expire→ expired

Each plan item becomes an "apply" job (batch_id, batch_seq) when its turn comes: items of one client run
strictly one after another (they share credits and invoice balances; the plan assumed that order), clients in
parallel on the runner's pool. An item holds its credit (open_credit_key) only while it is in QuickBooks, so a
single request for the same credit is refused meanwhile, and two writes on one credit are never open. An item
that fails stops its client's chain (later items are recorded as skipped); the other clients go on. When every
item has left its QuickBooks step, ONE ConnectBooster sync serves them all, then each item is verified.
`advance()` is idempotent and derives everything from the stored rows, so a restart simply calls it again.
"""
from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from data.batches import BATCH_TERMINAL, Batch, BatchBusy, BatchStore
from data.jobs import TERMINAL, CreditBusy, Job, JobStore
from integrations.errors import IntegrationError
from workflow.sweep import Plan, build_plan, item_values
from workflow.sweep_items import PARKED

log = logging.getLogger(__name__)
IN_QUICKBOOKS = ("approved", "applying_in_quickbooks", "applied_in_quickbooks")
SETTLED = TERMINAL | {"needs_attention"}


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SweepRefused(Exception):
    """A sweep request or decision that was refused; the message is for the clicker only."""


class SweepService:
    def __init__(self, *, store: JobStore, batches: BatchStore, runner, qbo, cb, pool, approvers: frozenset[str],
                 ttl: timedelta, now: Callable[[], datetime]) -> None:
        self.store, self.batches, self.runner = store, batches, runner
        self.qbo, self.cb, self.pool = qbo, cb, pool
        self.approvers, self.ttl, self.now = approvers, ttl, now
        self._lock = threading.RLock()
        runner.batch_hook = self

    # -- proposing and deciding ----------------------------------------------------------------
    def propose(self, *, user_id: str, channel_id: str) -> tuple[Batch, Plan]:
        """Read both systems and store the plan awaiting approval (SweepRefused when nothing to do or busy)."""
        open_ = self.batches.in_states(["awaiting_approval", "running", "syncing"])
        if open_:
            raise SweepRefused(f"Sweep #{open_[0].id} is still {open_[0].state.replace('_', ' ')}; "
                               "one sweep at a time.")
        plan = build_plan(qbo=self.qbo, cb=self.cb, pool=self.pool)
        if not plan.items:
            extra = (" Could not read: " + "; ".join(plan.problems)) if plan.problems else ""
            raise SweepRefused("Nothing to sweep: no unapplied credit has an open invoice to go to." + extra)
        try:
            batch = self.batches.create(kind="sweep", requester_id=user_id, channel_id=channel_id,
                                        plan=plan.items, total=plan.total, expires_at=_iso(self.now() + self.ttl))
        except BatchBusy as busy:
            raise SweepRefused(f"Sweep #{busy.batch.id} is still open; one sweep at a time.") from None
        self.store.record(None, actor=user_id, kind="sweep_requested",
                          details={"batch": batch.id, "items": len(plan.items), "total": str(plan.total),
                                   "problems": plan.problems})
        return batch, plan

    def _decidable(self, batch_id: int, user_id: str, channel_id: str, message_ts: str) -> tuple[Batch | None, str]:
        batch = self.batches.get(batch_id)
        if batch is None or batch.channel_id != channel_id or batch.parent_ts != message_ts:
            return None, "This button does not belong to that sweep; nothing was changed."
        if user_id not in self.approvers:
            return batch, "Only approvers can decide a sweep (ask a finance approver); nothing was changed."
        if user_id == batch.requester_id:
            return batch, "You requested this sweep, so a colleague has to approve it; nothing was changed."
        if batch.state != "awaiting_approval":
            return batch, f"Sweep #{batch.id} was already decided ({batch.state.replace('_', ' ')}); nothing was changed."
        if batch.expires_at and batch.expires_at <= _iso(self.now()):
            self.expire(batch)
            return batch, f"Sweep #{batch.id} expired at {batch.expires_at}; run `/applycredit sweep` again."
        return batch, ""

    def approve(self, *, batch_id: int, user_id: str, channel_id: str, message_ts: str) -> str:
        """Start the sweep; returns a refusal message, or "" when it started."""
        batch, refusal = self._decidable(batch_id, user_id, channel_id, message_ts)
        if refusal:
            self.store.record(None, actor=user_id, kind="sweep_refused_approval",
                              details={"batch": batch_id, "reason": refusal})
            return refusal
        moved = self.batches.transition(batch.id, from_states=["awaiting_approval"], to_state="running",
                                        approver_id=user_id, decided_at=_iso(self.now()))
        if moved is None:
            return f"Sweep #{batch.id} was already decided; nothing was changed."
        self.store.record(None, actor=user_id, kind="sweep_approved", details={"batch": batch.id})
        self.advance(batch.id)
        return ""

    def reject(self, *, batch_id: int, user_id: str, channel_id: str, message_ts: str) -> str:
        batch = self.batches.get(batch_id)
        own = batch is not None and batch.requester_id == user_id and batch.parent_ts == message_ts
        if not own:
            batch, refusal = self._decidable(batch_id, user_id, channel_id, message_ts)
            if refusal:
                return refusal
        moved = self.batches.transition(batch.id, from_states=["awaiting_approval"],
                                        to_state="cancelled" if own else "rejected", approver_id=None if own else user_id,
                                        decided_at=_iso(self.now()))
        if moved is None:
            return "That sweep was already decided; nothing was changed."
        self.store.record(None, actor=user_id, kind=f"sweep_{moved.state}", details={"batch": batch.id})
        self._publish(moved)
        return ""

    def expire(self, batch: Batch) -> Batch | None:
        moved = self.batches.transition(batch.id, from_states=["awaiting_approval"], to_state="expired")
        if moved is not None:
            self._publish(moved)
        return moved

    def expire_due(self) -> int:
        now = _iso(self.now())
        due = [b for b in self.batches.in_states(["awaiting_approval"]) if b.expires_at and b.expires_at <= now]
        return sum(1 for b in due if self.expire(b))

    # -- running ---------------------------------------------------------------------------------
    def resume(self) -> None:
        """On start-up: continue every approved sweep (items were resumed by the runner)."""
        for batch in self.batches.in_states(["running", "syncing"]):
            self.advance(batch.id)

    def item_changed(self, job: Job) -> None:
        self.advance(job.batch_id)

    def accepts_parked(self, job: Job) -> bool:
        """True while the item's sweep still waits to request its one sync."""
        batch = self.batches.get(job.batch_id)
        return batch is not None and batch.state == "running"

    def advance(self, batch_id: int) -> None:
        """Create the next items, request the sync when all left QuickBooks, finish when all settled."""
        run = None
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None or batch.state == "awaiting_approval":
                return
            if batch.state in BATCH_TERMINAL:
                self._publish(batch)  # e.g. an item retried after the sweep finished
                return
            if batch.state == "running":
                items = self._next_items(batch)
                if all(j.state not in IN_QUICKBOOKS for j in items) and len(items) == len(batch.plan):
                    batch, run = self._request_sync(batch, items)
            if batch.state == "syncing":
                items = self.store.in_batch(batch.id)
                if all(j.state in SETTLED for j in items):
                    batch = self.batches.transition(batch.id, from_states=["syncing"], to_state="finished") or batch
            self._publish(batch)
        if run is not None:
            try:  # the run may have ended before its items were moved to `syncing`: no poller update would come
                run = self.cb.get_sync(sync_id=run.id)
            except IntegrationError:
                return  # the poller keeps watching it
            if run.status not in ("pending", "active"):
                self.runner.on_sync_update(run)

    def _next_items(self, batch: Batch) -> list[Job]:
        """Per client, create the next item once the previous one left QuickBooks; skip after a failure."""
        existing = {j.batch_seq: j for j in self.store.in_batch(batch.id)}
        chains: dict[str, list[dict]] = {}
        for item in batch.plan:
            chains.setdefault(item["qbo_customer_id"], []).append(item)
        for chain in chains.values():
            failed = False
            for item in chain:
                job = existing.get(item["seq"])
                if job is None:
                    job = self._create_item(batch, item, skip_reason="an earlier application for this client did "
                                                                     "not complete" if failed else None)
                    existing[item["seq"]] = job
                if job.state in IN_QUICKBOOKS:
                    break  # its turn: wait until it leaves QuickBooks
                failed = failed or job.state not in (PARKED, "syncing", "sync_finished", "verified",
                                                     "invoice_resynced", "resyncing_invoice")
        return sorted(existing.values(), key=lambda j: j.batch_seq)

    def _create_item(self, batch: Batch, item: dict, skip_reason: str | None) -> Job:
        values = dict(item_values(item), kind="apply", requester_id=batch.requester_id,
                      approver_id=batch.approver_id, channel_id=batch.channel_id, batch_id=batch.id,
                      decided_at=batch.decided_at)
        details = {"batch": batch.id, "seq": item["seq"], "amount": item["amount"], "invoice": item["invoice_number"]}
        if skip_reason is None:
            try:
                job = self.store.create(actor="bot", state="approved", event="sweep_item", details=details, **values)
            except CreditBusy as busy:
                skip_reason = f"credit {item['credit_number']} is in open request #{busy.job.id}"
            else:
                self.runner.submit(job.id)
                return job
        return self.store.create(actor="bot", state="skipped", event="skipped", open_credit_key=None,
                                 completed_at=self.store.now(), error=skip_reason,
                                 details={**details, "reason": skip_reason}, **values)

    def _request_sync(self, batch: Batch, items: list[Job]):
        """One sync for every parked item (its key stored first, so a repeat after a crash joins the same run)."""
        parked = [j for j in items if j.state == PARKED]
        if not parked:
            return self.batches.transition(batch.id, from_states=["running"], to_state="finished") or batch, None
        key = batch.sync_key or f"sweep-{batch.id}-{secrets.token_hex(6)}"
        if not batch.sync_key:
            batch = self.batches.transition(batch.id, from_states=["running"], to_state="running", sync_key=key) or batch
        run = self.runner.sync.join(sync_from=self.runner.today() - timedelta(days=1), idempotency_key=key)
        for job in parked:
            self.store.transition(job.id, from_states=[PARKED], to_state="syncing", event="sync_requested",
                                  sync_id=run.id, sync_from=run.sync_from,
                                  details={"sync_id": run.id, "status": run.status, "attached": run.attached,
                                           "batch": batch.id})
        moved = self.batches.transition(batch.id, from_states=["running"], to_state="syncing", sync_id=run.id)
        return moved or self.batches.get(batch.id), run

    def _publish(self, batch: Batch) -> None:
        publish = getattr(self.runner.notifier, "publish_batch", None)
        if publish is not None:
            items = self.store.in_batch(batch.id)
            publish(batch, items, {j.id: self._reason(j) for j in items if j.state in SETTLED - {"verified"}})

    def _reason(self, job: Job) -> str:
        """Why an item did not complete, from its last event (a stale item's problems, a failure's message)."""
        if job.error:
            return job.error
        last = next((e.details for e in reversed(self.store.events(job.id)) if e.kind == job.state), {})
        return "; ".join(last.get("problems") or []) or last.get("reason") or job.state.replace("_", " ")
