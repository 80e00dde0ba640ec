"""The one decision policy: may this person do this to this job (or sweep) now?

Every click that changes something asks `Policy.check`; nothing else in the bot spells out who may decide.
The rules, in one table (docs/security.md explains why):

| action        | who                                                     | when                                     |
|---------------|---------------------------------------------------------|------------------------------------------|
| approve       | an approver, not the requester                          | awaiting approval, not expired           |
| 2nd approval  | another approver: not the requester nor the first       | above DUAL_APPROVAL_ABOVE, after the 1st |
| accept        | an approver (the bot proposed it): as approve           | a proposal awaiting approval             |
| not now       | an approver                                             | a proposal awaiting approval             |
| auto-apply    | nobody clicks: the bot applies a new credit             | at most AUTO_APPLY_MAX, never above dual |
| reject        | an approver, not the requester; the requester withdraws | awaiting approval, not expired           |
| retry         | an approver, not the requester (it re-runs a write)     | needs attention and retryable (see below)|
| sync again    | an approver or the requester (writes nothing)           | needs attention past the QuickBooks write|
| undo          | an approver other than the original requester           | verified, within the undo window         |
| propose sweep | an approver                                             | always                                   |
| sweep approve | an approver, not the proposer                           | awaiting approval, not expired           |
| sweep reject  | as approve; the proposer withdraws                      | awaiting approval, not expired           |
| guided confirm| the requester, the approver or any approver (see below) | a guided step, button in the job's thread|
| guided sweep  | the proposer, the approver or any approver              | its checklist open, in the sweep's thread|
| sweep leave out| an approver (the proposer too)                         | awaiting approval, not expired           |
| sweep undo    | an approver other than the proposer                     | finished, within the undo window         |
| history       | an approver (shown to the asker only)                   | always                                   |
| export        | an approver (the file goes to the asker only)           | always                                   |
| connect       | an admin (ADMIN_IDS; default: the approvers)            | always; the link is theirs, used once    |

Guided confirm: a click on a guided ConnectBooster step reports what a person did or saw in the
portal. It writes nothing to the books, and the requester is usually the one with the portal open, so the
requester may confirm; so may the approver and any approver (finance staff who can see the portal). Nobody
else: a false "All clear" closes the job and sends the completion notice. The button must sit in the job's
own thread (`message_ts` is the click's thread_ts, which must be the job's parent message). A guided sweep's one
checklist follows the same rule, with the sweep's proposer in the requester's place. An item of a guided sweep is
never retried (nor synced again) on its own: it has no thread and no sync of its own; the sweep is run again.

Approval by amount: above DUAL_APPROVAL_ABOVE a request, a sweep or a proposal needs two different
approvers, never the requester; the first approval moves it to awaiting a second one and writes nothing, and the same
person clicking again is told a second approver is needed (a person counts once). A new credit's proposal is
accepted like a request is approved (its proposer is the bot, so any approver may; the first of two above the
limit); "Not now" closes it, for an approver. A new credit at or under AUTO_APPLY_MAX is applied without a click and
announced with Undo (the undo rule above); never one that would need two approvers.

Connect: `/applycredit connect` replaces the QuickBooks connection the whole bot writes with (a wrong company's
consent would point every later write at other books), so only admins ask for the one-time link; the link's
`state` is bound to that admin, and a pasted redirect is accepted only from them (workflow/reconnect.py).

A button is also checked against the stored row (never against what the button claims): it must sit on that
job's own message in that channel (Retry, Sync again and Undo: in its thread; a sweep item's Retry: on its sweep's
message). A refusal is a `NotAllowed` whose message is shown only to the clicker.

Whether an approval still stands when its QuickBooks write runs is `Policy.lapsed` (the runner's gate asks it
before every write, whatever path reached it: workflow/gate.py): an application approved longer ago than
APPROVAL_TTL_HOURS goes back to people, an undo past UNDO_WINDOW_HOURS is not made.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from data.batches import Batch
from data.jobs import Job, stamp
from data.states import BATCH_DECIDING, DECIDING, GUIDED, BatchState, JobKind, JobState, Mode
from workflow.policy_sweeps import SweepRules
from workflow.policy_terms import (  # noqa: F401 (the vocabulary is imported from here too)
    APPROVALS,
    BOUND,
    NOTHING,
    REFUSAL_EVENTS,
    WRITES,
    Action,
    NotAllowed,
    Permit,
    _hours,
)


class Policy(SweepRules):
    def __init__(self, *, approvers: frozenset[str], undo_window: timedelta,
                 now: Callable[[], datetime] | None = None, admins: frozenset[str] | None = None,
                 dual_above: Decimal | None = None, auto_max: Decimal = Decimal("0"),
                 approval_ttl: timedelta = timedelta(hours=24)) -> None:
        self.approvers = frozenset(approvers)
        self.admins = frozenset(approvers if admins is None else admins)  # ADMIN_IDS, else the approvers
        self.undo_window = undo_window
        self.approval_ttl = approval_ttl
        self.now = now or (lambda: datetime.now(UTC))
        self.dual_above = dual_above  # DUAL_APPROVAL_ABOVE (None: one approver for any amount)
        self.auto_max = auto_max      # AUTO_APPLY_MAX (0: off)

    def needs_two(self, amount: Decimal) -> bool:
        """Above DUAL_APPROVAL_ABOVE: two different approvers."""
        return self.dual_above is not None and amount > self.dual_above

    def auto_apply(self, amount: Decimal) -> bool:
        """A new credit the bot applies without a click: at or under AUTO_APPLY_MAX, never one needing two approvers."""
        return 0 < amount <= self.auto_max and not self.needs_two(amount)

    def lapsed(self, job: Job, original: Job | None = None) -> str | None:
        """Why the approval behind this job's QuickBooks write no longer holds (None: it holds). `original`: an
        undo's application, whose completion starts the undo window."""
        now = self.now()
        if job.kind == JobKind.UNDO:
            done = original.completed_at if original is not None else None
            if done and done < stamp(now - self.undo_window):
                return (f"application #{job.undo_of} completed more than {_hours(self.undo_window)} hours ago, past "
                        "the undo window (UNDO_WINDOW_HOURS)")
            return None
        if job.decided_at and job.decided_at < stamp(now - self.approval_ttl):
            return f"approved more than {_hours(self.approval_ttl)} hours ago (APPROVAL_TTL_HOURS)"
        return None

    def check(self, action: Action, user: str, subject: Job | Batch | None, *, channel: str | None = None,
              message_ts: str | None = None, home: str | None = None) -> Permit:
        """Permit, or raise NotAllowed with the message for the clicker. `home`: for Retry, Sync again and Undo,
        the message the job's buttons belong to (its own, or its sweep's), which `message_ts` must be."""
        if action is Action.CONNECT:
            if user not in self.admins:
                raise NotAllowed("Only admins (ADMIN_IDS, or the approvers when it is not set) can connect QuickBooks: "
                                 f"it decides which company's books the bot writes to. {NOTHING.capitalize()}.")
            return Permit()
        if action is Action.PROPOSE_SWEEP:
            if user not in self.approvers:
                raise NotAllowed("Only approvers can propose a sweep (it plans many applications at once); "
                              f"ask a finance approver. {NOTHING.capitalize()}.")
            return Permit()
        if action in (Action.HISTORY, Action.EXPORT):
            if user not in self.approvers:
                raise NotAllowed(f"Only approvers can read the {'history' if action is Action.HISTORY else 'export'}"
                                 f" (it shows every client's applications); ask a finance approver. "
                                 f"{NOTHING.capitalize()}.", record=False)
            return Permit()
        if subject is None:
            raise NotAllowed(f"This button does not belong to a request I know; {NOTHING}.", record=False)
        if isinstance(subject, Batch) and action is Action.SWEEP_LEAVE_OUT:
            return self._leave_out(user, subject, channel, message_ts)
        if isinstance(subject, Batch) and action is Action.SWEEP_UNDO:
            return self._sweep_undo(user, subject, channel, message_ts)
        if isinstance(subject, Batch) and action is Action.GUIDED_CONFIRM:  # a guided sweep's checklist
            return self._guided_batch(user, subject, channel, message_ts)
        if isinstance(subject, Batch):
            noun = "proposal" if subject.proposal else "sweep"
            return self._decision(action, user, subject, channel, message_ts, what=f"{noun.capitalize()} #{subject.id}",
                                  noun=noun, waiting=BATCH_DECIDING, amount=subject.total)
        if action in (Action.APPROVE, Action.REJECT):
            return self._decision(action, user, subject, channel, message_ts, what=f"Request #{subject.id}",
                                  noun="application", waiting=DECIDING, amount=subject.amount)
        if channel is not None and subject.channel_id != channel:
            raise NotAllowed(f"That button is not valid; {NOTHING}.")
        if action in BOUND and message_ts is not None and message_ts != home:
            raise NotAllowed(f"This button does not belong to that request; {NOTHING}.")
        if action is Action.GUIDED_CONFIRM:
            return self._guided(user, subject, message_ts)
        if action in (Action.RETRY, Action.SYNC_AGAIN) and subject.batch_id and subject.mode == Mode.GUIDED:
            # A guided sweep's item has no thread and no sync of its own: its sweep's checklist was its one chance.
            raise NotAllowed("An item of a guided sweep is not retried on its own: run `/applycredit sweep` again "
                          "(credits already used are never planned twice) or request the credit with "
                          f"`/applycredit <client>`; {NOTHING}.", record=False)
        if action is Action.RETRY and subject.resume_state not in WRITES:
            action = Action.SYNC_AGAIN  # resuming past the QuickBooks write changes nothing in the books
        if action is Action.RETRY:
            return self._retry(user, subject)
        if action is Action.SYNC_AGAIN:
            if user not in self.approvers and user != subject.requester_id:
                raise NotAllowed(f"Only approvers or the requester can run the sync again; {NOTHING}.")
            self._needs_attention(subject)
            return Permit()
        if action is Action.UNDO:
            return self._undo(user, subject)
        raise NotAllowed(f"That button is not valid; {NOTHING}.", record=False)

    # -- the rules ------------------------------------------------------------------------------
    def _decision(self, action: Action, user: str, subject: Job | Batch, channel, message_ts, *, what: str,
                  noun: str, waiting: frozenset, amount: Decimal) -> Permit:
        # The button must sit on the request's own message. Until the outbox has stored that message's ts (the
        # instant between Slack's answer and the database), the only message carrying it is that one.
        if subject.channel_id != channel or (subject.parent_ts is not None and subject.parent_ts != message_ts):
            raise NotAllowed(f"This button does not belong to that request; {NOTHING}.")
        own = user == subject.requester_id
        withdraw = own and action in (Action.REJECT, Action.SWEEP_REJECT, Action.NOT_NOW)
        if not withdraw:
            if user not in self.approvers:
                raise NotAllowed(f"Only approvers can decide this (ask a finance approver); {NOTHING}.")
            if own:
                raise NotAllowed(f"You requested this {noun}, so a colleague has to approve it; {NOTHING}.")
        if subject.state not in waiting:
            who = f" by <@{subject.approver_id}>" if subject.approver_id else ""
            raise NotAllowed(f"{what} was already decided ({subject.state.label}{who}); {NOTHING}.")
        if subject.expires_at and subject.expires_at <= stamp(self.now()):
            raise NotAllowed(f"{what} expired; ask for a new one.", expired=True)
        second = subject.state in (JobState.AWAITING_SECOND_APPROVAL, BatchState.AWAITING_SECOND_APPROVAL)
        if action in APPROVALS and second and user == subject.first_approver_id:
            raise NotAllowed(f"You already approved {what}: above {self.dual_above} it takes two different approvers, "
                             f"so a colleague has to approve it too; {NOTHING}.")
        return Permit(withdraw=withdraw, first_of_two=action in APPROVALS and not second and self.needs_two(amount))

    def _needs_attention(self, job: Job) -> None:
        if job.state == JobState.NEEDS_ATTENTION and not job.retryable and job.error:
            raise NotAllowed(f"Job #{job.id} cannot be retried now: {job.error} Its thread says what helps; "
                             f"{NOTHING}.", record=False)
        if job.state != JobState.NEEDS_ATTENTION or not job.retryable or not job.resume_state:
            raise NotAllowed(f"Job #{job.id} is {job.state.label}; there is nothing to retry.", record=False)

    def _retry(self, user: str, job: Job) -> Permit:
        if user not in self.approvers:
            raise NotAllowed("Only approvers can retry: Retry carries out an approved change to the books again. "
                          f"Ask a finance approver; {NOTHING}.")
        if user == job.requester_id:
            raise NotAllowed(f"You requested this application, so a colleague has to retry it; {NOTHING}.")
        self._needs_attention(job)
        return Permit()

    def _guided(self, user: str, job: Job, thread_ts: str | None) -> Permit:
        """Guided confirm: who may say a ConnectBooster step is done; the state is checked by the caller."""
        if not job.parent_ts or thread_ts != job.parent_ts:
            raise NotAllowed(f"That button does not belong to this checklist; {NOTHING}.")
        if user not in self.approvers and user not in (job.requester_id, job.approver_id):
            raise NotAllowed("Only the requester or an approver can confirm a ConnectBooster step (a confirmation "
                          f"can close the request); {NOTHING}.")
        if job.state not in GUIDED:
            raise NotAllowed(f"Job #{job.id} is {job.state.label}: no step is waiting for a confirmation; {NOTHING}.",
                          record=False)
        return Permit()

    def undo_item(self, user: str, item: Job) -> Permit:
        """One item of a sweep being undone (the sweep's undo was allowed): the undo rule, without a button."""
        return self._undo(user, item, item=True)

    def _undo(self, user: str, job: Job, *, item: bool = False) -> Permit:
        if job.kind != JobKind.APPLY or not (job.parent_ts or job.batch_id):  # an item: its batch's message
            raise NotAllowed(f"That Undo button is not valid; {NOTHING}.", record=False)
        if user not in self.approvers:
            raise NotAllowed(f"Only approvers can undo a credit application; {NOTHING}.")
        if user == job.requester_id:
            raise NotAllowed("You requested this application, so a colleague (an approver) has to undo it: every "
                          f"change to the books takes two people. {NOTHING.capitalize()}.")
        if job.state != JobState.VERIFIED:
            raise NotAllowed(f"Application #{job.id} is {job.state.label}; only a completed application can be "
                          f"undone. {NOTHING.capitalize()}.", record=False)
        if job.completed_at and job.completed_at < stamp(self.now() - self.undo_window):
            hours = _hours(self.undo_window)
            raise NotAllowed(f"Application #{job.id} completed more than {hours} hours ago, past the undo window; "
                          f"reverse it in QuickBooks. {NOTHING.capitalize()}.", record=False)
        return Permit()
