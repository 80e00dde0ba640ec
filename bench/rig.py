"""The bench's world: both emulators, the fake Slack and the real bot, with hooks the scenario World lacks.

Unlike tests/scenarios/world.py it lets a benchmark add data to the QuickBooks ledger *before*
ConnectBooster's first sync, choose the sync timing and QuickBooks' rate limits, and keep real sleeps.
"""
from __future__ import annotations

import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot import Bot, Overrides
from config import Settings
from sandbox.cb_emulator import SyncTiming
from sandbox.run import APPROVER, CHANNEL, REQUESTER, Sandbox
from sandbox.slack_driver import SlackDriver

__all__ = ["Rig", "CHANNEL", "REQUESTER", "APPROVER", "pct", "machine", "tmpdir"]


class Rig(Sandbox):
    """Sandbox whose ledger can be extended (`build(ledger)`) before ConnectBooster copies it."""

    def __init__(self, *, timing: SyncTiming | None = None, limits: tuple[int, int] | None = None,
                 build: Callable[[object], None] | None = None) -> None:
        super().__init__(prepare=build, timing=timing or SyncTiming.fast(), limits=limits)
        self.bot: Bot | None = None
        self.driver: SlackDriver | None = None

    def bot_settings(self, db: Path, **changes) -> Settings:
        base = Settings(sandbox=True, database_path=str(db), sync_poll_seconds=3.0, sync_timeout_seconds=600.0)
        return replace(self.settings(base), **changes)

    def start_bot(self, db: Path, *, settings: dict | None = None, **overrides) -> Bot:
        """The real bot in this process, served over HTTP by waitress exactly as `bot.py run` does."""
        bot = Bot(self.bot_settings(db, **(settings or {})), Overrides(**overrides))
        bot.start()
        server = bot.serve_http(0, host="127.0.0.1")
        self.bot_url = f"http://127.0.0.1:{server.effective_port}/slack/events"
        self.driver = SlackDriver(bot_url=self.bot_url, signing_secret=self.signing_secret, slack=self.slack)
        self.bot = bot
        return bot

    def close(self) -> None:
        if self.bot is not None:
            self.bot.stop()
        for part in (self.slack, self.cb, self.qbo):
            part.stop()


# -- data builders: API-shaped records added straight to the emulator's ledger -----------------------------
def _lines(amount: Decimal, item: str) -> list[dict]:
    return [{"Id": "1", "LineNum": 1, "Amount": amount, "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"name": item, "value": "1"}, "Qty": 1, "UnitPrice": amount,
                                     "TaxCodeRef": {"value": "NON"}}},
            {"DetailType": "SubTotalLineDetail", "Amount": amount, "SubTotalLineDetail": {}}]


def add_client(ledger, *, cid: str, name: str, invoices: int, invoice_amount: Decimal, credit: Decimal,
               first_id: int, doc_base: int) -> dict:
    """A customer with `invoices` open invoices and one credit memo; returns the ids used.

    The Ledger has no public create for customers, invoices or credit memos (the bot never creates them), so
    this writes records shaped as sandbox/qbo_seed.py builds them, under the ledger's lock, and refreshes the
    derived customer balance the way the ledger's own seeding does.
    """
    from sandbox.qbo_seed import _meta, customer  # the seed's own record shapes
    from sandbox.qbo_wire import USD

    ref = {"name": name, "value": cid}
    records = [("Customer", customer(cid, name))]
    invoice_ids = []
    for n in range(invoices):
        iid, day = str(first_id + n), f"2026-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}"
        invoice_ids.append(iid)
        records.append(("Invoice", {
            "Id": iid, "SyncToken": "0", "domain": "QBO", "sparse": False, "DocNumber": str(doc_base + n),
            "TxnDate": day, "DueDate": day, "TotalAmt": invoice_amount, "Balance": invoice_amount,
            "Deposit": Decimal("0"), "CustomerRef": dict(ref), "CurrencyRef": dict(USD),
            "Line": _lines(invoice_amount, "Managed Services"), "ApplyTaxAfterDiscount": False,
            "EmailStatus": "NotSet", "PrintStatus": "NeedToPrint", "MetaData": _meta(day)}))
    memo_id = str(first_id + invoices)
    records.append(("CreditMemo", {
        "Id": memo_id, "SyncToken": "0", "domain": "QBO", "sparse": False, "DocNumber": f"M{doc_base}",
        "TxnDate": "2026-10-01", "TotalAmt": credit, "Balance": credit, "RemainingCredit": credit,
        "CustomerRef": dict(ref), "CurrencyRef": dict(USD), "Line": _lines(credit, "Service Credit"),
        "EmailStatus": "NotSet", "PrintStatus": "NeedToPrint", "MetaData": _meta("2026-10-01")}))
    ledger.add_records(records, refresh=(cid,))
    return {"customer": cid, "invoices": invoice_ids, "credit_memo": memo_id}


