"""The job runner: advances persisted jobs through the steps of workflow/machine.py, resumed on start-up.

The runner owns scheduling (one thread per job at a time), publishing (a job's events to its thread), the
shared end of every verification, the sync poller's callbacks, and turning an integration error into a
needs-attention state that says what happened and what is safe. The steps themselves live in
workflow/steps_apply.py, workflow/undo.py and workflow/sweep_items.py.
"""
from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from data.jobs import Job, JobStore, stamp
from data.states import WORKING, JobState
from integrations.errors import (
    AuthError,
    IntegrationError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from workflow import machine
from workflow.notifier import Notifier
from workflow.sync import SyncCoordinator

log = logging.getLogger(__name__)


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
        self.today = today or (lambda: datetime.now(UTC).date())
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
        since = stamp(datetime.now(UTC) - timedelta(days=1))
        for job in self.store.finished_since(since):
            self.publish(job)
        jobs = self.store.unfinished()
        for job in jobs:
            self.publish(job)
            if job.state == JobState.SYNCING and job.sync_id:
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
                try:
                    machine.step_for(job)(self, job)
                except IntegrationError as e:
                    self._trouble(job, e)
                    break
        except Exception:
            log.exception("job %s: unexpected error", job_id)
            job = self.store.get(job_id)
            if job is not None and job.state in WORKING:
                self.attention(job, "An unexpected error stopped this job; nothing more was done.",
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

    new_key = staticmethod(new_key)

    def move(self, job: Job, to_state: JobState, **kwargs) -> Job | None:
        """A guarded transition from the job's current state, published; None if someone else moved it first."""
        moved = self.store.transition(job.id, from_states=[job.state], to_state=to_state, **kwargs)
        self.publish(moved)
        return moved

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
            self.move(job, JobState.VERIFIED, details=details)
            return
        problem = credit_problem if not credit_ok else \
            f"ConnectBooster shows invoice {job.invoice_number} at {cb_balance}, QuickBooks at {qbo_balance}"
        self.attention(job, problem + " after the sync. Run the sync again.", resume=JobState.RESYNCED,
                        retryable=True, sync_key=None, extra=details, action="sync_again")

    # -- sync callbacks (from the poller thread) ----------------------------------------------
    def on_sync_update(self, run) -> None:
        for job in self.store.in_states([JobState.SYNCING]):
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
                if self.move(job, JobState.SYNC_FINISHED, details={"sync_id": run.id, "counts": run.counts}):
                    self.submit(job.id)
            elif run.status == "failed":
                self.attention(job, f"ConnectBooster sync {run.id} failed: {run.error or 'no reason given'}.",
                                resume=JobState.RESYNCED, retryable=True, sync_key=None, alert=True,
                                action="sync_again")

    def on_sync_stuck(self, run) -> None:
        for job in self.store.in_states([JobState.SYNCING]):
            if job.sync_id == run.id:
                self.attention(job, f"ConnectBooster sync {run.id} has been {run.status} for longer than "
                                     f"{int(self.sync.timeout_seconds)} s.", resume=JobState.RESYNCED,
                                retryable=True, sync_key=None, alert=True, action="sync_again")

    # -- trouble -----------------------------------------------------------------------------
    def _trouble(self, job: Job, e: IntegrationError) -> None:
        """Map an integration error to a needs-attention state that says what happened and what is safe."""
        qbo_step = job.state in (JobState.APPROVED, JobState.APPLYING, JobState.UNDOING)
        service = "QuickBooks" if qbo_step else "ConnectBooster"
        if job.state == JobState.APPLYING and isinstance(e, (TransientError, RateLimitedError)):
            # Outcome unknown: keep the requestid, so Retry replays instead of writing a second payment.
            self.attention(job, f"QuickBooks did not answer in time ({e.message}); the payment may or may not be "
                                 "recorded. Retry is safe: it repeats the same request and QuickBooks will not "
                                 "record it twice.", resume=JobState.APPLYING, retryable=True, error=e)
        elif job.state == JobState.APPLYING:
            reason = {"6210": "the accounting period is closed in QuickBooks (reopen it or ask your accountant)",
                      "6000": "QuickBooks refused the payment as invalid", "5010": "someone changed the invoice or "
                      "credit at the same time"}.get(e.code or "", e.message)
            hint = (" Reconnect with `python bot.py connect-quickbooks`, then Retry." if isinstance(e, AuthError)
                    else " Nothing was recorded; Retry re-checks the figures first.")
            self.attention(job, f"QuickBooks refused the payment: {reason}.{hint}", resume=JobState.APPROVED,
                            retryable=True, error=e, qbo_request_id=None)
        elif isinstance(e, (NotFoundError, ValidationError)) and qbo_step:
            self.attention(job, f"QuickBooks: {e.message}. Nothing was recorded.", resume=JobState.APPROVED,
                            retryable=True, error=e)
        else:
            done = "The payment is recorded in QuickBooks; " if job.qbo_payment_id else ""
            self.attention(job, f"{service} could not complete this step ({e.message}). {done}Retry is safe.",
                            resume=job.state, retryable=True, error=e)

    def attention(self, job: Job, message: str, *, resume: JobState, retryable: bool, error: IntegrationError | None = None,
                   extra: dict | None = None, alert: bool = False, action: str = "retry", **values) -> None:
        details = {"message": message, "resume": resume, "retryable": retryable, "alert": alert, "action": action,
                   **(extra or {})}
        if error is not None:
            details.update(error=type(error).__name__, code=error.code, status=error.status,
                           intuit_tid=error.intuit_tid)
        if job.batch_id and resume == JobState.APPROVED:
            # A sweep item that wrote nothing fails for good (releasing its credit); re-running the sweep retries it.
            self.publish(self.store.transition(job.id, from_states=[job.state], to_state=JobState.FAILED, event=JobState.FAILED,
                                               details=details, error=message, **values))
            return
        moved = self.store.transition(job.id, from_states=[job.state], to_state=JobState.NEEDS_ATTENTION,
                                      event=JobState.NEEDS_ATTENTION, details=details, error=message,
                                      retryable=int(retryable), resume_state=resume, **values)
        self.publish(moved)
