"""The job runner: advances persisted jobs through the steps of workflow/machine.py, resumed on start-up.

The runner owns scheduling (one thread per job at a time), publishing (a job's events to its thread, a sweep
item's to its sweep), the shared end of every verification, and turning an integration error into a
needs-attention state that says what happened and what is safe. The steps live in workflow/steps_apply.py and
workflow/undo.py (the QuickBooks half), workflow/sweep_items.py, and the ConnectBooster half the bot picked
(workflow/connectbooster.py or workflow/guided.py).
"""
from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from data.events import EventKind
from data.jobs import Job, JobStore, stamp
from data.states import WORKING, JobKind, JobState
from integrations.errors import (
    AuthError,
    IntegrationError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from integrations.quickbooks_authclient import lapsed
from workflow import gate, machine
from workflow.notifier import Notifier
from workflow.policy import Policy
from workflow.ports import ConnectBoosterHalf

log = logging.getLogger(__name__)


def new_key(prefix: str, job: Job, attempt: int | None = None) -> str:
    """Unique per attempt (QuickBooks replays a requestid even after the payment was deleted)."""
    return f"{prefix}-{job.id}-{job.attempt if attempt is None else attempt}-{secrets.token_hex(6)}"


def _own_message(events: list) -> list:
    """A sweep item's events since it was asked again alone (its approval lapsed), or [] while it is only an item."""
    start = next((i for i, e in enumerate(events) if e.kind == EventKind.REAPPROVAL_REQUESTED), None)
    return events[start:] if start is not None else []


class ModeMismatch(Exception):
    """A job whose ConnectBooster half belongs to the other mode than the one the bot runs in."""


class JobRunner:
    """Advances jobs on a small thread pool; one thread per job at a time.

    `sweeps(runner)` builds the sweep service the runner tells of its items' changes (workflow/sweep_run.py)."""

    def __init__(self, *, store: JobStore, qbo, half: ConnectBoosterHalf, notifier: Notifier, workers: int = 4,
                 today: Callable[[], date] | None = None, sweeps: Callable[[JobRunner], Any] | None = None,
                 policy: Policy | None = None) -> None:
        self.store = store
        # Whether an approval still holds when its write runs (workflow/gate.py asks it before every write).
        self.policy = policy or Policy(approvers=frozenset(), undo_window=timedelta(hours=72))
        self.qbo = qbo
        self.half = half
        self.notifier = notifier
        self.today = today or (lambda: datetime.now(UTC).date())
        self.steps = machine.steps(half.steps)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._busy: set[int] = set()
        self._again: set[int] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        half.attach(self)
        self.sweeps = sweeps(self) if sweeps is not None else None
        # Told when QuickBooks refuses the stored connection (workflow/connection.py): one notice for all jobs.
        self.on_lapsed: Callable[[IntegrationError], None] = lambda error: None

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
            if job.state in WORKING:
                self.submit(job.id)
            else:
                self.half.resume(job)
        if self.sweeps is not None:
            self.sweeps.resume()
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
        self.half.stop()
        if self.sweeps is not None:
            self.sweeps.throttle.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: int) -> None:
        checked = None  # the attempt whose check passed in this pass: only its write may follow without another
        try:
            while True:
                job = self.store.get(job_id)
                if job is None or job.state not in WORKING:
                    break
                row = machine.stage(self.steps, job)
                try:
                    if not gate.admit(self, job, row, fresh=checked == (job.id, job.attempt)):
                        continue  # moved back to its check, or back to people
                    checked = None
                    self._step(job)(self, job)
                    if row in machine.CHECKS:
                        after = self.store.get(job_id)
                        checked = (job.id, after.attempt) if after.attempt != job.attempt else None
                except IntegrationError as e:
                    self._trouble(job, e)
                    break
                except ModeMismatch:
                    self.attention(job, f"This job was started in {job.mode} mode, but the bot now runs in "
                                        f"{self.half.mode} mode (CONNECTBOOSTER_MODE), so it cannot do this job's "
                                        "ConnectBooster steps. Run the bot in its mode again and Retry, or finish the "
                                        "ConnectBooster steps in the portal.", resume=job.state, retryable=True)
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

    def _step(self, job: Job) -> machine.Step:
        step = machine.step_for(self.steps, job)
        if job.mode != self.half.mode and step not in machine.QUICKBOOKS_STEPS.values():
            raise ModeMismatch(job.id)
        return step

    def publish(self, job: Job | None) -> None:
        if job is not None and job.batch_id and self.sweeps is not None:
            self.sweeps.item_changed(job)  # sweep items have no thread: the sweep's message shows them
            if job.parent_ts or job.state == JobState.AWAITING_APPROVAL:  # asked again on its own (workflow/gate.py):
                self.notifier.publish(job, _own_message(self.store.events(job.id)))  # its message and thread
        elif job is not None:
            self.notifier.publish(job, self.store.events(job.id), self._related(job))

    def _related(self, job: Job) -> Job | None:
        """The job sharing this one's message: an undo's application, or an application's latest undo."""
        if job.kind == JobKind.UNDO:
            return self.store.get(job.undo_of) if job.undo_of else None
        if job.kind == JobKind.APPLY and job.state in (JobState.VERIFIED, JobState.UNDONE):
            return self.store.latest_undo_of(job.id)
        return None

    new_key = staticmethod(new_key)

    def move(self, job: Job, to_state: JobState, **kwargs) -> Job | None:
        """A move of the table (workflow/machine.py), published; None if someone else moved it first."""
        moved = machine.move(self.store, job, to_state, **kwargs)
        self.publish(moved)
        return moved

    def note(self, job: Job, event: EventKind, **kwargs) -> Job | None:
        """An event and fields, the state unchanged (guarded by it); not published."""
        return machine.note(self.store, job, event, **kwargs)

    def mark_undone(self, undo: Job) -> None:
        """An undo's original application becomes UNDONE (first: after a crash the undo finishes again)."""
        original = self.store.get(undo.undo_of) if undo.undo_of else None
        if original is not None and original.state == JobState.VERIFIED:
            self.move(original, JobState.UNDONE, details={"undo_job": undo.id})

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

    # -- trouble -----------------------------------------------------------------------------
    def _trouble(self, job: Job, e: IntegrationError) -> None:
        """Map an integration error to a needs-attention state that says what happened and what is safe."""
        if lapsed(e):  # only a person reconnecting helps: wait for it instead of failing
            self.wait_for_reconnect(job, e)
            return
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
            # (A refused connection waits for a reconnect instead: this is a refusal a reconnect does not cure.)
            hint = (" An admin runs `python bot.py doctor` to see what QuickBooks refuses, then Retry."
                    if isinstance(e, AuthError)
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

    def wait_for_reconnect(self, job: Job, e: IntegrationError) -> None:
        """Park the job until QuickBooks is connected again; it goes back to this step then (resume_waiting)."""
        self.on_lapsed(e)  # first: the hourly check must never see a waiting job while the connection looks fine
        self.move(job, JobState.AWAITING_RECONNECT, resume_state=job.state, error=e.message,
                  details={"resume": job.state, "code": e.code, "intuit_tid": e.intuit_tid})

    def resume_waiting(self) -> int:
        """QuickBooks is connected again: every job waiting for it goes back to its step; returns how many."""
        resumed = 0
        for job in self.store.in_states([JobState.AWAITING_RECONNECT]):
            back = JobState(job.resume_state) if job.resume_state in WORKING else JobState.APPROVED
            if self.move(job, back, event=EventKind.RESUMED_AFTER_RECONNECT, error=None, resume_state=None,
                         details={"resume": back}) is not None:
                self.submit(job.id)
                resumed += 1
        return resumed

    def attention(self, job: Job, message: str, *, resume: JobState, retryable: bool, error: IntegrationError | None = None,
                   extra: dict | None = None, alert: bool = False, action: str = "retry", **values) -> None:
        details = {"message": message, "resume": resume, "retryable": retryable, "alert": alert, "action": action,
                   **(extra or {})}
        if error is not None:
            details.update(error=type(error).__name__, code=error.code, status=error.status,
                           intuit_tid=error.intuit_tid)
        if job.batch_id and resume == JobState.APPROVED and job.kind != JobKind.UNDO:
            # A sweep item that wrote nothing fails for good (releasing its credit); re-running the sweep retries it.
            self.move(job, JobState.FAILED, details=details, error=message, **values)
            return
        self.move(job, JobState.NEEDS_ATTENTION, details=details, error=message, retryable=int(retryable),
                  resume_state=resume, **values)
