"""Sync runs and entity resyncs: planned times at creation, advanced by the injected clock.

Nothing runs in the background. Every request (and `snapshot()`) calls `advance(now)`, which plays every
transition that is due, in order, at its planned time: a test with a fake clock is fully deterministic.
A sync run: pending -> (after `to_active`) the PSA stage -> the accounting stage, whose end refreshes the
copies (`CBState.push_payments` then `CBState.pull(sync_from)`). A resync: pending -> active -> finished.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from sandbox import seed
from sandbox.cb_state import QBO, CBState, rfc3339

INTEGRATIONS = {
    QBO: {"id": QBO, "category": "accounting", "name": "QuickBooks Online", "primary": True, "enabled": True,
          "connection_status": "connected"},
    "autotask": {"id": "autotask", "category": "psa", "name": "Autotask", "primary": True, "enabled": True,
                 "connection_status": "connected"},
    "connectwise": {"id": "connectwise", "category": "psa", "name": "ConnectWise PSA", "primary": False,
                    "enabled": False, "connection_status": "not_connected"},
}
SYNC_FAILED_MESSAGE = ("QuickBooks Online stage failed: QuickBooks Online returned an error while reading "
                       "changed records; the run stopped before updating ConnectBooster")
RESYNC_FAILED_MESSAGE = "QuickBooks Online returned an error while reading the invoice; nothing was updated"
END_STATUSES = ("failed", "finished")  # how an emulator control may end a run (the contract has no "cancelled")


@dataclass(frozen=True)
class SyncTiming:
    """Seconds: pending -> active, PSA stage, accounting stage, and a one-record resync."""

    to_active: float = 1.0
    psa_seconds: float = 10.0
    accounting_seconds: float = 12.0
    resync_seconds: float = 1.0

    @classmethod
    def fast(cls) -> SyncTiming:
        """A whole run in a quarter of a second, for tests."""
        return cls(to_active=0.05, psa_seconds=0.1, accounting_seconds=0.1, resync_seconds=0.05)


@dataclass
class Stage:
    integration_id: str
    start: float  # planned
    end: float
    status: str = "pending"
    started_at: float | None = None
    finished_at: float | None = None

    def json(self) -> dict:
        return {"integration_id": self.integration_id, "status": self.status,
                "started_at": rfc3339(self.started_at), "finished_at": rfc3339(self.finished_at)}


@dataclass
class Run:
    id: int
    integration_id: str
    trigger: str
    sync_from: date
    requested_at: float
    stages: list[Stage]
    fail: bool = False
    skip: bool = False  # finishes without picking up any change (what makes a credit "still show")
    stuck: str | None = None  # "pending" or "active": hangs there until ended or given up on
    give_up_at: float | None = None  # when ConnectBooster fails a stuck run by itself (None: never)
    error: str | None = None
    counts: dict = field(default_factory=lambda: {"invoices": 0, "payments": 0, "credits": 0, "companies": 0})
    details: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        """failed if any stage failed, else the stage in progress, else finished (pending before any start)."""
        statuses = [s.status for s in self.stages]
        if "failed" in statuses:
            return "failed"
        if "active" in statuses:
            return "active"
        return "finished" if all(s == "finished" for s in statuses) else "pending"

    def json(self) -> dict:
        done = self.status in ("finished", "failed")
        ends = [s.finished_at for s in self.stages if s.finished_at is not None]
        return {
            "id": self.id, "integration_id": self.integration_id, "status": self.status, "trigger": self.trigger,
            "sync_from": self.sync_from.isoformat(), "requested_at": rfc3339(self.requested_at),
            "started_at": rfc3339(self.stages[0].started_at), "finished_at": rfc3339(max(ends)) if done else None,
            "stages": [s.json() for s in self.stages], "counts": dict(self.counts), "error": self.error,
        }


@dataclass
class Resync:
    id: int
    entity_type: str
    entity_id: int
    requested_at: float
    active_at: float
    end_at: float
    fail: bool = False
    status: str = "pending"
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    result: dict | None = None

    def json(self) -> dict:
        return {"id": self.id, "entity_type": self.entity_type, "entity_id": self.entity_id, "status": self.status,
                "requested_at": rfc3339(self.requested_at), "started_at": rfc3339(self.started_at),
                "finished_at": rfc3339(self.finished_at), "error": self.error, "result": self.result}


class SyncEngine:
    """Owns the runs and resyncs; mutates `CBState` when an accounting stage or a resync finishes."""

    def __init__(self, state: CBState, timing: SyncTiming) -> None:
        self.state = state
        self.timing = timing
        self.runs: dict[int, Run] = {}
        self.resyncs: dict[int, Resync] = {}
        self._next_run = 7001
        self._next_resync = 40001

    def active_run(self, integration_id: str) -> Run | None:
        return next((r for r in self.runs.values()
                     if r.integration_id == integration_id and r.status in ("pending", "active")), None)

    def start_run(self, integration_id: str, trigger: str, sync_from: date, now: float, *, fail: bool = False,
                  stuck: bool | str | None = None, skip: bool = False, give_up_after: float | None = None) -> Run:
        """A new run, its stages planned from `now`. `stuck`: "pending" (True) never starts, "active" starts and
        its last stage never ends; `give_up_after` seconds after `now` a stuck run fails by itself."""
        t = self.timing
        stuck = "pending" if stuck is True else (stuck or None)
        start = math.inf if stuck == "pending" else now + t.to_active
        stages = []
        if integration_id == QBO:  # the PSA runs first, then the accounting package
            stages.append(Stage(seed.PSA_INTEGRATION, start, start + t.psa_seconds))
            start += t.psa_seconds
        seconds = math.inf if stuck == "active" else t.accounting_seconds if integration_id == QBO else t.psa_seconds
        stages.append(Stage(integration_id, start, start + seconds))
        give_up_at = now + give_up_after if stuck and give_up_after is not None else None
        run = Run(self._next_run, integration_id, trigger, sync_from, now, stages, fail=fail, skip=skip,
                  stuck=stuck, give_up_at=give_up_at)
        self.runs[run.id] = run
        self._next_run += 1
        return run

    def end_run(self, run: Run, when: float, status: str, error: str | None = None) -> None:
        """End a pending or active run at `when`: "failed" (with `error`) or "finished" (what is left of it plays
        out at once, the accounting stage's refresh included)."""
        if status == "finished":
            for s in run.stages:
                if s.status == "pending":
                    s.start = when
                if s.status in ("pending", "active"):
                    s.end = max(min(s.end, when), s.start)
            self._play_stages(run, when)
            return
        for s in run.stages:
            if s.status in ("pending", "active"):
                s.status, s.finished_at = "failed", when
        run.error = error

    def record_finished_run(self, run: Run, details: list[dict], counts: dict) -> None:
        """For the seeded history: mark every stage finished at its planned time."""
        for s in run.stages:
            s.status, s.started_at, s.finished_at = "finished", s.start, s.end
        run.details, run.counts = details, counts

    def start_resync(self, invoice_id: int, now: float, *, fail: bool = False) -> Resync:
        half = self.timing.resync_seconds / 2
        rs = Resync(self._next_resync, "invoice", invoice_id, now, now + half, now + 2 * half, fail=fail)
        self.resyncs[rs.id] = rs
        self._next_resync += 1
        return rs

    def next_due(self) -> float | None:
        """The planned time of the next transition still to play (None: nothing open, or only stuck runs)."""
        times = [rs.active_at if rs.status == "pending" else rs.end_at
                 for rs in self.resyncs.values() if rs.status in ("pending", "active")]
        for run in self.runs.values():
            stage = next((s for s in run.stages if s.status in ("pending", "active")), None)
            if stage is not None and run.status in ("pending", "active"):
                times.append(stage.start if stage.status == "pending" else stage.end)
                if run.give_up_at is not None:
                    times.append(run.give_up_at)
        finite = [t for t in times if t != math.inf]
        return min(finite) if finite else None

    def advance(self, now: float) -> None:
        """Play every due transition, oldest first."""
        for rs in self.resyncs.values():
            self._advance_resync(rs, now)
        for run in self.runs.values():
            self._advance_run(run, now)

    def _advance_resync(self, rs: Resync, now: float) -> None:
        if rs.status == "pending" and now >= rs.active_at:
            rs.status, rs.started_at = "active", rs.active_at
        if rs.status == "active" and now >= rs.end_at:
            rs.finished_at = rs.end_at
            if rs.fail:
                rs.status, rs.error = "failed", RESYNC_FAILED_MESSAGE
                return
            try:
                rs.result = self.state.refresh_invoice(rs.entity_id, rs.end_at)
                rs.status = "finished"
            except LookupError as exc:
                rs.status, rs.error = "failed", str(exc)

    def _advance_run(self, run: Run, now: float) -> None:
        """Play the run's due stage transitions; a stuck run past its give-up time then fails there."""
        give_up = run.give_up_at
        self._play_stages(run, now if give_up is None else min(now, give_up))
        if give_up is not None and now >= give_up and run.status in ("pending", "active"):
            self.end_run(run, give_up, "failed", gave_up_message(run, give_up - run.requested_at))

    def _play_stages(self, run: Run, now: float) -> None:
        for stage in run.stages:
            if stage.status in ("finished",):
                continue
            if stage.status == "failed":
                return
            if stage.status == "pending":
                if now < stage.start:
                    return
                stage.status, stage.started_at = "active", stage.start
            if now < stage.end:
                return
            stage.finished_at = stage.end
            if stage.integration_id != QBO:
                stage.status = "finished"  # the PSA stage brings companies and tickets, nothing accounting
                continue
            if run.fail:
                stage.status, run.error = "failed", SYNC_FAILED_MESSAGE
                return
            if run.skip:
                stage.status = "finished"
                continue
            payments = self.state.push_payments(stage.end)
            details, counts = self.state.pull(run.sync_from, stage.end)
            run.details = payments + details
            run.counts = {**counts, "payments": len(payments)}
            stage.status = "finished"

    def last_sync(self, integration_id: str) -> dict | None:
        runs = [r for r in self.runs.values() if any(s.integration_id == integration_id for s in r.stages)]
        if not runs:
            return None
        last = max(runs, key=lambda r: r.id).json()
        return {k: last[k] for k in ("id", "status", "trigger", "sync_from", "requested_at", "finished_at")}

    def integration_json(self, integration_id: str) -> dict:
        return {**INTEGRATIONS[integration_id], "last_sync": self.last_sync(integration_id)}


def _span(seconds: float) -> str:
    """48 h, 5 min, 2 s: how long a run was stuck, as the help centre's e-mails put it."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}" if seconds % size == 0 else f"{seconds / size:.1f} {unit}"
    return f"{seconds:g} s"


def stuck_where(run: Run) -> str:
    """Where a run hangs: "in pending (it never started)" or "in the QuickBooks Online stage"."""
    stage = next((s for s in run.stages if s.status == "active"), None)
    if stage is None:
        return "in pending (it never started)"
    name = INTEGRATIONS.get(stage.integration_id, {}).get("name", stage.integration_id)
    return f"in the {name} stage"


def gave_up_message(run: Run, seconds: float) -> str:
    return (f"Sync Not Running: the run was stuck {stuck_where(run)} for {_span(seconds)} and ConnectBooster gave up "
            f"on it; no records were updated. A new sync can be started.")


def cleared_message(run: Run) -> str:
    state = "stuck" if run.stuck else "still running"
    return (f"Sync cancelled: the run was {state} {stuck_where(run)} and was cleared (by ConnectBooster support or "
            f"the person who started it); no records were updated. A new sync can be started.")
