"""A terminal stand-in for Slack while `make run` runs the sandbox: type what a user would do.

    /applycredit Atomar's Best Tackle   run the command as the current user (opens the picker)
    submit [INVOICE] [AMOUNT]           submit the open picker (defaults: the preselected invoice and amount)
    as requester|approver|approver2|someone
    approve [JOB] | reject [JOB]        click the button on the request's message
    retry [JOB]                         click Retry / Sync again in the thread
    thread [JOB]                        print the request's thread
    books                               balances in QuickBooks and in ConnectBooster
    demo                                the help article's example, start to finish
    disconnect                          the company disconnects the app in QuickBooks (jobs then wait)
    /applycredit connect, then follow   (as an approver) the one-time link, opened as a browser would
"""
from __future__ import annotations

import html
import re
import time

import requests

from sandbox.run import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER

USERS = {"requester": REQUESTER, "approver": APPROVER, "approver2": APPROVER_2, "someone": OUTSIDER}


class Terminal:
    def __init__(self, sandbox, driver, out=print) -> None:
        self.sb = sandbox
        self.slack = sandbox.slack
        self.driver = driver
        self.user = REQUESTER
        self.out = out
        self.seen_ephemerals = 0

    def handle(self, line: str) -> bool:
        """Run one line; False when the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/applycredit"):
            self.command(line[len("/applycredit"):].strip())
            return True
        word, *rest = line.split()
        if word in ("quit", "exit"):
            return False
        handler = getattr(self, f"do_{word}", None)
        if handler is None:
            self.out(__doc__)
        else:
            handler(*rest)
        self.show_ephemerals()
        return True

    def command(self, text: str) -> None:
        if text == "connect":  # an ephemeral link, no modal: shown by show_ephemerals
            self.driver.command(self.user, CHANNEL, text)
            self.show_ephemerals()
            return
        self.driver.command(self.user, CHANNEL, text)
        view = self.slack.wait_for(lambda s: (v := s.views(self.user)["modals"]) and "Looking up" not in str(v[-1])
                                   and v[-1], timeout=30)
        self.out(_flatten(view.get("blocks", [])))

    def do_disconnect(self, *_):
        self.sb.qbo.oauth.disconnect()
        self.out("QuickBooks: the company disconnected the app; approved jobs now wait for `/applycredit connect`.")

    def do_follow(self, *_):
        """Open the last /applycredit connect link: the bot -> the emulator's consent (auto) -> the bot's callback."""
        links = [m.group(1) for e in self.slack.ephemerals(self.user)
                 if (m := re.search(r"<(http[^|>]+)\|Reconnect QuickBooks>", e.get("text", "")))]
        if not links:
            self.out("no connect link yet: `as approver`, then `/applycredit connect`")
            return
        page = requests.get(links[-1], timeout=30)
        said = re.search(r"<h1>(.*?)</h1><p>(.*?)</p>", page.text, re.S)
        self.out(html.unescape(re.sub(r"<[^>]+>", "", f"{said[1]}: {said[2]}")) if said else f"HTTP {page.status_code}")

    def do_help(self, *_):
        self.out(__doc__)

    def do_as(self, who: str = "requester", *_):
        self.user = USERS.get(who, self.user)
        self.out(f"acting as {self.user}")

    def do_submit(self, invoice: str = "", amount: str = "", *_):
        modals = self.slack.views(self.user)["modals"]
        if not modals:
            self.out("no picker open: run /applycredit first")
            return
        view = modals[-1]
        values = {}
        block = next((b for b in view["blocks"] if b.get("block_id") == "invoice"), None)
        if invoice and block:
            options = block["element"].get("options") or self.driver.options(
                user=self.user, action_id="invoice", block_id="invoice", value=invoice, source=view).json()["options"]
            chosen = next((o for o in options if o["text"]["text"].startswith(invoice + " ")), None)
            if chosen is None:
                self.out(f"invoice {invoice} is not among the open invoices")
                return
            values["invoice"] = {"invoice": {"type": block["element"]["type"], "selected_option": chosen}}
        if amount:
            values["amount"] = {"amount": {"type": "plain_text_input", "value": amount}}
        body = self.driver.submit_view(self.user, view, values).json() or {}
        self.out(body.get("errors") or _flatten((body.get("view") or {}).get("blocks", [])))

    def _job_message(self, job: str | None) -> dict | None:
        messages = [m for m in self.slack.messages(CHANNEL) if "#" in m.get("text", "")]
        if job:
            messages = [m for m in messages if f"#{job}:" in m.get("text", "")]
        return messages[-1] if messages else None

    def _click(self, action: str, job: str | None, in_thread: bool = False) -> None:
        message = self._job_message(job)
        if message is None:
            self.out("no such request")
            return
        if in_thread:
            message = next((m for m in reversed(self.slack.thread(CHANNEL, message["ts"])) if action in str(m)), None)
            if message is None:
                self.out("nothing to retry")
                return
        self.driver.click(self.user, action, source=message)
        time.sleep(0.3)

    def do_approve(self, job: str | None = None, *_):
        self._click("approve", job)

    def do_reject(self, job: str | None = None, *_):
        self._click("reject", job)

    def do_retry(self, job: str | None = None, *_):
        self._click("job_retry", job, in_thread=True)

    def do_thread(self, job: str | None = None, *_):
        message = self._job_message(job)
        if message is None:
            self.out("no request yet")
            return
        self.out(message.get("text", ""))
        for reply in self.slack.thread(CHANNEL, message["ts"]):
            self.out("  └ " + reply.get("text", ""))

    def do_books(self, *_):
        for inv in self.sb.qbo.ledger.list("Invoice"):
            if inv["CustomerRef"]["value"] == "58":
                self.out(f"QuickBooks invoice {inv['DocNumber']}: balance {inv['Balance']} of {inv['TotalAmt']}")
        snap = self.sb.cb.snapshot()
        for inv in snap["invoices"]:
            if inv["organization_id"] == 501:
                self.out(f"ConnectBooster invoice {inv['number']}: {inv['balance']} of {inv['total']}")
        for credit in snap["credits"]:
            if credit["organization_id"] == 501 and credit["status"] == "open":
                self.out(f"ConnectBooster open credit {credit['id']}: {credit['remaining_amount']}")

    def do_demo(self, *_):
        self.user = REQUESTER
        self.out(f"{REQUESTER}: /applycredit Atomar's Best Tackle")
        self.command("Atomar's Best Tackle")
        self.out(f"{REQUESTER}: submit invoice 10040, $10")
        self.do_submit("10040", "10")
        self.user = APPROVER
        self.out(f"{APPROVER}: Approve")
        self.do_approve()
        message = self._job_message(None)
        seen, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = self.slack.thread(CHANNEL, message["ts"])
            for reply in replies[seen:]:
                self.out("  └ " + reply.get("text", ""))
            seen = len(replies)
            if any(k in r.get("text", "") for r in replies for k in ("Verified", ":warning:")):
                break
            time.sleep(0.5)
        self.do_books()
        self.user = REQUESTER

    def show_ephemerals(self) -> None:
        all_eph = [e for u in USERS.values() for e in self.slack.ephemerals(u)]
        for e in all_eph[self.seen_ephemerals:]:
            self.out(f"(only visible to {e['recipient']}) {e.get('text', '')}")
        self.seen_ephemerals = len(all_eph)


def _flatten(blocks: list[dict]) -> str:
    """Block Kit as plain lines for a terminal."""
    lines = []
    for b in blocks:
        if b.get("text"):
            lines.append(b["text"].get("text", ""))
        for f in b.get("fields", []):
            lines.append(f.get("text", "").replace("\n", ": "))
        if b.get("type") == "input":
            el = b["element"]
            initial = (el.get("initial_option") or {}).get("text", {}).get("text") or el.get("initial_value") or ""
            lines.append(f"[{b['label']['text']}: {initial}]")
    return "\n".join(lines)
