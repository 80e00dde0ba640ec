"""Guided mode's ConnectBooster half (the `ConnectBoosterHalf` port): the checklist in the thread.

After the QuickBooks write the `guide` step posts the first step the person does in the portal; the answers
(workflow/guided.py) move the job on. A sweep's items park and the sweep posts ONE checklist for the batch
(workflow/sweep_guided.py).
"""
from __future__ import annotations

from data.batches import Batch
from data.jobs import Job
from data.states import BatchState, JobState, Mode
from workflow.guided import sync_from
from workflow.machine import Flavor
from workflow.sweep_guided import open_checklist, settle


class GuidedConnectBooster:
    """The port's guided implementation: a checklist in the thread, each step confirmed by a person."""

    mode = Mode.GUIDED

    def __init__(self) -> None:
        self.runner = None

    @property
    def steps(self):
        return {(Flavor.APPLY, JobState.APPLIED): self.guide}  # an undo's too: it shares the application's

    def attach(self, runner) -> None:
        self.runner = runner

    def pending_payment(self, job: Job) -> bool:
        return False  # QuickBooks cannot see ConnectBooster's payments: the checklist says what to look for

    def resume(self, job: Job) -> None:
        pass  # a guided step waits for a person, not for a poller

    def stop(self) -> None:
        pass

    def guide(self, runner, job: Job) -> None:
        """Post step 1 (resync the invoice), or step 2 when there is no invoice to resync; store the sync date."""
        credit = runner.qbo.get_credit(kind=job.credit_kind, credit_id=job.qbo_credit_id)
        start = sync_from(job, credit.txn_date, runner.today())
        to_state = JobState.GUIDED_RESYNC if job.invoice_number else JobState.GUIDED_SYNC
        expected = str(job.invoice_balance_after) if job.invoice_balance_after is not None else None
        runner.move(job, to_state, sync_from=start.isoformat(),
                    details={"step": to_state, "sync_from": start.isoformat(), "credit_date": credit.txn_date,
                             "expected_balance": expected,
                             "total": str(job.invoice_total) if job.invoice_total is not None else None})

    def finish_sweep(self, sweeps, batch: Batch, parked: list[Job], *, undo: bool = False):
        to = BatchState.UNDO_CHECKLIST if undo else BatchState.GUIDED_CHECKLIST  # one checklist either way
        return open_checklist(sweeps, batch, parked, to), None

    def settle_sweep(self, sweeps, batch: Batch) -> Batch:
        return settle(sweeps, batch)
