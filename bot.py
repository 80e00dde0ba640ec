"""applycredit: composition root and command line.

    python bot.py run                 the bot (Socket Mode, or HTTP on PORT); the sandbox when nothing is configured
    python bot.py history [QUERY]     the audit trail in people's words (--json, --csv for machines)
    python bot.py connect-quickbooks  connect a QuickBooks company (authorization-code flow)
    python bot.py doctor              check every setting and credential against the live services
    python bot.py backup PATH         a consistent copy of the database while the bot runs
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from slack_bolt import App
from slack_sdk import WebClient

from bot_http import HttpSurface
from cli.main import main as cli_main
from config import ConfigError, Settings
from data.batches import BatchStore
from data.connection import ConnectionStore
from data.db import Connections
from data.drafts import Drafts
from data.jobs import JobStore
from data.oauth_states import OAuthStates
from data.once import Marks
from data.outbox import Outbox
from data.people import People
from data.retention import Retention
from data.states import Mode
from data.tokens import TokenKeyError, open_tokens
from edge.fair import CarryingExecutor, FairExecutor
from edge.logs import bolt_logger
from handlers import Deps, register
from handlers import guided as guided_listeners
from handlers.commands import access_gate
from integrations.connectbooster import ConnectBoosterClient
from integrations.http import RateLimiter, RetryPolicy
from integrations.quickbooks import QuickBooksClient
from integrations.quickbooks_auth import QuickBooksTokens
from integrations.quickbooks_authorize import AuthorizationFlow
from messages.blocks.guided import GuidedWording
from messages.blocks.guided_inbox import GuidedScreens
from messages.connection import ConnectionMessages
from messages.deliverer import Deliverer
from messages.digest import DigestPoster
from messages.notifier import SlackNotifier
from messages.pacing import PROGRESS_SECONDS, PacedWebClient, Pacer, pace_requests
from messages.screens import Screens
from messages.wording import Wording, Wordings
from workflow.connectbooster import AutomatedConnectBooster
from workflow.connection import ConnectionWatch
from workflow.digest import DigestScheduler
from workflow.directory import ConnectBoosterDirectory
from workflow.guided import GuidedService
from workflow.guided_half import GuidedConnectBooster
from workflow.new_credits import new_credits
from workflow.policy import Policy
from workflow.qbo_only import QuickBooksDirectory
from workflow.reconnect import ReconnectService, serves_callback
from workflow.runner import JobRunner
from workflow.service import CreditService
from workflow.sweep_guided import GuidedSweep
from workflow.sweep_run import SweepService

log = logging.getLogger("applycredit")


@dataclass
class Overrides:
    """Seams for tests and benchmarks: time, retry policies, sessions; production uses the defaults."""

    now: Callable[[], datetime] | None = None
    wall_clock: Callable[[], float] | None = None
    qbo_retry: RetryPolicy | None = None
    cb_retry: RetryPolicy | None = None
    qbo_limiter: RateLimiter | None = None
    http_timeout: float = 30.0
    workers: int = 4
    outbox_idle_seconds: float = 1.0
    expiry_check_seconds: float = 30.0
    digest_check_seconds: float = 30.0
    token_clock: Callable[[], float] = time.time  # the QuickBooks connection's epoch clock (keepalive, expiries)
    connection_check_seconds: float = 3600.0       # how often the keepalive and the expiry warnings look
    slack_pace_scale: float = 1.0  # the Slack pacer N times faster (a test's fake Slack runs its rate clock so too)
    slack_progress_seconds: float = PROGRESS_SECONDS  # one message's updates at most this often (Slack's seconds)


class Bot(HttpSurface):
    """Everything wired together; `start()` begins background work, `serve_http()` answers Slack."""

    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        o = overrides or Overrides()
        if not settings.slack_signing_secret:  # Bolt would answer unsigned requests with a 500 instead of a 401
            raise ConfigError(["SLACK_SIGNING_SECRET is missing: every request from Slack is verified with it"])
        self.settings = settings
        self.connections = Connections(settings.database_path)
        clock = o.now or (lambda: datetime.now(UTC))
        tz = settings.team_timezone or "UTC"
        team_today = lambda: clock().astimezone(ZoneInfo(tz)).date()  # noqa: E731 - the date every write carries
        self.store = JobStore(self.connections.get)
        # Drafts (form snapshots) live as long as an approval: a form older than that is stale.
        self.drafts = Drafts(self.connections.get, ttl=timedelta(hours=settings.approval_ttl_hours), clock=clock)
        self.outbox = Outbox(self.connections.get)
        try:  # the token key: a wrong one is a start-up error, never a silent reconnect
            self.tokens = open_tokens(self.connections, settings)
        except TokenKeyError as e:
            raise ConfigError([str(e)]) from None
        realm = settings.qbo_realm_id or self.tokens.latest_realm() or ""
        auth_timeout = (min(3.05, o.http_timeout), o.http_timeout)  # intuit-oauth has none of its own
        self.auth = auth = QuickBooksTokens(
            client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
            redirect_uri=settings.qbo_redirect_uri, environment=settings.qbo_environment, realm_id=realm,
            store=self.tokens, initial_refresh_token=settings.qbo_refresh_token, timeout=auth_timeout,
            clock=o.token_clock)
        self.qbo = QuickBooksClient(session=requests.Session(), base_url=settings.qbo_base_url, realm_id=realm,
                                    tokens=auth, retry=o.qbo_retry, limiter=o.qbo_limiter, timeout=o.http_timeout)
        # The directory's parallel reads, queued per person (edge/fair.py): one person's inbox cannot take them all.
        self.pool = FairExecutor(workers=8, per_person=4)
        # The two ports (workflow/ports.py), picked once: where clients come from, and who does ConnectBooster's half.
        self.mode = Mode.GUIDED if settings.guided else Mode.API
        self.cb = None  # the ConnectBooster client, in API mode only
        if self.mode == Mode.API:
            self.cb = cb = ConnectBoosterClient(session=requests.Session(), base_url=settings.connectbooster_base_url,
                                      api_key=settings.connectbooster_api_key, retry=o.cb_retry,
                                      timeout=min(o.http_timeout, 15.0))
            self.directory = ConnectBoosterDirectory(qbo=self.qbo, cb=cb, pool=self.pool, now=clock, today=team_today)
            half = AutomatedConnectBooster(cb, poll_seconds=settings.sync_poll_seconds,
                                           timeout_seconds=settings.sync_timeout_seconds, wall_clock=o.wall_clock)
            screens = Screens()
        else:  # ConnectBooster's half guided in Slack: no ConnectBooster API is ever called
            self.directory = QuickBooksDirectory(qbo=self.qbo, pool=self.pool, now=clock, today=team_today)
            half = GuidedConnectBooster()
            screens = GuidedScreens()
        self.pacer = Pacer(scale=o.slack_pace_scale, progress_seconds=o.slack_progress_seconds)
        self.slack = PacedWebClient(token=settings.slack_bot_token, pacer=self.pacer,
                                    base_url=settings.slack_api_url or WebClient.BASE_URL)
        wordings = Wordings({Mode.API: Wording(tz),
                             Mode.GUIDED: GuidedWording(tz, portal_url=settings.connectbooster_portal_url)})
        batches = BatchStore(self.connections.get)
        self.deliverer = Deliverer(self.outbox, self.store, self.slack, wordings=wordings,
                                   idle_seconds=o.outbox_idle_seconds, batches=batches)
        notifier = SlackNotifier(self.outbox, wordings=wordings, notify_channel=settings.notify_channel,
                                 on_enqueue=self.deliverer.wake, tz=tz, portal_url=settings.connectbooster_portal_url)
        ttl = timedelta(hours=settings.approval_ttl_hours)
        self.policy = Policy(approvers=frozenset(settings.approver_ids), admins=settings.admins,
                             undo_window=timedelta(hours=settings.undo_window_hours), now=clock, approval_ttl=ttl,
                             dual_above=settings.dual_approval_above, auto_max=settings.auto_apply_max)
        # QuickBooks dates every write by the team's calendar (an omitted TxnDate is Intuit's server date): an
        # application approved at 23:30 in Chicago on the 31st belongs to that month, not the next.
        self.runner = JobRunner(
            store=self.store, qbo=self.qbo, half=half, notifier=notifier, workers=o.workers, policy=self.policy,
            today=team_today,
            sweeps=lambda runner: SweepService(store=self.store, batches=batches, runner=runner,
                                               planner=self.directory.plan_sweep, policy=self.policy, ttl=ttl,
                                               now=clock))
        self.service = CreditService(store=self.store, runner=self.runner, policy=self.policy, approval_ttl=ttl,
                                     now=o.now)
        self.watch = new_credits(self, settings, clock)  # webhooks and CDC keep the index fresh; proposals
        # A name: without one Bolt inspects the call stack for it on every construction.
        # Bolt's own logger, filtered: nothing of a request (signed or not) reaches the log (edge/logs.py).
        self.app = App(name="applycredit", client=self.slack, signing_secret=settings.slack_signing_secret or None,
                       token_verification_enabled=False, logger=bolt_logger(), before_authorize=pace_requests(self.pacer),
                       listener_executor=CarryingExecutor(max_workers=16, thread_name_prefix="bolt"))
        self.marks = Marks(self.connections.get)
        self.guided = None
        if self.mode == Mode.GUIDED:
            remind = timedelta(minutes=settings.guided_remind_minutes)
            self.guided = GuidedService(
                store=self.store, runner=self.runner, policy=self.policy, remind_after=remind, now=o.now,
                sweep=GuidedSweep(sweeps=self.runner.sweeps, policy=self.policy, remind_after=remind, now=o.now))
        # The QuickBooks connection: kept alive, its end announced, its loss told once, reconnected from Slack.
        self.connection = ConnectionWatch(
            tokens=auth, store=self.tokens, connection=ConnectionStore(self.connections.get), jobs=self.store,
            notices=ConnectionMessages(self.outbox, channel=settings.notify_channel, tz=tz, wake=self.deliverer.wake),
            resume=self.runner.resume_waiting, keepalive_days=settings.qbo_keepalive_days,
            warn_days=settings.qbo_reconnect_warn_days, clock=o.token_clock)
        self.runner.on_lapsed, auth.on_stored = self.connection.lapse, self.connection.tokens_stored
        self.reconnect = None if not settings.qbo_client_id else ReconnectService(
            policy=self.policy, states=OAuthStates(self.connections.get, o.token_clock), watch=self.connection,
            flow=AuthorizationFlow(client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
                                   redirect_uri=settings.qbo_redirect_uri, environment=settings.qbo_environment,
                                   store=self.tokens, clock=o.token_clock, timeout=auth_timeout),
            jobs=self.store, served=serves_callback(settings.qbo_redirect_uri, settings.socket_mode),
            use_realm=self._use_realm)
        self.deps = Deps(service=self.service, store=self.store, drafts=self.drafts, directory=self.directory,
                         screens=screens, marks=self.marks, guided=self.guided, tz=tz,
                         people=People(self.connections.get), proposals=self.service.proposals,
                         reconnect=self.reconnect, connection=self.connection.status)
        register(self.app, self.deps, (guided_listeners,) if self.guided is not None else ())
        self.app.use(access_gate(settings.access))  # after register's deps middleware: REQUESTER_IDS, ALLOWED_CHANNELS
        # Delivery bookkeeping is pruned after RETENTION_DAYS; its timestamps are wall-clock (utcnow), so is this.
        self.retention = Retention(self.connections.get, self.drafts, days=settings.retention_days,
                                   undo_window=timedelta(hours=settings.undo_window_hours))
        # The daily digest (DIGEST_TIME in TEAM_TIMEZONE; empty = off), queued through the outbox once per day.
        self.digest = DigestScheduler(
            at=settings.digest_time if settings.notify_channel else "", tz=settings.team_timezone,
            posted=self.marks.digest_posted, now=clock, check_seconds=o.digest_check_seconds,
            post=DigestPoster(directory=self.directory, store=self.store, outbox=self.outbox, marks=self.marks,
                              pool=self.pool, channel=settings.notify_channel, tz=settings.team_timezone,
                              now=clock, wake=self.deliverer.wake, batches=batches))
        self._expiry_seconds = o.expiry_check_seconds
        self._connection_seconds = o.connection_check_seconds
        self._stop = threading.Event()
        self._servers: list = []

    def start(self) -> int:
        """Resume unfinished jobs and start the outbox and the expiry check; returns jobs resumed."""
        self.deliverer.start()
        resumed = self.runner.resume_all()
        self.watch.start()
        threading.Thread(target=self._expiry_loop, name="expiry", daemon=True).start()
        log.info("ConnectBooster mode: %s (%s)%s", self.mode, self.settings.connectbooster_mode_reason or "default",
                 ": QuickBooks is automated, the ConnectBooster steps are guided in each request's thread"
                 if self.mode == Mode.GUIDED else "")
        if self.digest.at:
            threading.Thread(target=self.digest.run, args=(self._stop,), name="digest", daemon=True).start()
        self.connection.check(keepalive=False)  # jobs reconnected elsewhere resume; a near expiry is announced
        threading.Thread(target=self._connection_loop, name="qbo-connection", daemon=True).start()
        log.info("resumed %d unfinished job(s)", resumed)
        return resumed

    def _expiry_loop(self) -> None:
        while not self._stop.wait(self._expiry_seconds):
            try:
                self.service.expire_due()
            except Exception:
                log.exception("expiry check failed")
            try:
                self.retention.run_due()  # at most hourly
            except Exception:
                log.exception("retention pruning failed")
            if self.guided is not None:  # reminders and the day-old escalation of guided steps
                try:
                    self.guided.remind_due()
                except Exception:
                    log.exception("guided reminder check failed")

    def _connection_loop(self) -> None:
        while not self._stop.wait(self._connection_seconds):
            try:
                self.connection.check()  # the keepalive refresh, then the expiry warnings
            except Exception:
                log.exception("QuickBooks connection check failed")

    def _use_realm(self, realm: str) -> None:
        """The first connection made from Slack names the company: the clients work with it from now on."""
        self.auth.realm_id = realm
        self.qbo.use_realm(realm)

    def stop(self) -> None:
        self._stop.set()
        self.watch.stop()
        for server in self._servers:
            server.task_dispatcher.shutdown(timeout=1)
            server.close()
        self.deps.background.shutdown(wait=False, cancel_futures=True)
        self.runner.stop()
        self.deliverer.stop()


def main(argv: list[str] | None = None) -> int:
    """The command line (cli/main.py); `run` builds this module's Bot."""
    return cli_main(argv, Bot)


if __name__ == "__main__":
    sys.exit(main())
