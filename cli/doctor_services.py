"""doctor's QuickBooks and ConnectBooster checks: the token key, the connection and when it ends, Preferences
(multicurrency, the closing date), ConnectBooster's gateway or guided mode, and how QuickBooks' changes reach the
bot. Each call is one the bot itself makes (a due keepalive refresh included)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from cli.doctor import Finding, fix, note, ok
from config import Settings
from data.connection import ConnectionStore
from data.db import Connections
from data.tokens import TokenKeyError, open_tokens
from integrations.connectbooster import ConnectBoosterClient
from integrations.errors import AuthError, IntegrationError
from integrations.quickbooks import QuickBooksClient
from integrations.quickbooks_auth import QuickBooksTokens
from integrations.quickbooks_authclient import lapsed
from messages.blocks.times import human
from workflow.connection import DAY
from workflow.reconnect import serves_callback

CONNECT = "an admin runs `/applycredit connect` in Slack (or `python bot.py connect-quickbooks`)"


def quickbooks_findings(settings: Settings) -> list[Finding]:
    connections = Connections(settings.database_path)
    try:
        store = open_tokens(connections, settings)
    except TokenKeyError as e:
        return [fix("token key", str(e))]
    found = [ok("token key", f"{store.key_source} opens every stored token (encrypted at rest)")]
    found += _redirect(settings)
    realm = settings.qbo_realm_id or store.latest_realm() or ""
    if not realm or (store.load(realm) is None and not settings.qbo_refresh_token):
        return found + [fix("QuickBooks connection", f"no company is connected: {CONNECT}")]
    state = ConnectionStore(connections.get).get(realm)
    if state.lapsed_at is not None:
        return found + [fix("QuickBooks connection", f"Intuit refused it ({state.lapsed_code}) on "
                                                     f"{human(state.lapsed_at, settings.team_timezone)}: {CONNECT}")]
    tokens = QuickBooksTokens(client_id=settings.qbo_client_id, client_secret=settings.qbo_client_secret,
                              redirect_uri=settings.qbo_redirect_uri, environment=settings.qbo_environment,
                              realm_id=realm, store=store, initial_refresh_token=settings.qbo_refresh_token)
    client = QuickBooksClient(session=requests.Session(), base_url=settings.qbo_base_url, realm_id=realm,
                              tokens=tokens, timeout=15.0)
    try:
        tokens.keepalive(settings.qbo_keepalive_days * DAY)  # what the bot would do now, if it is due
        prefs = client.preferences()
    except IntegrationError as e:
        what = f"Intuit refused the connection ({e.code}): {CONNECT}" if lapsed(e) or isinstance(e, AuthError) \
            else f"no usable answer ({e.code or type(e).__name__}): check QBO_ENVIRONMENT / QBO_API_BASE_URL"
        return found + [fix("QuickBooks connection", what)]
    found.append(_expiry(settings, store.load(realm)))
    found.append(ok("QuickBooks Preferences", f"company {realm}: multicurrency {'on' if prefs.multicurrency else 'off'}"
                                              f", home currency {prefs.home_currency}"))
    found.append(_closing_date(settings, prefs.book_close_date))
    return found


def _redirect(settings: Settings) -> list[Finding]:
    uri = urlsplit(settings.qbo_redirect_uri)
    if settings.qbo_environment == "production" and (uri.scheme != "https" or uri.hostname in ("localhost", "127.0.0.1")):
        return [fix("QBO_REDIRECT_URI", "production keys need an https address that is not localhost (Intuit)")]
    if serves_callback(settings.qbo_redirect_uri, settings.socket_mode):
        return [ok("QBO_REDIRECT_URI", "the bot receives Intuit's redirect itself: register this address, and "
                                       f"{uri.scheme}://{uri.netloc}/quickbooks/connect as the app's Reconnect URL")]
    return [note("QBO_REDIRECT_URI", "`/applycredit connect` uses the paste modal (Socket Mode, or a redirect not on "
                                     "/quickbooks/callback); Intuit's Reconnect URL setting can point at README's "
                                     "instructions")]


def _expiry(settings: Settings, record) -> Finding:
    """When the connection ends: within QBO_RECONNECT_WARN_DAYS is a problem (with the way out)."""
    area = "QuickBooks connection"
    if record is None or record.expires_at is None:
        return note(area, "works; Intuit did not say when it ends")
    days = (record.expires_at - datetime.now().timestamp()) / DAY
    hard = record.refresh_hard_expires_at
    why = "Intuit's five-year limit" if hard is not None and record.expires_at == hard else "100 days without use"
    when = human(record.expires_at, settings.team_timezone)
    if days <= settings.qbo_reconnect_warn_days:
        return fix(area, f"ends {when} ({why}), in {max(days, 0):.0f} days: {CONNECT}")
    limit = f"; the five-year limit falls {human(hard, settings.team_timezone)}" if hard is not None else \
        "; Intuit did not say when its five-year limit falls"
    return ok(area, f"works; renewed by use and at least every {settings.qbo_keepalive_days:g} days (now until "
                    f"{when}){limit}")


def _closing_date(settings: Settings, closed_through: str | None) -> Finding:
    if not closed_through:
        return ok("QuickBooks closing date", "none set: applications can be dated today")
    today = datetime.now(ZoneInfo(settings.team_timezone or "UTC")).date().isoformat()
    if closed_through >= today:
        return fix("QuickBooks closing date", f"the books are closed through {closed_through}: every application "
                                              f"dated today ({today}, TEAM_TIMEZONE) would be refused (6210). Ask "
                                              "your accountant to move the closing date")
    return ok("QuickBooks closing date", f"{closed_through}: applications are dated today ({today}), after it")


def connectbooster_findings(settings: Settings) -> list[Finding]:
    if settings.guided:
        portal = settings.connectbooster_portal_url
        found = [ok("ConnectBooster", f"guided mode ({settings.connectbooster_mode_reason or 'chosen'}): no API is "
                                      "called; each request's thread guides the ConnectBooster steps")]
        return found + [ok("CONNECTBOOSTER_PORTAL_URL", portal) if portal else
                        note("CONNECTBOOSTER_PORTAL_URL", "not set: the guided steps cannot link to your portal")]
    client = ConnectBoosterClient(session=requests.Session(), base_url=settings.connectbooster_base_url,
                                  api_key=settings.connectbooster_api_key, timeout=10.0)
    try:
        integrations = client.list_integrations()
    except AuthError:
        return [fix("CONNECTBOOSTER_API_KEY", "the gateway refused it (401/403)")]
    except IntegrationError as e:
        return [fix("CONNECTBOOSTER_BASE_URL", f"the gateway did not answer usably ({e.code or type(e).__name__}): "
                                               "is the address right and the gateway running?")]
    names = ", ".join(sorted(str(i.id) for i in integrations)) or "none"
    return [ok("ConnectBooster", f"the gateway answers; integrations: {names}")]


def updates_findings(settings: Settings) -> list[Finding]:
    """How QuickBooks' own changes reach the bot: webhooks (HTTP mode) and change data capture polling."""
    area, verifier, poll = "QuickBooks webhooks/CDC", settings.qbo_webhook_verifier_token, settings.qbo_cdc_poll_seconds
    if verifier and settings.socket_mode:
        return [fix(area, "QBO_WEBHOOK_VERIFIER_TOKEN is set, but Socket Mode has no HTTP server for Intuit's "
                          "deliveries: use HTTP mode, or rely on CDC polling (QBO_CDC_POLL_SECONDS)")]
    found = [ok(area, "webhooks on: register https://<this host>/quickbooks/webhooks in Intuit's portal")] \
        if verifier else []
    if poll:
        found.append(ok(area, f"change data capture polls every {poll:g} s"))
    elif not verifier:
        found.append(note(area, "QBO_CDC_POLL_SECONDS is 0 and no webhooks: new credits are noticed only when asked"))
    return found
