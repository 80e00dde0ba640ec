"""The QuickBooks connection's life: kept alive, its end announced in time, its loss told once, jobs resumed.

- Keepalive: Intuit ends a refresh token 100 days after its last use, so the connection is refreshed at least
  every QBO_KEEPALIVE_DAYS even when nobody uses the bot (`check`, run periodically by the bot).
- Expiry: every token answer carries the rolling expiry and (asked for) the five-year hard one (data/tokens.py
  TokenRecord.expires_at). Within QBO_RECONNECT_WARN_DAYS a warning goes to NOTIFY_CHANNEL once per threshold
  (14, 3, 1 days: `thresholds`), never on every refresh (data/connection.py claim_warning); App Home shows it.
- Lapse: when Intuit refuses the stored connection (invalid_grant, a disconnect), jobs that need QuickBooks wait
  (workflow/runner.py wait_for_reconnect) and ONE notice says so (`lapse`); a reconnect (`reconnected`, or new
  tokens stored by `connect-quickbooks` in another process, seen by `check`) resumes them.
The words are messages/connection.py's (the `ConnectionNotices` protocol below).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from data.connection import ConnectionStore
from data.events import EventKind
from data.jobs import JobStore
from data.states import JobState
from data.tokens import TokenStore
from integrations.errors import IntegrationError
from integrations.quickbooks_authclient import lapsed

log = logging.getLogger(__name__)
DAY = 86400.0


def thresholds(warn_days: float) -> tuple[float, ...]:
    """The days before expiry at which a warning goes out: QBO_RECONNECT_WARN_DAYS, then 3 and 1 (when sooner)."""
    return tuple(sorted({warn_days, *(t for t in (3.0, 1.0) if t < warn_days)}, reverse=True))


@dataclass(frozen=True)
class ConnectionStatus:
    """What people are told about the connection (App Home, NOTIFY_CHANNEL, doctor)."""

    realm_id: str
    now: float
    warn_days: float
    stored: bool = False              # tokens are in the database
    lapsed_at: float | None = None    # Intuit refused the connection then; None: not known to be refused
    lapsed_code: str | None = None
    expires_at: float | None = None   # the earlier of the rolling and the hard expiry
    hard: bool = False                # that earlier one is Intuit's five-year cap
    waiting: int = 0                  # jobs waiting for a reconnect

    @property
    def days_left(self) -> float | None:
        return None if self.expires_at is None else (self.expires_at - self.now) / DAY

    @property
    def expiring(self) -> bool:
        """Connected, and the connection ends within QBO_RECONNECT_WARN_DAYS."""
        days = self.days_left
        return self.lapsed_at is None and days is not None and days <= self.warn_days


class ConnectionNotices(Protocol):
    def expiring(self, status: ConnectionStatus, days: float, event: int) -> None:
        """The connection ends within `days` (a threshold): when, and how to reconnect."""

    def lapsed(self, status: ConnectionStatus, event: int) -> None:
        """QuickBooks refused the connection: jobs wait, and how to reconnect. Once per lapse."""

    def reconnected(self, status: ConnectionStatus, actor: str | None, resumed: int, event: int) -> None:
        """Connected again (by `actor`, or on the command line): how many jobs resumed."""


class ConnectionWatch:
    """Keeps one company's connection alive and says what people need to know about it."""

    def __init__(self, *, tokens, store: TokenStore, connection: ConnectionStore, jobs: JobStore,
                 notices: ConnectionNotices, resume: Callable[[], int], keepalive_days: float, warn_days: float,
                 clock: Callable[[], float]) -> None:
        """`tokens` is the QuickBooksTokens the bot refreshes with; `resume` puts waiting jobs back to work."""
        self.tokens, self.store, self.connection, self.jobs = tokens, store, connection, jobs
        self.notices, self.resume = notices, resume
        self.keepalive_seconds = keepalive_days * DAY
        self.warn_days = warn_days
        self.clock = clock
        self.checks = 0  # how many periodic checks ran (tests wait on it)

    @property
    def realm(self) -> str:
        return self.tokens.realm_id

    def status(self) -> ConnectionStatus:
        state = self.connection.get(self.realm) if self.realm else None
        record = self.store.load(self.realm) if self.realm else None
        expires = record.expires_at if record else None
        hard = bool(record and record.refresh_hard_expires_at is not None and expires == record.refresh_hard_expires_at)
        return ConnectionStatus(realm_id=self.realm, now=self.clock(), warn_days=self.warn_days,
                                stored=record is not None, lapsed_at=state.lapsed_at if state else None,
                                lapsed_code=state.lapsed_code if state else None, expires_at=expires, hard=hard,
                                waiting=len(self.jobs.in_states([JobState.AWAITING_RECONNECT])))

    def check(self, *, keepalive: bool = True) -> None:
        """The periodic look: a reconnect made elsewhere resumes the waiting jobs; a connection not refreshed
        for QBO_KEEPALIVE_DAYS is refreshed; a near expiry is announced (once per threshold)."""
        self.checks += 1
        if not self.realm:
            return
        state = self.connection.get(self.realm)
        if state.lapsed_at is not None:
            record = self.store.load(self.realm)
            if record is None or (record.refreshed_at or 0) <= state.lapsed_at:
                return  # still refused: only a person reconnecting helps, refreshing would fail again
            self.reconnected(None)  # `connect-quickbooks` stored a new grant (another process)
            return
        if self.jobs.in_states([JobState.AWAITING_RECONNECT]):
            self.resume()  # connected, yet jobs wait: the bot stopped between the reconnect and their resume
        if keepalive:
            try:
                if self.tokens.keepalive(self.keepalive_seconds):
                    log.info("QuickBooks connection of realm %s kept alive (idle for %g days or more)", self.realm,
                             self.keepalive_seconds / DAY)
            except IntegrationError as e:
                if lapsed(e):
                    self.lapse(e)
                    return
                log.warning("QuickBooks keepalive refresh failed for realm %s (%s); tried again at the next check",
                            self.realm, e.code or type(e).__name__)
        self.warn_if_due()

    def warn_if_due(self) -> bool:
        """Announce a near expiry once per threshold; True when a warning went out."""
        status = self.status()
        days = status.days_left
        if status.lapsed_at is not None or days is None or status.expires_at is None:
            return False
        due = [t for t in thresholds(self.warn_days) if days <= t]
        if not due or not self.connection.claim_warning(self.realm, status.expires_at, min(due)):
            return False
        event = self.jobs.record(None, actor="bot", kind=EventKind.QUICKBOOKS_EXPIRY_WARNING,
                                 details={"realm": self.realm, "days": min(due), "expires_at": status.expires_at,
                                          "hard": status.hard})
        self.notices.expiring(status, min(due), event)
        return True

    def lapse(self, error: IntegrationError) -> None:
        """Intuit refused the stored connection: record it and tell people once (a second job's failure is quiet)."""
        if not self.realm or not self.connection.mark_lapsed(self.realm, self.clock(), error.code):
            return
        log.warning("QuickBooks refused the connection of realm %s (%s, intuit_tid=%s): jobs wait for a reconnect",
                    self.realm, error.code, error.intuit_tid)
        event = self.jobs.record(None, actor="bot", kind=EventKind.QUICKBOOKS_LAPSED,
                                 details={"realm": self.realm, "code": error.code, "intuit_tid": error.intuit_tid})
        self.notices.lapsed(self.status(), event)

    def reconnected(self, actor: str | None) -> int:
        """New tokens are stored: the connection is current again, waiting jobs resume; returns how many."""
        self.connection.mark_connected(self.realm)
        self.tokens.forget()
        resumed = self.resume()
        event = self.jobs.record(None, actor=actor or "bot", kind=EventKind.QUICKBOOKS_CONNECTED,
                                 details={"realm": self.realm, "resumed": resumed})
        self.notices.reconnected(self.status(), actor, resumed, event)
        self.warn_if_due()  # a grant near its hard expiry is announced at once
        return resumed

    def tokens_stored(self) -> None:
        """After every stored token answer (QuickBooksTokens.on_stored): both expiries are new, check them."""
        self.warn_if_due()
