"""Sweep controls: leave clients out of a plan before it is approved; undo a finished sweep, item by item.

    awaiting_approval ─leave out (an approver)→ awaiting_approval, a smaller plan and total ─every client out→ cancelled
    finished ─Undo sweep (an approver, not the proposer)→ undoing ─every undo left QuickBooks→ one sync (API) → undone
                                                              └─ guided mode → undo_checklist ─"All done"→ undone

Every VERIFIED item within UNDO_WINDOW_HOURS gets its own undo job, made exactly as a single application's
(workflow/undo.py `open_undo`) and run through the same steps: it re-reads QuickBooks and refuses, writing nothing,
when the invoice or the payment changed since. The undo jobs are jobs of the sweep (batch_id, kind undo): the
runner publishes them to the sweep, whose thread is the only one. A client's undos run one at a time, its latest
item first (a later item on the same invoice must be reversed before an earlier one), and park after the reversal
like sweep items; once every undo left QuickBooks, ONE sync (API mode) or ONE checklist (guided mode) serves them
all. Once every undo job settled (undone, refused, needs attention): one summary. SweepControls is the second half
of SweepService (its own module for size): it uses the service's lock, permit and publish.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from data.batches import Batch
from data.events import EventKind
from data.jobs import CreditBusy, Job, stamp
from data.states import SETTLED, BatchState, JobState
from workflow.machine import move, move_batch
from workflow.policy import Action, NotAllowed
from workflow.undo import open_undo
from workflow.validation import InvalidRequest

# An undo job still in its QuickBooks steps (the client's next undo waits for it).
UNDO_IN_QUICKBOOKS = frozenset({JobState.APPROVED, JobState.UNDOING, JobState.APPLIED})


@dataclass(frozen=True)
class UndoView:
    """What the sweep's messages show of its undo: the undo jobs, and why each applied item not undone was not."""

    jobs: list[Job]
    not_undone: dict[int, str] = field(default_factory=dict)  # item job id -> why (only once the undo settled)


