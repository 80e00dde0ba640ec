"""The credit-application job runner: a persisted state machine, resumed on start-up.

    awaiting_approval ─approve→ approved ─check→ applying_in_quickbooks → applied_in_quickbooks
         │                           └─changed→ stale
         ├─reject→ rejected        → resyncing_invoice → invoice_resynced → syncing → sync_finished → verified
         └─expire→ expired         any step ─error→ needs_attention (Retry returns it to `resume_state`)

Each step is idempotent: the QuickBooks `requestid` and the ConnectBooster `Idempotency-Key` are stored on
the job before the call, so a step repeated after a crash replays instead of writing twice.
"""
from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

from data.jobs import Job, JobStore
from integrations.errors import (AuthError, IntegrationError, NotFoundError, RateLimitedError,
                                 TransientError, ValidationError)
from workflow import sweep_items, undo
from workflow.notifier import Notifier
from workflow.sync import SyncCoordinator

log = logging.getLogger(__name__)
WORKING = ("approved", "applying_in_quickbooks", "applied_in_quickbooks", "resyncing_invoice",
           "invoice_resynced", "sync_finished", "undoing_in_quickbooks")


def new_key(prefix: str, job: Job, attempt: int | None = None) -> str:
    """Unique per attempt (QuickBooks replays a requestid even after the payment was deleted)."""
    return f"{prefix}-{job.id}-{job.attempt if attempt is None else attempt}-{secrets.token_hex(6)}"


