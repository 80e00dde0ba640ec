"""Runner steps specific to a sweep's items (jobs with a batch_id).

An item runs the usual QuickBooks steps (re-read, requestid, write, re-read), then parks in
`awaiting_batch_sync` instead of resyncing its invoice: the sweep requests ONE ConnectBooster sync once every
item has left its QuickBooks step, and moves the parked items to `syncing` together. Parking also releases the
item's hold on its credit (open_credit_key), so the next item of the same credit can be created.
"""
from __future__ import annotations

from data.jobs import Job
from data.states import JobState
from workflow.machine import Flavor, step


@step(JobState.APPLIED, Flavor.SWEEP_ITEM)
def park(runner, job: Job) -> None:
    """Wait for the sweep's one sync; a Retry after the sweep finished syncs on its own (no resync: the sync brings it)."""
    hook = runner.batch_hook
    if hook is not None and hook.accepts_parked(job):
        runner.move(job, JobState.AWAITING_BATCH_SYNC, event="waiting_for_sweep_sync", open_credit_key=None)
    else:
        runner.move(job, JobState.RESYNCED, event="resync_skipped",
                     details={"reason": "sweep item: the ConnectBooster sync brings the invoice"})
