"""The bot's HTTP surface: every route of its server in one place, and the server itself.

Mixed into bot.Bot, whose `settings`, `app`, `reconnect`, `outbox`, `_stop` and `_servers` it uses. Every route sits
behind edge/routes.py's guards (methods, body cap); edge/server.py bounds bodies, connections and idle time.
"""
from __future__ import annotations

import json
import threading

from slack_bolt.adapter.wsgi import SlackRequestHandler

from edge.routes import Router
from edge.server import Limits, make_server
from web.quickbooks import routes as quickbooks_routes
from workflow.new_credits import WEBHOOKS_PATH, webhook_route


class HttpSurface:
    """Slack's events, the health check, QuickBooks' webhooks (with a verifier token) and the connect pages."""

    def wsgi(self) -> Router:
        """Every route of the bot's HTTP server, in one place, behind edge/routes.py's guards (methods, body cap):
        Slack's events, the health check, QuickBooks' webhooks (with a verifier token) and the connect pages."""
        router = Router(max_body=self.settings.http_max_body_bytes)
        router.add("/slack/events", SlackRequestHandler(self.app, path="/slack/events"), methods=("POST",))
        router.add("/healthz", self._healthz, methods=("GET",))
        hooks = webhook_route(self)
        if hooks is not None:
            router.add(WEBHOOKS_PATH, hooks, methods=("POST",))
        for path, app in quickbooks_routes(self.reconnect).items():
            router.add(path, app, methods=("GET",))
        return router

    def _healthz(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"ok": True, "pending_messages": self.outbox.pending_count()}).encode()]

    def serve_http(self, port: int, host: str = "0.0.0.0"):
        """Serve in a background thread (edge/server.py: bounded bodies, connections, idle time); returns the
        server (server.effective_port)."""
        s = self.settings
        server = make_server(self.wsgi(), host=host, port=port, limits=Limits(
            max_body=s.http_max_body_bytes, max_connections=s.http_max_connections, idle_seconds=s.http_idle_seconds))

        def run() -> None:
            try:
                server.run()
            except OSError:  # the socket closed under select() during stop()
                if not self._stop.is_set():
                    raise

        threading.Thread(target=run, name="http", daemon=True).start()
        self._servers.append(server)
        return server
