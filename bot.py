"""applycredit: composition root and command line.

    python bot.py run                 the bot (Socket Mode, or HTTP on PORT); the sandbox when nothing is configured
    python bot.py history [--job N]   the audit trail
    python bot.py connect-quickbooks  connect a QuickBooks company (authorization-code flow)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from config import ConfigError, Settings
from data.db import Connections
from data.jobs import JobStore
from data.once import Marks
from data.outbox import Outbox
from data.retention import Retention
from data.tokens import TokenStore
from handlers import Deps, register
from handlers.commands import access_gate
from handlers.digest import DigestPoster
from handlers.notifier import SlackNotifier
from handlers.outbox import Deliverer
from integrations.connectbooster import ConnectBoosterClient
from integrations.errors import IntegrationError
from integrations.http import RateLimiter, RetryPolicy
from integrations.quickbooks import QuickBooksClient
from integrations.quickbooks_auth import QuickBooksTokens, connect_quickbooks
from workflow.digest import DigestScheduler
from workflow.guided import GuidedService
from workflow.qbo_only import DigestReads, GuidedCreditService, NoConnectBooster
from workflow.runner import JobRunner
from workflow.service import CreditService

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


class Bot:
    """Everything wired together; `start()` begins background work, `serve_http()` answers Slack."""

    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        o = overrides or Overrides()
        if not settings.slack_signing_secret:  # Bolt would answer unsigned requests with a 500 instead of a 401
            raise ConfigError(["SLACK_SIGNING_SECRET is missing: every request from Slack is verified with it"])
        self.settings = settings
        self.connections = Connections(settings.database_path)
        clock = o.now or (lambda: datetime.now(UTC))
        # Drafts (form snapshots) live as long as an approval: a form older than that is stale (issue 13).
        self.store = JobStore(self.connections.get, draft_ttl=timedelta(hours=settings.approval_ttl_hours),
                              draft_clock=clock)
        self.outbox = Outbox(self.connections.get)
        self.tokens = TokenStore(self.connections)
        realm = settings.qbo_realm_id or self.tokens.latest_realm() or ""
        auth = QuickBooksTokens(client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
                                redirect_uri=settings.qbo_redirect_uri, environment=settings.qbo_environment,
                                realm_id=realm, store=self.tokens, initial_refresh_token=settings.qbo_refresh_token,
                                timeout=(min(3.05, o.http_timeout), o.http_timeout))  # intuit-oauth has none
        self.guided_mode = settings.guided  # issue 14: ConnectBooster's half guided in Slack, never called
        self.qbo = QuickBooksClient(session=requests.Session(), base_url=settings.qbo_base_url, realm_id=realm,
                                    tokens=auth, retry=o.qbo_retry, limiter=o.qbo_limiter, timeout=o.http_timeout)
        self.cb = NoConnectBooster() if self.guided_mode else ConnectBoosterClient(
            session=requests.Session(), base_url=settings.connectbooster_base_url,
            api_key=settings.connectbooster_api_key, retry=o.cb_retry, timeout=min(o.http_timeout, 15.0))
        self.slack = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url or WebClient.BASE_URL)
        self.deliverer = Deliverer(self.outbox, self.store, self.slack, idle_seconds=o.outbox_idle_seconds)
        notifier = SlackNotifier(self.outbox, notify_channel=settings.notify_channel, on_enqueue=self.deliverer.wake,
                                 tz=settings.team_timezone or "UTC", portal_url=settings.connectbooster_portal_url)
        team_zone = ZoneInfo(settings.team_timezone or "UTC")
        # QuickBooks dates every write by the team's calendar (an omitted TxnDate is Intuit's server date): an
        # application approved at 23:30 in Chicago on the 31st belongs to that month, not the next.
        self.runner = JobRunner(store=self.store, qbo=self.qbo, cb=self.cb, notifier=notifier,
                                poll_seconds=settings.sync_poll_seconds, timeout_seconds=settings.sync_timeout_seconds,
                                workers=o.workers, wall_clock=o.wall_clock,
                                today=lambda: clock().astimezone(team_zone).date())
        service_class = GuidedCreditService if self.guided_mode else CreditService
        self.service = service_class(store=self.store, runner=self.runner, qbo=self.qbo, cb=self.cb,
                                     approver_ids=settings.approver_ids,
                                     approval_ttl=timedelta(hours=settings.approval_ttl_hours),
                                     undo_window=timedelta(hours=settings.undo_window_hours), now=o.now)
        # A name: without one Bolt inspects the call stack for it on every construction.
        self.app = App(name="applycredit", client=self.slack, signing_secret=settings.slack_signing_secret or None,
                       token_verification_enabled=False,
                       listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt"))
        self.marks = Marks(self.connections.get)
        self.guided = GuidedService(store=self.store, runner=self.runner, policy=self.service.policy,
                                    remind_minutes=settings.guided_remind_minutes,
                                    now=o.now, sweeps=self.service.sweeps) if self.guided_mode else None
        self.deps = Deps(service=self.service, store=self.store, marks=self.marks, guided=self.guided,
                         tz=settings.team_timezone or "UTC")
        register(self.app, self.deps)
        self.app.use(access_gate(settings.access))  # after register's deps middleware: REQUESTER_IDS, ALLOWED_CHANNELS
        # Delivery bookkeeping is pruned after RETENTION_DAYS; its timestamps are wall-clock (utcnow), so is this.
        self.retention = Retention(self.connections.get, self.store, days=settings.retention_days,
                                   undo_window=timedelta(hours=settings.undo_window_hours))
        # The daily digest (DIGEST_TIME in TEAM_TIMEZONE; empty = off), queued through the outbox once per day.
        # Guided mode (issue 14): the digest's "open credits" come from QuickBooks; there is no ConnectBooster API.
        digest_reads = DigestReads(self.qbo, self.service.pool) if self.guided_mode else self.cb
        self.digest = DigestScheduler(
            at=settings.digest_time if settings.notify_channel else "", tz=settings.team_timezone,
            posted=self.marks.digest_posted, now=clock, check_seconds=o.digest_check_seconds,
            post=DigestPoster(cb=digest_reads, store=self.store, outbox=self.outbox, marks=self.marks,
                              pool=self.service.pool, channel=settings.notify_channel, tz=settings.team_timezone,
                              now=clock, wake=self.deliverer.wake, batches=self.service.sweeps.batches))
        self._expiry_seconds = o.expiry_check_seconds
        self._stop = threading.Event()
        self._servers: list = []

    def start(self) -> int:
        """Resume unfinished jobs and start the outbox and the expiry check; returns jobs resumed."""
        self.deliverer.start()
        resumed = self.runner.resume_all()
        threading.Thread(target=self._expiry_loop, name="expiry", daemon=True).start()
        log.info("ConnectBooster mode: %s (%s)%s", self.settings.connectbooster_mode,
                 self.settings.connectbooster_mode_reason or "default",
                 ": QuickBooks is automated, the ConnectBooster steps are guided in each request's thread"
                 if self.guided_mode else "")
        if self.digest.at:
            threading.Thread(target=self.digest.run, args=(self._stop,), name="digest", daemon=True).start()
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
            if self.guided is not None:  # issue 14: reminders and the day-old escalation of guided steps
                try:
                    self.guided.remind_due()
                except Exception:
                    log.exception("guided reminder check failed")

    def wsgi(self):
        """POST /slack/events for Slack, GET /healthz for load balancers."""
        slack = SlackRequestHandler(self.app, path="/slack/events")

        def app(environ, start_response):
            if environ.get("PATH_INFO") == "/healthz":
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"ok": True, "pending_messages": self.outbox.pending_count()}).encode()]
            return slack(environ, start_response)

        return app

    def serve_http(self, port: int, host: str = "0.0.0.0"):
        """Serve in a background thread with waitress; returns the server (server.effective_port)."""
        import waitress

        server = waitress.create_server(self.wsgi(), host=host, port=port, threads=16, ident="applycredit")

        def run() -> None:
            try:
                server.run()
            except OSError:  # the socket closed under select() during stop()
                if not self._stop.is_set():
                    raise

        threading.Thread(target=run, name="http", daemon=True).start()
        self._servers.append(server)
        return server

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.task_dispatcher.shutdown(timeout=1)
            server.close()
        self.deps.background.shutdown(wait=False, cancel_futures=True)
        self.runner.stop()
        self.deliverer.stop()


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("urllib3", "slack_bolt", "slack_sdk", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(settings: Settings) -> int:
    sandbox = None
    if settings.sandbox:
        from sandbox.run import start_sandbox

        sandbox, settings = start_sandbox(settings)
    bot = Bot(settings)
    bot.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(bot.app, settings.slack_app_token)
        handler.connect()
        print("applycredit is connected to Slack (Socket Mode). Ctrl-C to stop.")
    else:
        # In the sandbox the console takes CONSOLE_PORT and reaches the bot as Slack would, on a free port.
        server = bot.serve_http(0 if sandbox else settings.port, host="127.0.0.1" if sandbox else "0.0.0.0")
        print(f"applycredit is listening on http://127.0.0.1:{server.effective_port}/slack/events "
              f"(health: /healthz). Ctrl-C to stop.")
        if sandbox:
            sandbox.attach(bot, server.effective_port, console_port=settings.console_port)
    try:
        if sandbox and sys.stdin.isatty():
            if "LOG_LEVEL" not in os.environ:  # the prompt's own output says what happens; keep logs to problems
                logging.getLogger().setLevel(logging.WARNING)
            sandbox.repl()
        else:
            while not done.wait(0.5):
                pass
    except (KeyboardInterrupt, EOFError):
        pass
    bot.stop()
    if sandbox:
        sandbox.stop()
    return 0


def cmd_history(settings: Settings, job_id: int | None) -> int:
    store = JobStore(Connections(settings.database_path).get)
    for event in store.events(job_id):
        details = json.dumps(event.details, sort_keys=True)
        print(f"{event.at}  job {event.job_id or '-':>4}  {event.actor or '-':<12} {event.kind:<28} {details}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the sandbox when no credentials are configured)")
    history = sub.add_parser("history", help="print the audit trail")
    history.add_argument("--job", type=int, help="only this job")
    connect = sub.add_parser("connect-quickbooks", help="connect a QuickBooks company through the browser")
    connect.add_argument("--paste", action="store_true", default=None,
                         help="paste the redirected URL instead of listening on QBO_REDIRECT_URI "
                              "(automatic for an https redirect URI that is not localhost)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "history":
        return cmd_history(settings, args.job)
    if args.command == "connect-quickbooks":
        tokens = TokenStore(Connections(settings.database_path))
        try:
            connect_quickbooks(settings, tokens, paste=args.paste)
        except IntegrationError as e:  # a clear one-line reason (timeout, state, access_denied), not a traceback
            print(e, file=sys.stderr)
            return 1
        return 0
    return cmd_run(settings)


if __name__ == "__main__":
    sys.exit(main())