class JobRunner:
    """Advances jobs on a small thread pool; one thread per job at a time."""

    def __init__(self, *, store: JobStore, qbo, cb, notifier: Notifier, poll_seconds: float = 3.0,
                 timeout_seconds: float = 600.0, workers: int = 4, today: Callable[[], date] | None = None,
                 wall_clock: Callable[[], float] | None = None) -> None:
        self.store = store
        self.qbo = qbo
        self.cb = cb
        self.notifier = notifier
        self.today = today or (lambda: datetime.now(timezone.utc).date())
        kwargs = {"wall_clock": wall_clock} if wall_clock else {}
        self.sync = SyncCoordinator(cb, on_update=self.on_sync_update, on_stuck=self.on_sync_stuck,
                                    poll_seconds=poll_seconds, timeout_seconds=timeout_seconds, **kwargs)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._busy: set[int] = set()
        self._again: set[int] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.batch_hook = None  # the sweep (workflow/sweep_run.py): told of its items' changes instead of the notifier

    # -- scheduling --------------------------------------------------------------------------
    def resume_all(self) -> int:
        """On start-up: re-publish every unfinished job's history, then continue it."""
        # A crash between a job's last transition and its publish() would lose the final reply and the notice:
        # re-publish what finished lately too (publishing is idempotent per event).
        since = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(timespec="milliseconds")
        for job in self.store.finished_since(since.replace("+00:00", "Z")):
            self.publish(job)
        jobs = self.store.unfinished()
        for job in jobs:
            self.publish(job)
            if job.state == "syncing" and job.sync_id:
                self.sync.watch(job.sync_id)
            elif job.state in WORKING:
                self.submit(job.id)
        if self.batch_hook is not None:
            self.batch_hook.resume()
        return len(jobs)

    def submit(self, job_id: int) -> None:
        with self._lock:
            if job_id in self._busy:
                self._again.add(job_id)  # ran again once the current pass ends
                return
            self._busy.add(job_id)
        self._pool.submit(self._run, job_id)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def stop(self) -> None:
        self.sync.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: int) -> None:
        try:
            while True:
                job = self.store.get(job_id)
                if job is None or job.state not in WORKING:
                    break
                step = (undo.step_for(self, job) or sweep_items.step_for(self, job)
                        or getattr(self, f"_step_{job.state}"))
                try:
                    step(job)
                except IntegrationError as e:
                    self._trouble(job, e)
                    break
        except Exception:
            log.exception("job %s: unexpected error", job_id)
            job = self.store.get(job_id)
            if job is not None and job.state in WORKING:
                self._attention(job, "An unexpected error stopped this job; nothing more was done.",
                                resume=job.state, retryable=True)
        finally:
            with self._idle:
                self._busy.discard(job_id)
                again = job_id in self._again
                self._again.discard(job_id)
                self._idle.notify_all()
            if again:
                self.submit(job_id)

    def publish(self, job: Job | None) -> None:
        if job is not None and job.batch_id and self.batch_hook is not None:
            self.batch_hook.item_changed(job)  # sweep items have no thread: the sweep's message shows them
        elif job is not None:
            self.notifier.publish(job, self.store.events(job.id))

    def _move(self, job: Job, to_state: str, **kwargs) -> Job | None:
        moved = self.store.transition(job.id, from_states=[job.state], to_state=to_state, **kwargs)
        self.publish(moved)
        return moved

    # -- steps -------------------------------------------------------------------------------
    def _step_approved(self, job: Job) -> None:
        """Re-read both documents; refuse if anything changed since the request, else store a requestid."""
        invoice = self.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
        credit = self.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
        problems = []
        if invoice.balance != job.invoice_balance_before:
            problems.append(f"invoice {job.invoice_number} balance is now {invoice.balance} "
                            f"(was {job.invoice_balance_before})")
        if credit.remaining != job.credit_remaining_before:
            problems.append(f"credit remaining is now {credit.remaining} (was {job.credit_remaining_before})")
        if invoice.customer_id != job.qbo_customer_id or credit.customer_id != job.qbo_customer_id:
            problems.append("the invoice and the credit no longer belong to the same customer")
        if invoice.currency != credit.currency:
            problems.append(f"currencies differ ({invoice.currency} / {credit.currency})")
        if job.amount > min(invoice.balance, credit.remaining):
            problems.append(f"{job.amount} is more than what is open now")
        if job.cb_invoice_id and self.cb.pending_payments(invoice_id=job.cb_invoice_id):
            problems.append(f"invoice {job.invoice_number} now has a ConnectBooster payment waiting to sync")
        if problems:
            self._move(job, "stale", details={"problems": problems, "invoice_balance": str(invoice.balance),
                                              "credit_remaining": str(credit.remaining)})
            return
        attempt = job.attempt + 1
        self._move(job, "applying_in_quickbooks", event="quickbooks_write_started",
                   attempt=attempt, qbo_request_id=new_key("ac", job, attempt),
                   details={"attempt": attempt})

    def _step_applying_in_quickbooks(self, job: Job) -> None:
        """The one ledger write, under the stored requestid (a repeat replays, never duplicates)."""
        note = f"applycredit job {job.id}: {job.credit_kind.replace('_', ' ')} {job.credit_number} to invoice {job.invoice_number}"
        if job.credit_kind == "credit_memo":
            result = self.qbo.apply_credit_memo(customer_id=job.qbo_customer_id, invoice_id=job.invoice_qbo_id,
                                                credit_memo_id=job.qbo_credit_id, amount=job.amount,
                                                request_id=job.qbo_request_id, txn_date=self.today().isoformat(),
                                                note=note)
        else:
            result = self.qbo.apply_unapplied_payment(payment_id=job.qbo_credit_id, invoice_id=job.invoice_qbo_id,
                                                      amount=job.amount, request_id=job.qbo_request_id, note=note)
        invoice = self.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
        details = {"payment_id": result.payment_id, "intuit_tid": result.intuit_tid,
                   "request_id": job.qbo_request_id, "balance_before": str(job.invoice_balance_before),
                   "balance_after": str(invoice.balance)}
        expected = job.invoice_balance_before - job.amount
        if invoice.balance != expected:
            self._attention(job, f"QuickBooks accepted Payment {result.payment_id}, but invoice {job.invoice_number} "
                                 f"shows {invoice.balance} instead of {expected}. Check the invoice in QuickBooks "
                                 "(a closed period can make QuickBooks ignore a change) before anything else.",
                            resume="applied_in_quickbooks", retryable=False, qbo_payment_id=result.payment_id,
                            invoice_balance_after=invoice.balance, extra=details)
            return
        self._move(job, "applied_in_quickbooks", qbo_payment_id=result.payment_id, invoice_balance_after=invoice.balance,
                   applied_at=self.store.now(), details=details)

    def _step_applied_in_quickbooks(self, job: Job) -> None:
        """Find ConnectBooster's copy of the invoice and store the resync's idempotency key."""
        cb_invoice_id = job.cb_invoice_id
        if cb_invoice_id is None and job.invoice_number:
            matches = [i for i in self.cb.find_invoices_by_number(number=job.invoice_number)
                       if i.qbo_id == job.invoice_qbo_id]
            cb_invoice_id = matches[0].id if matches else None
        if cb_invoice_id is None:
            self._move(job, "invoice_resynced", event="resync_skipped",
                       details={"reason": "ConnectBooster has no copy of this invoice yet; the sync will bring it"})
            return
        self._move(job, "resyncing_invoice", event="resync_started", cb_invoice_id=cb_invoice_id,
                   cb_resync_key=job.cb_resync_key or new_key("rs", job))

    def _step_resyncing_invoice(self, job: Job) -> None:
        resync = self.cb.resync_invoice_and_wait(invoice_id=job.cb_invoice_id, idempotency_key=job.cb_resync_key)
        result = resync.result or {}
        self._move(job, "invoice_resynced", cb_resync_id=resync.id,
                   details={"resync_id": resync.id, "before": (result.get("before") or {}).get("balance"),
                            "after": (result.get("after") or {}).get("balance"),
                            "total": str(job.invoice_total) if job.invoice_total is not None else None})

    def _step_invoice_resynced(self, job: Job) -> None:
        """Join the running sync or start one whose sync-from date covers today's change."""
        key = job.sync_key or new_key("sync", job)
        if not job.sync_key:
            job = self.store.update(job.id, expect_state=job.state, event="sync_key_stored", sync_key=key) or job
        sync_from = self.today() - timedelta(days=1)
        run = self.sync.join(sync_from=sync_from, idempotency_key=key)
        moved = self._move(job, "syncing", event="sync_requested", sync_id=run.id, sync_from=run.sync_from,
                           details={"sync_id": run.id, "status": run.status, "attached": run.attached,
                                    "trigger": run.trigger, "sync_from": run.sync_from})
        if moved is not None:
            # The run may have ended between join() and this transition, after its poller's last look:
            # watching again (a no-op while a poller is alive) guarantees this job sees the outcome.
            self.sync.watch(run.id)

    def _step_sync_finished(self, job: Job) -> None:
        """Verify: the credit gone from ConnectBooster and the invoice balance there matching QuickBooks."""
        credit_gone = job.cb_credit_id is None or self._credit_gone(job.cb_credit_id)
        cb_balance = self._resynced_balance(job) if job.invoice_balance_after is not None else None
        if cb_balance is None and job.cb_invoice_id:  # no resync answer to rely on: read ConnectBooster's copy
            cb_balance = self.cb.get_invoice(invoice_id=job.cb_invoice_id).balance
        self.conclude_verification(job, cb_balance=cb_balance, credit_ok=credit_gone,
                                   credit_problem=f"ConnectBooster still shows credit {job.cb_credit_id}",
                                   details={"credit_gone": credit_gone})

    def conclude_verification(self, job: Job, *, cb_balance: Decimal | None, credit_ok: bool, credit_problem: str,
                              details: dict, before_verified: Callable[[], None] | None = None) -> None:
        """The end every verification shares (apply, sweep item, undo): compare ConnectBooster's invoice balance
        with QuickBooks', then verified, or needs attention with Sync again."""
        qbo_balance = job.invoice_balance_after
        if cb_balance is not None and cb_balance != qbo_balance and job.invoice_qbo_id:
            # Someone (or a later sweep item) may have changed the invoice since our write: compare with now.
            qbo_balance = self.qbo.get_invoice(invoice_id=job.invoice_qbo_id).balance
        details = {**details, "qbo_balance": str(qbo_balance), "sync_id": job.sync_id,
                   "cb_balance": str(cb_balance) if cb_balance is not None else None}
        if credit_ok and (cb_balance is None or cb_balance == qbo_balance):
            if before_verified is not None:
                before_verified()
            self._move(job, "verified", details=details)
            return
        problem = credit_problem if not credit_ok else \
            f"ConnectBooster shows invoice {job.invoice_number} at {cb_balance}, QuickBooks at {qbo_balance}"
        self._attention(job, problem + " after the sync. Run the sync again.", resume="invoice_resynced",
                        retryable=True, sync_key=None, extra=details, action="sync_again")

    def _resynced_balance(self, job: Job) -> Decimal | None:
        """The balance ConnectBooster read from QuickBooks in this job's resync (a sync does not change it again),
        which spares a request per job; None when there was no resync."""
        resynced = [e for e in self.store.events(job.id) if e.kind == "invoice_resynced" and e.details.get("after")]
        return Decimal(resynced[-1].details["after"]) if resynced else None

    def _credit_gone(self, cb_credit_id: int) -> bool:
        try:
            return self.cb.get_credit(credit_id=cb_credit_id).status != "open"
        except NotFoundError:
            return True

    # -- sync callbacks (from the poller thread) ----------------------------------------------
    def on_sync_update(self, run) -> None:
        for job in self.store.in_states(["syncing"]):
            if job.sync_id != run.id:
                continue
            stage = next((s.integration_id for s in run.stages if s.status == "active"), None)
            progress = {"sync_id": run.id, "status": run.status, "stage": stage}
            # The sync_requested reply already said "pending": a first poll that sees the same is not news.
            seen = [e.details for e in self.store.events(job.id) if e.kind in ("sync_progress", "sync_requested")]
            if not seen or {k: seen[-1].get(k) for k in progress} != progress:
                self.store.record(job.id, actor="bot", kind="sync_progress",
                                  details={**progress, "counts": run.counts, "error": run.error})
                self.publish(self.store.get(job.id))
            if run.status == "finished":
                if self._move(job, "sync_finished", details={"sync_id": run.id, "counts": run.counts}):
                    self.submit(job.id)
            elif run.status == "failed":
                self._attention(job, f"ConnectBooster sync {run.id} failed: {run.error or 'no reason given'}.",
                                resume="invoice_resynced", retryable=True, sync_key=None, alert=True,
                                action="sync_again")

    def on_sync_stuck(self, run) -> None:
        for job in self.store.in_states(["syncing"]):
            if job.sync_id == run.id:
                self._attention(job, f"ConnectBooster sync {run.id} has been {run.status} for longer than "
                                     f"{int(self.sync.timeout_seconds)} s.", resume="invoice_resynced",
                                retryable=True, sync_key=None, alert=True, action="sync_again")

    # -- trouble -----------------------------------------------------------------------------
    def _trouble(self, job: Job, e: IntegrationError) -> None:
        """Map an integration error to a needs-attention state that says what happened and what is safe."""
        qbo_step = job.state in ("approved", "applying_in_quickbooks", "undoing_in_quickbooks")
        service = "QuickBooks" if qbo_step else "ConnectBooster"
        if job.state == "applying_in_quickbooks" and isinstance(e, (TransientError, RateLimitedError)):
            # Outcome unknown: keep the requestid, so Retry replays instead of writing a second payment.
            self._attention(job, f"QuickBooks did not answer in time ({e.message}); the payment may or may not be "
                                 "recorded. Retry is safe: it repeats the same request and QuickBooks will not "
                                 "record it twice.", resume="applying_in_quickbooks", retryable=True, error=e)
        elif job.state == "applying_in_quickbooks":
            reason = {"6210": "the accounting period is closed in QuickBooks (reopen it or ask your accountant)",
                      "6000": "QuickBooks refused the payment as invalid", "5010": "someone changed the invoice or "
                      "credit at the same time"}.get(e.code or "", e.message)
            hint = (" Reconnect with `python bot.py connect-quickbooks`, then Retry." if isinstance(e, AuthError)
                    else " Nothing was recorded; Retry re-checks the figures first.")
            self._attention(job, f"QuickBooks refused the payment: {reason}.{hint}", resume="approved",
                            retryable=True, error=e, qbo_request_id=None)
        elif isinstance(e, (NotFoundError, ValidationError)) and qbo_step:
            self._attention(job, f"QuickBooks: {e.message}. Nothing was recorded.", resume="approved",
                            retryable=True, error=e)
        else:
            done = "The payment is recorded in QuickBooks; " if job.qbo_payment_id else ""
            self._attention(job, f"{service} could not complete this step ({e.message}). {done}Retry is safe.",
                            resume=job.state, retryable=True, error=e)

    def _attention(self, job: Job, message: str, *, resume: str, retryable: bool, error: IntegrationError | None = None,
                   extra: dict | None = None, alert: bool = False, action: str = "retry", **values) -> None:
        details = {"message": message, "resume": resume, "retryable": retryable, "alert": alert, "action": action,
                   **(extra or {})}
        if error is not None:
            details.update(error=type(error).__name__, code=error.code, status=error.status,
                           intuit_tid=error.intuit_tid)
        if job.batch_id and resume == "approved":
            # A sweep item that wrote nothing fails for good (releasing its credit); re-running the sweep retries it.
            self.publish(self.store.transition(job.id, from_states=[job.state], to_state="failed", event="failed",
                                               details=details, error=message, **values))
            return
        moved = self.store.transition(job.id, from_states=[job.state], to_state="needs_attention",
                                      event="needs_attention", details=details, error=message,
                                      retryable=int(retryable), resume_state=resume, **values)
        self.publish(moved)
