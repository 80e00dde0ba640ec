"""The policy's rules on a whole sweep's checklists and controls (a mixin of workflow/policy.Policy, whose table
lists them: guided sweep, sweep leave out, sweep undo)."""
from __future__ import annotations

from data.batches import Batch
from data.jobs import stamp
from data.states import BatchState
from workflow.policy_terms import NOTHING, NotAllowed, Permit


class SweepRules:
    """Who may confirm a sweep's checklist, leave clients out of its plan, or undo it."""

    def _guided_batch(self, user: str, batch: Batch, channel: str | None, thread_ts: str | None) -> Permit:
        """Guided confirm of a sweep's one checklist: the same people as for a job's step, in the sweep's thread."""
        if channel != batch.channel_id or not batch.parent_ts or thread_ts != batch.parent_ts:
            raise NotAllowed(f"That button does not belong to this checklist; {NOTHING}.")
        if user not in self.approvers and user not in (batch.requester_id, batch.approver_id):
            raise NotAllowed("Only the sweep's proposer or an approver can confirm its ConnectBooster checklist (a "
                          f"confirmation closes every application in it); {NOTHING}.")
        if batch.checklist_confirmed_by:  # the sweep's checklist, or its undo's
            raise NotAllowed(f"Sweep #{batch.id}'s checklist was already confirmed by <@{batch.checklist_confirmed_by}>; "
                          f"{NOTHING}.", record=False)
        if batch.state not in (BatchState.GUIDED_CHECKLIST, BatchState.UNDO_CHECKLIST):
            raise NotAllowed(f"Sweep #{batch.id} is {batch.state.label}: no checklist is waiting for a confirmation; "
                          f"{NOTHING}.", record=False)
        return Permit()

    def _leave_out(self, user: str, batch: Batch, channel: str | None, message_ts: str | None) -> Permit:
        """Taking clients out of a plan only narrows what an approver will decide: any approver, before that."""
        if batch.kind != "sweep":  # only a sweep has a plan of clients
            raise NotAllowed(f"That button is not valid; {NOTHING}.", record=False)
        if batch.channel_id != channel or (batch.parent_ts is not None and batch.parent_ts != message_ts):
            raise NotAllowed(f"This button does not belong to that sweep; {NOTHING}.")
        if user not in self.approvers:
            raise NotAllowed(f"Only approvers can change a sweep's plan; {NOTHING}.")
        if batch.state != BatchState.AWAITING_APPROVAL:
            raise NotAllowed(f"Sweep #{batch.id} is {batch.state.label}: its plan can only change before it is "
                             f"approved; {NOTHING}.", record=False)
        if batch.expires_at and batch.expires_at <= stamp(self.now()):
            raise NotAllowed(f"Sweep #{batch.id} expired; propose a new one.", expired=True)
        return Permit()

    def _sweep_undo(self, user: str, batch: Batch, channel: str | None, message_ts: str | None) -> Permit:
        """As for one application: two people; each item is then checked under the undo rule on its own."""
        if batch.kind != "sweep":  # the controls are a sweep's
            raise NotAllowed(f"That button is not valid; {NOTHING}.", record=False)
        if batch.channel_id != channel or (batch.parent_ts is not None and batch.parent_ts != message_ts):
            raise NotAllowed(f"This button does not belong to that sweep; {NOTHING}.")
        if user not in self.approvers:
            raise NotAllowed(f"Only approvers can undo a sweep; {NOTHING}.")
        if user == batch.requester_id:
            raise NotAllowed("You proposed this sweep, so a colleague (an approver) has to undo it: every change "
                             f"to the books takes two people. {NOTHING.capitalize()}.")
        if batch.state != BatchState.FINISHED:
            raise NotAllowed(f"Sweep #{batch.id} is {batch.state.label}; only a finished sweep can be undone. "
                             f"{NOTHING.capitalize()}.", record=False)
        if batch.completed_at and batch.completed_at < stamp(self.now() - self.undo_window):
            hours = self.undo_window.total_seconds() / 3600
            raise NotAllowed(f"Sweep #{batch.id} finished more than {hours:g} hours ago, past the undo window; "
                             f"reverse its applications in QuickBooks. {NOTHING.capitalize()}.", record=False)
        return Permit()
