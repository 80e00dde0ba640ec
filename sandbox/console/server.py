"""The sandbox console's HTTP side: serves the page and a small JSON API over the fakes.

The page never talks to the bot directly: clicks, selections, submissions and commands go through the
SlackDriver, which signs them exactly as Slack does and POSTs them to the bot's real /slack/events. Live updates
are long polls on the fake Slack's history_version.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.console import person as person_actions
from sandbox.console.bookkeeper import new_credit
from sandbox.console.books import DEFAULT_CLIENT, books, books_html
from sandbox.console.page import modal_html, names, timeline
from sandbox.console.troubles import fault_catalogue
from sandbox.serving import LoopbackServer

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
FILES = {"/": ("index.html", "text/html"), "/console.css": ("console.css", "text/css"),
         "/console.js": ("console.js", "text/javascript")}
ALLOWED_HOSTS = ("127.0.0.1", "localhost")  # a page on another origin can't reach us by DNS rebinding
LONG_POLL_SECONDS = 4.0  # also how often the books refresh when Slack is quiet and no sync or resync is running


class ConsoleError(Exception):
    """A request the console refuses; shown to the user as is."""


class Console:
    """The console over a running Sandbox; every API verb is a plain method too (tests call them directly)."""

    def __init__(self, sandbox, driver, *, channel: str, notify: str, users: dict[str, str],
                 sync_timeout: float = 600.0, guided: bool = False) -> None:
        self.sb, self.driver, self.slack = sandbox, driver, sandbox.slack
        self.guided = guided  # guided mode: the books panel offers the person's ConnectBooster actions
        self.channel, self.notify, self.users = channel, notify, users
        self.faults = fault_catalogue(sync_timeout, guided)
        self.armed: list[str] = []  # what was armed, newest last (shown under the buttons)
        self._server = LoopbackServer(self.wsgi, name="console")
        self.url = ""
        self.slack.add_channel(channel, "finance")
        self.slack.add_channel(notify, "applycredit-notices")

    # ---- lifecycle ------------------------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._server.start(port, host)
        self.url = self._server.origin + "/"
        return self.url

    def stop(self) -> None:
        self._server.stop()

    # ---- state -------------------------------------------------------------------------------------------

    def state(self, user: str, client: str = DEFAULT_CLIENT, since: int | None = None,
              wait: float = LONG_POLL_SECONDS) -> dict:
        """Everything the page shows for `user`, rendered; blocks up to `wait` s for a change after `since`."""
        if since is not None:
            # Slack's history wakes the poll; a resync or sync moving on in ConnectBooster changes only the books,
            # so the wait also ends when the emulator's next transition is due.
            due = self.sb.cb.seconds_to_next_change()
            self.slack.wait_version(since, wait if due is None else min(wait, due + 0.02))
        st = self.slack.state(user)
        users, chans = names(st)
        channels = sorted((c for c in st["channels"] if not c.get("is_im")),
                          key=lambda c: (c["id"] != self.channel, c["id"] != self.notify, c["id"]))
        modals = st["views"]["modals"]
        ledger = self.sb.qbo.ledger
        data = books(ledger.list("Customer"), ledger.list("Invoice"), ledger.list("CreditMemo"),
                     ledger.list("Payment"), self.sb.cb.snapshot(), client)
        asked = person_actions.asked_sync_from(st["channels"]) if self.guided else None  # the checklist's date
        return {
            "version": st["version"], "user": user,
            "channels": [{"id": c["id"], "name": c["name"],
                          "items": timeline(c, st["ephemerals"], users, chans)} for c in channels],
            "modal": {"id": modals[-1]["id"], "html": modal_html(modals[-1], users, chans)} if modals else None,
            "books": {**data, "sync_from": asked, "html": books_html(data, person=self.guided, sync_from=asked)},
            "armed": self.armed[-5:],
        }

    # ---- what the user does ----------------------------------------------------------------------------

    def command(self, user: str, text: str, channel: str | None = None) -> dict:
        """A line from the composer: a slash command goes to the bot; anything else is a plain message."""
        channel = channel or self.channel
        text = text.strip()
        if not text:
            raise ConsoleError("Type /applycredit and a client name.")
        if not text.startswith("/"):
            self.slack.post_user_message(channel, user, text)
            return {"ok": True}
        command, _, rest = text.partition(" ")
        if command != "/applycredit":
            raise ConsoleError(f"{command} is not a valid command here. Try /applycredit Atomar's Best Tackle.")
        resp = self.driver.command(user, channel, rest.strip(), command=command)
        if not resp.ok:
            raise ConsoleError(f"The bot answered HTTP {resp.status}.")
        return {"ok": True}

    def _source(self, user: str, kind: str, channel: str | None, ts: str | None, view_id: str | None) -> dict:
        if kind == "view":
            source = self.slack.view(view_id or "")
        elif kind == "ephemeral":
            source = next((e for e in self.slack.ephemerals(user) if e["ts"] == ts), None)
        else:
            source = self.slack.message(channel or self.channel, ts or "")
        if source is None:
            raise ConsoleError("That message or modal is gone.")
        return source

    def action(self, user: str, body: dict) -> dict:
        """A click or a selection on a message, an ephemeral or a modal → a signed block_actions payload."""
        kind = body.get("kind", "message")
        source = self._source(user, kind, body.get("channel"), body.get("ts"), body.get("view_id"))
        block_id, element = self.driver.find_element(source, body.get("action_id", ""), body.get("block_id"))
        if element is None:
            raise ConsoleError("That control is gone.")
        selected = _option_for(element, body.get("selected")) if body.get("selected") else None
        values = typed_values(source, body.get("values") or {}) if kind == "view" else None
        resp = self.driver.click(user, body["action_id"], source=source, block_id=block_id, selected_option=selected,
                                 state_values=values)
        if not resp.ok:
            raise ConsoleError(f"The bot answered HTTP {resp.status}.")
        return {"ok": True}

    def submit(self, user: str, view_id: str, raw: dict) -> dict:
        """The modal's submit button → a signed view_submission; Slack's handling of the ack follows."""
        view = self.slack.view(view_id)
        if view is None:
            raise ConsoleError("That modal is gone.")
        resp = self.driver.submit_view(user, view, typed_values(view, raw))
        if not resp.ok:
            raise ConsoleError(f"The bot answered HTTP {resp.status}.")
        answer = resp.json() or {}
        return {"ok": True, "errors": answer.get("errors") if answer.get("response_action") == "errors" else None}

    def close(self, user: str, view_id: str) -> dict:
        view = self.slack.view(view_id)
        if view is not None:
            self.driver.close_view(user, view)
        return {"ok": True}

    def options(self, user: str, view_id: str, action_id: str, block_id: str, query: str) -> dict:
        """An external_select's options, asked from the bot's options endpoint as Slack does while one types."""
        view = self.slack.view(view_id)
        if view is None:
            raise ConsoleError("That modal is gone.")
        answer = self.driver.options(user, action_id, block_id, value=query, source=view).json() or {}
        opts = list(answer.get("options") or [])
        for group in answer.get("option_groups") or []:
            opts.extend(group.get("options") or [])
        return {"options": [{"value": o.get("value", ""), "text": (o.get("text") or {}).get("text", "")}
                            for o in opts]}

    def person(self, do: str, invoice: str = "", sync_from: str = "") -> dict:
        """Guided mode: what a person does in the ConnectBooster portal (Sync Now from the date they entered)."""
        if not self.guided:
            raise ConsoleError("The portal actions are for guided mode (CONNECTBOOSTER_MODE=guided).")
        if do == "resync":
            return {"ok": True, "message": person_actions.resync_invoice(self.sb.cb, invoice)}
        if do == "sync":
            try:
                start = date.fromisoformat(sync_from) if sync_from else None
            except ValueError:
                raise ConsoleError("Sync from must be a date, YYYY-MM-DD.") from None
            return {"ok": True, "message": person_actions.sync_now(self.sb.cb, start)}
        raise ConsoleError(f"Unknown portal action {do!r}.")

    def bookkeeper(self, do: str, client: str, amount: str) -> dict:
        """A new credit memo or an unapplied payment, made in QuickBooks (sandbox/console/bookkeeper.py)."""
        try:
            return {"ok": True, "message": new_credit(self.sb.qbo.ledger, client, do, amount)}
        except ValueError as e:
            raise ConsoleError(str(e)) from None

    def inject(self, kind: str) -> dict:
        """Arm one documented trouble in the emulators."""
        if kind not in self.faults:
            raise ConsoleError(f"Unknown trouble {kind!r}.")
        if kind in person_actions.END_STUCK:
            return {"ok": True, "ended": True, "message": person_actions.end_stuck_sync(self.sb.cb)}
        if kind == "qbo_429":
            self.sb.qbo.faults.inject("429", times=3, seconds=2, match="/v3/company")  # the API, not OAuth's files
        else:
            self.sb.cb.faults.inject(kind)
        self.armed.append(f"{self.faults[kind]['what']} {self.faults[kind]['bot']}")
        return {"ok": True, "message": self.armed[-1]}

    # ---- HTTP ----------------------------------------------------------------------------------------------

    def wsgi(self, environ: dict, start_response) -> Any:
        request = Request(environ)
        try:
            response = self._route(request)
        except ConsoleError as e:
            response = _json({"ok": False, "error": str(e)}, 400)
        except Exception:  # noqa: BLE001 - the page shows a message instead of hanging
            log.exception("console failed on %s", request.path)
            response = _json({"ok": False, "error": "The console hit an error; see the terminal."}, 500)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.host.rsplit(":", 1)[0] not in ALLOWED_HOSTS:
            return Response("Forbidden host", 403)
        path = request.path
        if request.method == "GET" and path in FILES:
            name, mime = FILES[path]
            resp = Response((STATIC / name).read_bytes(), mimetype=mime)
            resp.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                       "style-src 'self'; script-src 'self'; connect-src 'self'")
            resp.headers["Cache-Control"] = "no-store"
            return resp
        if request.method == "GET" and path == "/api/state":
            since = request.args.get("since", type=int)
            return _json(self.state(request.args.get("user") or "", request.args.get("client") or DEFAULT_CLIENT,
                                    since, min(request.args.get("wait", LONG_POLL_SECONDS, type=float), 25)))
        if request.method == "GET" and path == "/api/meta":
            users = [{"id": u, "role": role, "name": self.slack.user_name(u)} for u, role in self.users.items()]
            return _json({"users": users, "channel": self.channel, "notify": self.notify, "faults": self.faults,
                          "guided": self.guided})
        if request.method == "POST" and path.startswith("/api/"):
            if request.mimetype != "application/json":  # forces a CORS preflight on cross-site posts
                return _json({"ok": False, "error": "JSON only"}, 415)
            body = request.get_json(silent=True) or {}
            user = str(body.get("user") or "")
            if user not in self.users:
                raise ConsoleError("Pick who is acting first.")
            verb = path[len("/api/"):]
            if verb == "command":
                return _json(self.command(user, str(body.get("text", "")), body.get("channel")))
            if verb == "action":
                return _json(self.action(user, body))
            if verb == "submit":
                return _json(self.submit(user, str(body.get("view_id")), body.get("values") or {}))
            if verb == "close":
                return _json(self.close(user, str(body.get("view_id"))))
            if verb == "options":
                return _json(self.options(user, str(body.get("view_id")), str(body.get("action_id")),
                                          str(body.get("block_id")), str(body.get("query", ""))))
            if verb == "person":
                return _json(self.person(str(body.get("do")), str(body.get("invoice", "")),
                                         str(body.get("sync_from") or "")))
            if verb == "books":
                return _json(self.bookkeeper(str(body.get("do")), str(body.get("client")), str(body.get("amount"))))
            if verb == "fault":
                return _json(self.inject(str(body.get("kind"))))
        return Response("Not Found", 404)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status, mimetype="application/json")


def _option_for(element: dict, chosen: dict) -> dict:
    """The option object Slack would send for a chosen value: the element's own, or (external) value + text."""
    value = str(chosen.get("value", ""))
    opts = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    found = next((o for o in opts if o.get("value") == value), None)
    return found or {"text": {"type": "plain_text", "text": str(chosen.get("text") or value), "emoji": True},
                     "value": value}


def typed_values(view: dict, raw: dict) -> dict:
    """The page's {block_id: {action_id: {value | selected}}} → Slack's view.state.values shapes."""
    elements = {}
    for block in view.get("blocks") or []:
        el = block.get("element") if block.get("type") == "input" else None
        if isinstance(el, dict):
            elements[(block.get("block_id"), el.get("action_id"))] = el
    out: dict = {}
    for block_id, actions in (raw or {}).items():
        for action_id, entry in (actions or {}).items():
            el = elements.get((block_id, action_id))
            if el is None or not isinstance(entry, dict):
                continue  # only the view's own inputs: the page can't invent fields
            etype = el.get("type")
            if etype in ("static_select", "external_select", "radio_buttons"):
                chosen = entry.get("selected")
                state = {"type": etype, "selected_option": _option_for(el, chosen) if chosen else None}
            elif etype in ("multi_static_select", "multi_external_select"):
                state = {"type": etype, "selected_options": [_option_for(el, c) for c in entry.get("selected") or []
                                                             if isinstance(c, dict)]}
            else:
                value = entry.get("value")
                state = {"type": etype, "value": value if value not in ("", None) else None}
            out.setdefault(block_id, {})[action_id] = state
    return out