# -- figures -------------------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"n={len(ms)} p50={pct(ms, 50):.1f} ms p90={pct(ms, 90):.1f} ms p99={pct(ms, 99):.1f} ms "
            f"max={max(ms):.1f} ms mean={statistics.fmean(ms):.1f} ms")


def machine() -> str:
    """nproc, CPU model, memory, Python version, date: what docs/benchmarks.md records with the figures."""
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = "unknown"
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return (f"nproc={os.cpu_count()} cpu={cpu!r} mem={mem} python={platform.python_version()} "
            f"date={datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"applycredit-bench-{prefix}-"))


def quiet() -> None:
    """Benchmarks print figures, not the bot's INFO log."""
    logging.basicConfig(level=logging.ERROR)
    for name in ("applycredit", "workflow", "integrations", "handlers", "slack_bolt", "slack_sdk", "waitress",
                 "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def deadline(seconds: float) -> Callable[[], bool]:
    end = time.monotonic() + seconds
    return lambda: time.monotonic() > end


# -- the conversation, as tests/scenarios/world.py drives it --------------------------------------------------
def open_picker(rig: Rig, user: str, text: str, timeout: float = 30) -> dict:
    """Send the command and wait for the picker (the modal with the invoice menu)."""
    rig.slack.add_user(user, user.lower())
    resp = rig.driver.command(user, CHANNEL, text)
    assert resp.status == 200, resp.text

    def picker():
        modals = rig.slack.views(user)["modals"]
        return modals and any(b.get("block_id") == "invoice" for b in modals[-1].get("blocks", [])) and modals[-1]

    return rig.slack.wait_for(lambda s: picker(), timeout=timeout)


def request(rig: Rig, user: str, text: str) -> int:
    """Open the picker, submit its defaults (first credit, oldest invoice, default amount); the new job's id."""
    view = open_picker(rig, user, text)
    resp = rig.driver.submit_view(user, view, {})
    body = resp.json() or {}
    assert body.get("response_action") == "update", body
    job_id = int(str(body["view"]["blocks"]).split("Request #")[1].split(" ")[0])
    rig.slack.wait_for(lambda s: (j := rig.bot.store.get(job_id)) is not None and j.parent_ts, timeout=10)
    return job_id


def approve(rig: Rig, job_id: int, user: str = APPROVER) -> None:
    job = rig.bot.store.get(job_id)
    resp = rig.driver.click(user, "approve", source=rig.slack.message(CHANNEL, job.parent_ts))
    assert resp.status == 200, resp.text


def wait_states(rig: Rig, job_ids: list[int], states: tuple[str, ...], timeout: float) -> dict[int, str]:
    """Wait until every job is in one of `states` (or the timeout); returns each job's state."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        now = {j: rig.bot.store.get(j).state for j in job_ids}
        if all(s in states for s in now.values()):
            return now
        time.sleep(0.1)
    return {j: rig.bot.store.get(j).state for j in job_ids}
