"""The ConnectBooster half done by the bot, through the gateway that speaks docs/connectbooster-api.md.

    APPLIED ─find copy→ RESYNCING ─resync→ RESYNCED ─start or join a sync→ SYNCING ─poller→ SYNC_FINISHED ─verify→ VERIFIED

One sync serves every job waiting for one (workflow/sync.py watches it); a sweep's items wait for the sweep's one
sync. Each step is idempotent: the resync's and the sync's Idempotency-Key are stored on the job before the call.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from data.batches import Batch
from data.events import EventKind
from data.jobs import Job
from data.states import SETTLED, BatchState, JobState, Mode
from integrations.errors import IntegrationError, NotFoundError
from workflow.machine import Flavor, move, move_batch
from workflow.sync import OPEN, SyncCoordinator, SyncStuck


class AutomatedConnectBooster:
    """The port's API-mode implementation: resync, sync and verify through the ConnectBooster client."""

    mode = Mode.API

    def __init__(self, cb, *, poll_seconds: float = 3.0, timeout_seconds: float = 600.0,
                 wall_clock: Callable[[], float] | None = None, portal_url: str = "") -> None:
        self.cb = cb
        self.portal_url = portal_url  # CONNECTBOOSTER_PORTAL_URL: a stuck sync's advice links to it
        kwargs = {"wall_clock": wall_clock} if wall_clock else {}
        self.sync = SyncCoordinator(cb, on_update=self.on_sync_update, on_stuck=self.on_sync_stuck,
                                    poll_seconds=poll_seconds, timeout_seconds=timeout_seconds, **kwargs)
        self.runner = None

    @property
    def steps(self):
        return {(Flavor.APPLY, JobState.APPLIED): self.find_copy, (Flavor.APPLY, JobState.RESYNCING): self.resync,
                (Flavor.APPLY, JobState.RESYNCED): self.start_sync, (Flavor.APPLY, JobState.SYNC_FINISHED): self.verify,
                (Flavor.UNDO, JobState.SYNC_FINISHED): self.verify_undo}

    def attach(self, runner) -> None:
        self.runner = runner

    def pending_payment(self, job: Job) -> bool:
        return bool(job.cb_invoice_id) and bool(self.cb.pending_payments(invoice_id=job.cb_invoice_id))

    def resume(self, job: Job) -> None:
        if job.state == JobState.SYNCING and job.sync_id:
            self.sync.watch(job.sync_id)
        elif waits_on_stuck_sync(job):
            self.sync.mark_stuck(job.sync_id)
            self.sync.watch(job.sync_id)

    def stop(self) -> None:
        self.sync.stop()

    # -- steps -----------------------------------------------------------------------------------
    def find_copy(self, runner, job: Job) -> None:
        """Find ConnectBooster's copy of the invoice and store the resync's idempotency key."""
        cb_invoice_id = job.cb_invoice_id
        if cb_invoice_id is None and job.invoice_number:
            matches = [i for i in self.cb.find_invoices_by_number(number=job.invoice_number)
                       if i.qbo_id == job.invoice_qbo_id]
            cb_invoice_id = matches[0].id if matches else None
        if cb_invoice_id is None:
            runner.move(job, JobState.RESYNCED, event=EventKind.RESYNC_SKIPPED,
                        details={"reason": "ConnectBooster has no copy of this invoice yet; the sync will bring it"})
            return
        runner.move(job, JobState.RESYNCING, event=EventKind.RESYNC_STARTED, cb_invoice_id=cb_invoice_id,
                    cb_resync_key=job.cb_resync_key or runner.new_key("rs", job))

    def resync(self, runner, job: Job) -> None:
        # A resync takes about a second: poll it every second, or as often as SYNC_POLL_SECONDS asks if that is less.
        result = self.cb.resync_invoice_and_wait(invoice_id=job.cb_invoice_id, idempotency_key=job.cb_resync_key,
                                                 poll=min(1.0, self.sync.poll_seconds))
        answer = result.result or {}
        runner.move(job, JobState.RESYNCED, cb_resync_id=result.id,
                    details={"resync_id": result.id, "before": (answer.get("before") or {}).get("balance"),
                             "after": (answer.get("after") or {}).get("balance"),
                             "total": str(job.invoice_total) if job.invoice_total is not None else None})

    def start_sync(self, runner, job: Job) -> None:
        """Join the running sync or start one whose sync-from date covers today's change."""
        key = job.sync_key or runner.new_key("sync", job)
        if not job.sync_key:
            job = runner.note(job, EventKind.SYNC_KEY_STORED, sync_key=key) or job
        try:
            run = self.sync.join(sync_from=runner.today() - timedelta(days=1), idempotency_key=key)
        except SyncStuck as stuck:  # never "joined" to a run known to hang: say so, and wait for it to end
            self._wait_for_stuck(runner, job, stuck.run, sync_id=stuck.run.id)
            return
        moved = runner.move(job, JobState.SYNCING, event=EventKind.SYNC_REQUESTED, sync_id=run.id,
                            sync_from=run.sync_from,
                            details={"sync_id": run.id, "status": run.status, "attached": run.attached,
                                     "trigger": run.trigger, "sync_from": run.sync_from})
        if moved is not None:
            # The run may have ended between join() and this move, after its poller's last look:
            # watching again (a no-op while a poller is alive) guarantees this job sees the outcome.
            self.sync.watch(run.id)

    def verify(self, runner, job: Job) -> None:
        """ConnectBooster shows what QuickBooks has: the credit gone (or open with what is left of it, after a
        partial application) and the invoice at QuickBooks' balance."""
        credit_ok, remaining = self._credit_matches(runner, job)
        cb_balance = self._resynced_balance(runner, job) if job.invoice_balance_after is not None else None
        if cb_balance is None and job.cb_invoice_id:  # no resync answer to rely on: read ConnectBooster's copy
            cb_balance = self.cb.get_invoice(invoice_id=job.cb_invoice_id).balance
        name = job.cb_credit_id or f"#{job.credit_number} (new in QuickBooks)"
        problem = (f"ConnectBooster still shows credit {name}" if remaining == 0 else
                   f"ConnectBooster does not show credit {name} with {remaining} left")
        runner.conclude_verification(job, cb_balance=cb_balance, credit_ok=credit_ok, credit_problem=problem,
                                     details={"credit_ok": credit_ok, "credit_remaining": str(remaining)})

    def verify_undo(self, runner, job: Job) -> None:
        """The credit open again in ConnectBooster with QuickBooks' remaining amount, the invoice balances matching."""
        remaining = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id).remaining
        cb_credit = self._cb_credit(job)
        credit_ok = job.cb_credit_id is None or (cb_credit is not None and cb_credit.status == "open"
                                                 and cb_credit.remaining_amount == remaining)
        cb_balance = self.cb.get_invoice(invoice_id=job.cb_invoice_id).balance if job.cb_invoice_id else None
        runner.conclude_verification(
            job, cb_balance=cb_balance, credit_ok=credit_ok,
            credit_problem=f"ConnectBooster does not show credit {job.cb_credit_id} open with {remaining}",
            details={"credit_open": credit_ok, "credit_remaining": str(remaining)},
            before_verified=lambda: runner.mark_undone(job))

    def _cb_credit(self, job: Job):
        if not job.cb_credit_id:
            return None
        try:
            return self.cb.get_credit(credit_id=job.cb_credit_id)
        except NotFoundError:
            return None

    def _credit_matches(self, runner, job: Job) -> tuple[bool, Decimal]:
        """Does ConnectBooster's copy of the credit match QuickBooks? (and the remaining amount it should show).

        A credit our application used up needs no QuickBooks read; a partly used one is compared with what
        QuickBooks has left now (someone may have used more of it since)."""
        used_up = job.credit_remaining_before is not None and job.credit_remaining_before - job.amount == 0
        remaining = Decimal("0") if used_up else \
            runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id).remaining
        if not job.cb_credit_id:
            return self._new_credit_matches(job, remaining), remaining
        cb_credit = self._cb_credit(job)
        if cb_credit is None:
            return remaining == 0, remaining
        if remaining == 0:
            return cb_credit.status != "open", remaining
        return cb_credit.status == "open" and cb_credit.remaining_amount == remaining, remaining

    def _new_credit_matches(self, job: Job, remaining: Decimal) -> bool:
        """A credit ConnectBooster did not know when the job was made (a brand-new one): its sync brings it in already
        applied, so no open credit of the organization may be this one, unless with exactly what is left of it."""
        if job.cb_org_id is None:
            return True
        copies = [c for c in self.cb.list_credits(org_id=job.cb_org_id, status="open")
                  if c.qbo_id == job.qbo_credit_id and c.kind == job.credit_kind]
        return all(c.remaining_amount == remaining for c in copies) and (remaining == 0) == (not copies)

    @staticmethod
    def _resynced_balance(runner, job: Job) -> Decimal | None:
        """The balance ConnectBooster read from QuickBooks in this job's resync (a sync does not change it again),
        which spares a request per job; None when there was no resync."""
        resynced = [e for e in runner.store.events(job.id) if e.kind == EventKind.RESYNCED and e.details.get("after")]
        return Decimal(resynced[-1].details["after"]) if resynced else None

    # -- the sync poller's callbacks -------------------------------------------------------------
    def on_sync_update(self, run) -> None:
        runner = self.runner
        if run.status not in OPEN:
            self._stuck_ended(runner, run)
        for job in runner.store.in_states([JobState.SYNCING]):
            if job.sync_id != run.id:
                continue
            stage = next((s.integration_id for s in run.stages if s.status == "active"), None)
            progress = {"sync_id": run.id, "status": run.status, "stage": stage}
            # The sync_requested reply already said "pending": a first poll that sees the same is not news.
            seen = [e.details for e in runner.store.events(job.id)
                    if e.kind in (EventKind.SYNC_PROGRESS, EventKind.SYNC_REQUESTED)]
            if not seen or {k: seen[-1].get(k) for k in progress} != progress:
                runner.store.record(job.id, actor="bot", kind=EventKind.SYNC_PROGRESS,
                                    details={**progress, "counts": run.counts, "error": run.error})
                runner.publish(runner.store.get(job.id))
            if run.status == "finished":
                if runner.move(job, JobState.SYNC_FINISHED, details={"sync_id": run.id, "counts": run.counts}):
                    runner.submit(job.id)
            elif run.status == "failed":
                runner.attention(job, f"ConnectBooster sync {run.id} failed: {run.error or 'no reason given'}.",
                                 resume=JobState.RESYNCED, retryable=True, sync_key=None, alert=True,
                                 action="sync_again")

    def on_sync_stuck(self, run) -> None:
        runner = self.runner
        for job in runner.store.in_states([JobState.SYNCING]):
            if job.sync_id == run.id:
                self._wait_for_stuck(runner, job, run)

    def _wait_for_stuck(self, runner, job: Job, run, **values) -> None:
        """Needs attention while the run hangs: no Sync again (it would join the same run) until the run ends."""
        portal = f" ({self.portal_url}/integrations)" if self.portal_url else ""
        runner.attention(
            job, f"ConnectBooster sync {run.id} is stuck: it has been {run.status} for longer than "
                 f"{int(self.sync.timeout_seconds)} s, and ConnectBooster starts no other sync while it runs.", resume=JobState.RESYNCED,
            retryable=False, sync_key=None, alert=True, action="wait", extra={
                "stuck_sync": run.id,
                "can": f"Look at Integrations → QuickBooks Online → Sync History in the ConnectBooster portal{portal}. "
                       "If the run is still stuck in an hour, ask ConnectBooster support to clear it (ConnectBooster "
                       "itself gives up on a run after about 48 h and e-mails \"Sync Not Running\"). Sync again is "
                       "offered here as soon as the run ends: before that it could only join the same run.",
                "idle": f"I keep watching sync {run.id}: if it finishes I verify by myself; if it fails or is "
                        "cleared, I say so here and offer Sync again."}, **values)

    def _stuck_ended(self, runner, run) -> None:
        """The stuck run ended: its waiting jobs verify (finished) or are offered Sync again (failed)."""
        for job in runner.store.in_states([JobState.NEEDS_ATTENTION]):
            if not (waits_on_stuck_sync(job) and job.sync_id == run.id):
                continue
            if run.status == "finished":
                if runner.move(job, JobState.SYNC_FINISHED, event=EventKind.SYNC_UNSTUCK, error=None,
                               details={"sync_id": run.id, "status": run.status,
                                        "summary": f"stuck sync {run.id} finished after all; verifying"}):
                    runner.submit(job.id)
            else:
                moved = runner.note(job, EventKind.SYNC_UNSTUCK, retryable=1, details={
                    "sync_id": run.id, "status": run.status, "error": run.error,
                    "summary": f"stuck sync {run.id} ended ({run.status}); Sync again offered"})
                runner.publish(moved)

    # -- a sweep's one sync ------------------------------------------------------------------------
    def finish_sweep(self, sweeps, batch: Batch, parked: list[Job], *,
                     undo: bool = False) -> tuple[Batch, Callable[[], None] | None]:
        """One sync for every parked item (its key stored first, so a repeat after a crash joins the same run);
        `undo`: the parked undos of a sweep's undo (the sweep stays undoing until they settle)."""
        key = batch.sync_key or f"sweep-{batch.id}-{secrets.token_hex(6)}"
        if not batch.sync_key:
            batch = move_batch(sweeps.batches, batch, sync_key=key) or batch
        run = self.sync.join(sync_from=self.runner.today() - timedelta(days=1), idempotency_key=key)
        for job in parked:
            move(sweeps.store, job, JobState.SYNCING, event=EventKind.SYNC_REQUESTED, sync_id=run.id,
                 sync_from=run.sync_from, details={"sync_id": run.id, "status": run.status, "attached": run.attached,
                                                   "batch": batch.id})
        moved = move_batch(sweeps.batches, batch, None if undo else BatchState.SYNCING, sync_id=run.id)
        return moved or sweeps.batches.get(batch.id), lambda: self._catch_up(run)

    def settle_sweep(self, sweeps, batch: Batch) -> Batch:
        if batch.state == BatchState.SYNCING and all(j.state in SETTLED for j in sweeps.store.in_batch(batch.id)):
            return move_batch(sweeps.batches, batch, BatchState.FINISHED) or batch
        return batch

    def _catch_up(self, run) -> None:
        """The run may have ended before the sweep's items were moved to syncing: no poller update would come."""
        try:
            run = self.cb.get_sync(sync_id=run.id)
        except IntegrationError:
            return  # the poller keeps watching it
        if run.status not in OPEN:
            self.on_sync_update(run)


def waits_on_stuck_sync(job: Job) -> bool:
    """A job parked in needs attention until a stuck ConnectBooster sync ends (no Sync again offered yet)."""
    return (job.state == JobState.NEEDS_ATTENTION and not job.retryable and bool(job.sync_id)
            and job.resume_state == JobState.RESYNCED)
