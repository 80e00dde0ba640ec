"""The bot's two ports, each picked once in `Bot.__init__` by CONNECTBOOSTER_MODE (data.states.Mode).

- `Directory`: where clients, their credits and invoices come from: ConnectBooster joined with QuickBooks
  (workflow/directory.py) or QuickBooks alone (workflow/qbo_only.py). The picker, the inbox, the sweep's plan and
  the digest read through it.
- `ConnectBoosterHalf`: what happens to a job once QuickBooks has the application (find ConnectBooster's copy,
  resync, sync, verify): done by the bot through the gateway (workflow/connectbooster.py) or by a person following
  the checklist in the thread (workflow/guided.py).

The QuickBooks half (check, write, undo's reverse) is the same in both modes and lives in workflow/machine.py.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from data.states import JobState, Mode

if TYPE_CHECKING:
    from data.batches import Batch
    from data.jobs import Job
    from workflow.digest import OpenCredit
    from workflow.inbox import Inbox
    from workflow.lookup import ClientView
    from workflow.machine import Flavor, Step
    from workflow.sweep import Plan


class Directory(Protocol):
    """Clients and their open documents, read for people (the picker and every write re-read QuickBooks live)."""

    mode: Mode
    source: str  # where clients are looked up, as people name it ("ConnectBooster", "QuickBooks")

    def find_clients(self, text: str) -> list:
        """Clients whose name matches what a person typed, best first (the exact one alone)."""

    def load(self, client: Any) -> ClientView:
        """A client's credits and open invoices (raises LookupError when it can't be used)."""

    def inbox(self) -> Inbox:
        """Every client with an open credit, and why each credit is still open."""

    def plan_sweep(self) -> Plan:
        """Receive Payment's allocation for every unapplied credit."""

    def client_for_customer(self, customer_id: str) -> Any:
        """The client (for `load`) of a QuickBooks customer: a new credit's proposal (LookupError when none)."""

    def open_credits(self) -> tuple[list[OpenCredit], list[str]]:
        """The digest's open credits, and the clients that could not be read."""

    def last_sync(self) -> Any | None:
        """ConnectBooster's last sync run, when the bot can see it (the digest)."""


class ConnectBoosterHalf(Protocol):
    """The ConnectBooster half of a job, after the QuickBooks write."""

    mode: Mode

    @property
    def steps(self) -> Mapping[tuple[Flavor, JobState], Step]:
        """Its rows of the step table (workflow/machine.py adds the QuickBooks half's)."""

    def attach(self, runner: Any) -> None:
        """Called once by the runner it serves (the steps move jobs through it)."""

    def pending_payment(self, job: Job) -> bool:
        """True when ConnectBooster holds a payment waiting to sync on the job's invoice (checked before a write)."""

    def resume(self, job: Job) -> None:
        """At start-up, for an unfinished job that waits on this half (a sync to watch)."""

    def finish_sweep(self, sweeps: Any, batch: Batch, parked: list[Job], *,
                     undo: bool = False) -> tuple[Batch, Callable[[], None] | None]:
        """Every item of a sweep (`undo`: every undo of its undo) left QuickBooks: one sync, or one checklist; and
        what to do once unlocked."""

    def settle_sweep(self, sweeps: Any, batch: Batch) -> Batch:
        """A sweep past QuickBooks: finished once its sync (or its confirmed checklist) settled every item."""

    def stop(self) -> None:
        """Stop background work (pollers)."""
