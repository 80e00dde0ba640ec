"""The Reconnect URL and the OAuth callback of `/applycredit connect` in HTTP mode (workflow/reconnect.py).

- `GET /quickbooks/connect`: the page Intuit's developer portal calls the app's Reconnect URL. With a valid
  one-time `state` (the link `/applycredit connect` gave an admin) it sends the browser to Intuit's consent page;
  without one it only explains how to get a link: a stranger cannot start a connection from it.
- `GET /quickbooks/callback`: Intuit's redirect (QBO_REDIRECT_URI). The state is used up, checked in constant time;
  the code is exchanged, the tokens stored, waiting jobs resumed.
Neither logs its query string (it holds the code and the state); answers are never cached nor sent as a Referer.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable

from integrations.quickbooks_callback import is_redirect, query_params
from workflow.declined import Declined
from workflow.reconnect import CALLBACK_PATH, CONNECT_PATH, ReconnectService

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
HEADERS = [("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff"),
           ("X-Frame-Options", "DENY")]
NO_LINK = ("To connect applycredit to QuickBooks again, an admin runs <code>/applycredit connect</code> in Slack and "
           "opens the private, one-time link it gives. This page starts nothing by itself.")


def page(start_response: Callable, status: str, title: str, body_html: str) -> list[bytes]:
    """A small HTML page; `body_html` is already escaped."""
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{body_html}</p></body></html>").encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                            *HEADERS])
    return [body]


def _only_get(environ: dict, start_response: Callable) -> list[bytes] | None:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        return None
    start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0"), *HEADERS])
    return [b""]


def connect_app(reconnect: ReconnectService) -> WSGIApp:
    """The Reconnect URL: a valid link goes on to Intuit's consent page; anything else gets the explanation."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        refused = _only_get(environ, start_response)
        if refused is not None:
            return refused
        state = query_params(environ.get("QUERY_STRING", "")).get("state", "")
        try:
            target = reconnect.landing(state)
        except Declined as e:
            return page(start_response, "400 Bad Request", "Connect QuickBooks", html.escape(e.message))
        if target is None:
            status = "400 Bad Request" if state else "200 OK"
            why = "This link is not valid (used, expired, or not from the bot). " if state else ""
            return page(start_response, status, "Connect QuickBooks", why + NO_LINK)
        start_response("302 Found", [("Location", target), ("Content-Length", "0"), *HEADERS])
        return [b""]

    return app


def callback_app(reconnect: ReconnectService) -> WSGIApp:
    """QBO_REDIRECT_URI: finish the connection and say so in the browser."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        refused = _only_get(environ, start_response)
        if refused is not None:
            return refused
        params = query_params(environ.get("QUERY_STRING", ""))
        if not is_redirect(params):
            return page(start_response, "400 Bad Request", "Connect QuickBooks",
                        "This address receives Intuit's answer after an admin approves access. " + NO_LINK)
        try:
            realm, resumed = reconnect.finish(params)
        except Declined as e:
            return page(start_response, "400 Bad Request", "QuickBooks was not connected", html.escape(e.message))
        except Exception as e:  # noqa: BLE001 (the browser gets a page; the log the kind, never the query)
            log.error("QuickBooks callback failed: %s", type(e).__name__, exc_info=True)
            return page(start_response, "500 Internal Server Error", "QuickBooks was not connected",
                        "Something went wrong while storing the connection; nothing was changed. See the bot's log.")
        jobs = f" {resumed} waiting job{'s' if resumed != 1 else ''} resumed." if resumed else ""
        return page(start_response, "200 OK", "QuickBooks is connected",
                    f"QuickBooks company {html.escape(realm)} is connected.{jobs} You can close this window.")

    return app


def routes(reconnect: ReconnectService | None) -> dict[str, WSGIApp]:
    """The paths these pages answer (none when the bot has no QuickBooks connection to make)."""
    if reconnect is None:
        return {}
    return {CONNECT_PATH: connect_app(reconnect), CALLBACK_PATH: callback_app(reconnect)}