class SweepControls:
    """Leave out and undo, for the SweepService `sweeps` (the runner's)."""

    def __init__(self, sweeps) -> None:
        self.sweeps = sweeps
        self.store, self.batches = sweeps.store, sweeps.batches

    # -- leaving clients out, before approval -------------------------------------------------------
    def may_leave_out(self, *, batch_id: int | None, user_id: str, channel_id: str | None,
                      message_ts: str | None) -> Batch:
        """The sweep, if this person may change its plan now (raises NotAllowed: "Edit plan…" says so at once)."""
        batch = self.batches.get(batch_id) if batch_id is not None else None
        self.sweeps._permit(Action.SWEEP_LEAVE_OUT, user_id, batch, channel_id, message_ts)
        return batch

    def leave_out(self, *, batch_id: int, user_id: str, channel_id: str | None, message_ts: str | None,
                  customer_ids: list[str]) -> Batch:
        """Take these clients (QuickBooks customer ids) out of the plan; all of them: the sweep is cancelled.

        Raises NotAllowed (the policy) or InvalidRequest (none of them is in the plan)."""
        if not customer_ids:
            raise InvalidRequest("clients", "Choose at least one client to leave out.")
        with self.sweeps.lock:  # two edits at once: each starts from the other's plan, never from a stale one
            batch = self.may_leave_out(batch_id=batch_id, user_id=user_id, channel_id=channel_id,
                                       message_ts=message_ts)
            wanted = set(customer_ids)
            out = [i for i in batch.plan if i["qbo_customer_id"] in wanted]
            if not out:
                raise InvalidRequest("clients", f"None of these clients is in sweep #{batch.id}'s plan any more; "
                                                "nothing was changed.")
            keep = [i for i in batch.plan if i["qbo_customer_id"] not in wanted]
            clients: dict[str, list[dict]] = {}
            for item in out:
                clients.setdefault(item["qbo_customer_id"], []).append(item)
            left = [{"qbo_customer_id": cid, "client": items[0]["client"], "items": len(items), "by": user_id,
                     "total": str(sum((Decimal(i["amount"]) for i in items), Decimal(0)))}
                    for cid, items in clients.items()]
            values = {"plan": keep, "total": sum((Decimal(i["amount"]) for i in keep), Decimal(0)),
                      "left_out": batch.left_out + left}
            to = None if keep else BatchState.CANCELLED  # nothing left to approve
            moved = move_batch(self.batches, batch, to, **values,
                               **({} if keep else {"decided_at": stamp(self.sweeps.now())}))
            if moved is None:
                raise NotAllowed(f"Sweep #{batch.id} was decided meanwhile; nothing was changed.", record=False)
            self.store.record(None, actor=user_id, kind=EventKind.SWEEP_CLIENTS_LEFT_OUT, details={
                "batch": batch.id, "clients": [c["client"] for c in left], "customers": list(clients),
                "items": len(out), "left_out_total": str(sum((Decimal(c["total"]) for c in left), Decimal(0))),
                "plan_total": str(values["total"]), "cancelled": not keep})
        self.sweeps._publish(moved)
        return moved

    # -- undoing a finished sweep ----------------------------------------------------------------------
    def undo(self, *, batch_id: int, user_id: str, channel_id: str | None, message_ts: str | None) -> Batch:
        """Undo every applied item that may be undone (raises NotAllowed); a second click changes nothing."""
        batch = self.batches.get(batch_id) if batch_id is not None else None
        self.sweeps._permit(Action.SWEEP_UNDO, user_id, batch, channel_id, message_ts)
        applied = [j for j in self.store.in_batch(batch.id) if j.qbo_payment_id]
        skipped = {}
        for item in applied:
            try:
                self.sweeps.policy.undo_item(user_id, item)
            except NotAllowed as why:
                skipped[str(item.id)] = why.message.removesuffix(" Nothing was changed.")
        if len(skipped) == len(applied):
            raise NotAllowed(f"None of sweep #{batch.id}'s applications can be undone now"
                             + (f" ({next(iter(skipped.values()))})" if skipped else "") + "; nothing was changed.",
                             record=False)
        moved = move_batch(self.batches, batch, BatchState.UNDOING, undo_by=user_id, undo_at=stamp(self.sweeps.now()),
                           undo_skipped=skipped, sync_key=None, sync_id=None, sync_from=None, checklist_at=None,
                           reminded_at=None)
        if moved is None:  # a double click, or another approver at the same moment
            now = self.batches.get(batch.id)
            raise NotAllowed(f"Sweep #{batch.id} is already being undone (by <@{now.undo_by}>); nothing was changed.",
                             record=False)
        self.store.record(None, actor=user_id, kind=EventKind.SWEEP_UNDO_REQUESTED, details={
            "batch": batch.id, "items": len(applied) - len(skipped), "not_undone": len(skipped)})
        self.sweeps.advance(batch.id)
        return moved

    def accepts_parked(self, batch: Batch) -> bool:
        """An undo job parks while its sweep's undo has not requested its one sync yet."""
        return batch.state == BatchState.UNDOING and not batch.sync_key

    def advance(self, batch: Batch) -> tuple[Batch, Callable[[], None] | None]:
        """Start the next undo of each client; once all left QuickBooks the one sync (or checklist); then undone.

        Called by SweepService.advance, under its lock; idempotent, from the stored rows."""
        if batch.state == BatchState.UNDO_CHECKLIST:
            return self._settle_checklist(batch), None
        busy, undos = self._next_undos(batch)
        if busy:
            return batch, None
        parked = [u for u in undos if u.state == JobState.AWAITING_BATCH_SYNC]
        if parked and not batch.sync_key:
            return self.sweeps.half.finish_sweep(self.sweeps, batch, parked, undo=True)
        if all(u.state in SETTLED for u in undos):
            return self._undone(batch), None
        return batch, None

    def _next_undos(self, batch: Batch) -> tuple[bool, list[Job]]:
        """(some undo is still in QuickBooks, every undo job); creates each client's next undo when its turn comes."""
        undos = {u.undo_of: u for u in self.store.in_batch(batch.id, undos=True)}
        chains: dict[str, list[Job]] = {}
        for item in self.store.in_batch(batch.id):
            if item.qbo_payment_id and str(item.id) not in batch.undo_skipped:
                chains.setdefault(item.qbo_customer_id, []).append(item)
        busy, skipped = False, {}
        for chain in chains.values():
            for item in reversed(chain):  # the latest first
                undo = undos.get(item.id)
                if undo is None:
                    try:
                        undo = open_undo(self.store, item, user_id=batch.undo_by, decided_at=batch.undo_at,
                                         batch_id=batch.id, batch_seq=item.batch_seq)
                    except CreditBusy as held:
                        skipped[str(item.id)] = (f"credit {item.credit_number} is held by open job #{held.job.id} "
                                                 f"({held.job.state.label})")
                        continue
                    undos[item.id] = undo
                    self.sweeps.runner.submit(undo.id)
                if undo.state in UNDO_IN_QUICKBOOKS:
                    busy = True
                    break  # its turn: the client's earlier items wait
                # Refused or needing attention, the next undo still goes: its own check re-reads its invoice and
                # refuses, writing nothing, if this one left it otherwise; one whose credit this one holds is named.
        if skipped:
            move_batch(self.batches, batch, undo_skipped={**batch.undo_skipped, **skipped})
        return busy, list(undos.values())

    def _settle_checklist(self, batch: Batch) -> Batch:
        """Guided mode: once the undo's checklist is confirmed, every parked undo is verified (its item undone)."""
        if batch.undo_confirmed_by:
            for undo in self.store.in_batch(batch.id, undos=True):
                if undo.state == JobState.AWAITING_BATCH_SYNC:
                    self.sweeps.runner.mark_undone(undo)  # first: a crash in between finishes the same way
                    move(self.store, undo, JobState.VERIFIED, actor=batch.undo_confirmed_by,
                         details={"batch": batch.id, "guided": True, "confirmed_by": batch.undo_confirmed_by})
        if all(u.state in SETTLED for u in self.store.in_batch(batch.id, undos=True)):
            return self._undone(batch)
        return batch

    def _undone(self, batch: Batch) -> Batch:
        """Every undo job settled: the sweep is undone, and the audit trail says how much of it."""
        moved = move_batch(self.batches, batch, BatchState.UNDONE)
        if moved is None:
            return self.batches.get(batch.id)
        applied = [j for j in self.store.in_batch(batch.id) if j.qbo_payment_id]
        undone = sum(1 for j in applied if j.state == JobState.UNDONE)
        self.store.record(None, actor="bot", kind=EventKind.SWEEP_UNDONE, details={
            "batch": batch.id, "undone": undone, "applied": len(applied),
            "summary": f"sweep #{batch.id} undone: {undone} of {len(applied)} applications reversed"})
        return moved

    # -- what the messages show ---------------------------------------------------------------------------
    def view(self, batch: Batch, items: list[Job]) -> UndoView:
        """The undo jobs; once undone, why each applied item that is not undone is not (for the summary)."""
        undos = self.store.in_batch(batch.id, undos=True)
        if batch.state != BatchState.UNDONE:
            return UndoView(undos)
        by_item = {u.undo_of: u for u in undos}
        why = {}
        for item in items:
            if not item.qbo_payment_id or item.state == JobState.UNDONE:
                continue
            undo = by_item.get(item.id)
            if str(item.id) in batch.undo_skipped:
                why[item.id] = batch.undo_skipped[str(item.id)]
            else:
                why[item.id] = self._undo_reason(undo) if undo is not None else "no undo was started for it"
        return UndoView(undos, why)

    def _undo_reason(self, undo: Job) -> str:
        """Why an undo job did not undo its item: QuickBooks changed since (refused), or what stopped it."""
        if undo.state == JobState.STALE:
            refused = next((e for e in reversed(self.store.events(undo.id)) if e.kind == EventKind.UNDO_REFUSED), None)
            problems = (refused.details.get("problems") if refused else None) or []
            return "refused, nothing written: " + ("; ".join(problems) or "QuickBooks changed since")
        return undo.error or f"undo #{undo.id} is {undo.state.label}"
