"""The gate before every QuickBooks write: re-read and re-validated against its approval whenever it runs.

The runner asks `admit()` before each step (workflow/runner.py), with the step table's row of the job:

- a write (`machine.WRITES`: applying, undoing) runs only straight after its check, in the same pass of the
  runner. Reached any other way (a Retry, a restart, a sweep item's Retry, whatever path is added later) it goes
  back to its check, unless QuickBooks already shows the write (then the write step only records and confirms it);
- a check (`machine.CHECKS`: the approved state before a write) first asks the policy whether the approval still
  holds (`Policy.lapsed`). An application approved longer ago than APPROVAL_TTL_HOURS goes back to people with
  today's figures (a sweep item too, as a request of its own in the sweep's channel; an item of a guided sweep
  fails instead: it has no ConnectBooster steps of its own, the sweep is run again); an undo past its window is
  not made (stale, with the reason). Then the check step re-reads QuickBooks and compares it with the approval
  (amounts, balances, the undo's "unchanged since"), as it always did.

Proposals and auto-applied credits are application jobs: they pass the same gate.
"""
from __future__ import annotations

from datetime import timedelta

from data.events import EventKind
from data.jobs import Job, stamp
from data.states import JobKind, JobState, Mode
from workflow import machine


def admit(runner, job: Job, row: tuple, fresh: bool) -> bool:
    """True: run the row's step now. False: the job was moved instead (back to its check, or back to people).

    `fresh`: the job's check passed in this same pass of the runner (its write follows it directly)."""
    done = machine.WRITES.get(row)
    if done is not None and not fresh:
        if done(runner, job):
            return True
        runner.move(job, JobState.APPROVED, event=EventKind.RECHECK,
                    details={"attempt": job.attempt, "reason": "the write did not follow its check in this run"})
        return False
    if row in machine.CHECKS:
        original = runner.store.get(job.undo_of) if job.undo_of else None
        reason = runner.policy.lapsed(job, original)
        if reason is not None:
            send_back(runner, job, reason)
            return False
    return True


def send_back(runner, job: Job, reason: str) -> None:
    """The approval behind the write no longer holds: nothing is written, people decide again."""
    if job.kind == JobKind.UNDO:
        runner.move(job, JobState.STALE, event=EventKind.UNDO_REFUSED, details={"problems": [reason], "lapsed": True})
    elif job.batch_id and job.mode == Mode.GUIDED:
        message = (f"Not written: the sweep was {reason}. Run `/applycredit sweep` again (it plans this credit "
                   "afresh) or request it with `/applycredit <client>`.")
        runner.move(job, JobState.FAILED, error=message, details={"reason": reason, "lapsed": True})
    else:
        reopen(runner, job, reason)


def reopen(runner, job: Job, reason: str) -> Job | None:
    """Back to awaiting approval with the figures QuickBooks has now; a sweep item gets a message of its own."""
    invoice = runner.qbo.get_invoice(invoice_id=job.invoice_qbo_id)
    credit = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
    ttl: timedelta = runner.policy.approval_ttl
    return runner.move(
        job, JobState.AWAITING_APPROVAL, event=EventKind.REAPPROVAL_REQUESTED, error=None, retryable=0,
        approver_id=None, first_approver_id=None, decided_at=None, invoice_balance_before=invoice.balance,
        credit_remaining_before=credit.remaining, expires_at=stamp(runner.policy.now() + ttl),
        details={"reason": reason, "approved_at": job.decided_at, "invoice_balance": str(invoice.balance),
                 "credit_remaining": str(credit.remaining), **({"sweep": job.batch_id} if job.batch_id else {})})
