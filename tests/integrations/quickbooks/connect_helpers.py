"""Helpers for the connect-quickbooks tests (not fixtures): settings, the user at the terminal or in the browser."""
from __future__ import annotations

import re
import socket
import threading
from urllib.parse import quote

import requests

from config import Settings
from integrations.errors import AuthError
from integrations.quickbooks_connect import connect_quickbooks

from .helpers import CLIENT_ID, CLIENT_SECRET, REALM

PRODUCTION_REDIRECT = "https://applycredit.example.com/quickbooks/callback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_settings(emu, port: int = 0, redirect: str | None = None) -> Settings:
    return Settings(sandbox=False, qbo_client_id=CLIENT_ID, qbo_client_secret=CLIENT_SECRET,
                    qbo_redirect_uri=redirect or f"http://127.0.0.1:{port}/callback",
                    qbo_environment=emu.discovery_url, qbo_realm_id=REALM, qbo_api_base_url=emu.base_url)


def run_connect(settings, store, timeout: float = 10, **kwargs):
    """Start the local-listener flow in a thread; returns once the consent URL was printed."""
    lines: list[str] = []
    outcome: dict = {}
    printed = threading.Event()

    def out(line: str) -> None:
        lines.append(line)
        printed.set()

    def target():
        try:
            outcome["realm"] = connect_quickbooks(settings, store, out=out, timeout=timeout, **kwargs)
        except Exception as exc:  # noqa: BLE001 (handed back to the test thread)
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert printed.wait(5)
    return thread, lines, outcome


def consent_url(lines: list[str]) -> str:
    return re.search(r"https?://\S+", lines[0]).group(0)


def state_of(lines: list[str]) -> str:
    return re.search(r"state=([^&\s]+)", lines[0]).group(1)


def redirected_to(url: str) -> str:
    """What the browser's address bar shows after consenting: the emulator's 302 Location."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"]


class Paster:
    """The user at the terminal: reads the printed consent URL, "approves", pastes what the browser shows."""

    def __init__(self, answers):
        self.lines: list[str] = []
        self.answers = list(answers)  # callables (printed lines -> pasted text)
        self.prompts: list[str] = []

    def out(self, line: str) -> None:
        self.lines.append(line)

    def input(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)(self.lines)


def paste(emu, store, *answers, redirect: str = PRODUCTION_REDIRECT, **kwargs):
    user = Paster(answers)
    try:
        realm = connect_quickbooks(connect_settings(emu, redirect=redirect), store, out=user.out,
                                   input_fn=user.input, **kwargs)
    except AuthError as exc:
        return exc, user
    return realm, user


def real_redirect(lines):
    return redirected_to(consent_url(lines))


def with_state(state: str):
    """A pasted redirect whose state is replaced (percent-encoded as a browser would show it)."""
    return lambda lines: re.sub(r"state=[^&]*", "state=" + quote(state), redirected_to(consent_url(lines)))
