"""The watcher (workflow/credit_watch.py) against the QuickBooks emulator and the real client: the first full read
notices nothing; CDC from the stored cursor notices what became open; a cursor past CDC's 30 days, a window the
server refuses, or an answer of 1,000 objects falls back to one full read; stored webhook events are processed."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data.credit_index import CreditIndex
from data.db import Connections
from integrations.quickbooks_webhooks import Notice
from workflow.credit_watch import CreditWatch, iso


class Proposals:
    """What the watcher hands on: the credits to propose, and the changes."""

    def __init__(self) -> None:
        self.proposed: list[str] = []
        self.changed: list[dict] = []

    def propose_all(self, credits: list) -> list:
        self.proposed += [c.key for c in credits if c.key not in self.proposed]  # a proposal once made stays
        return []

    def credit_changed(self, changed: dict) -> None:
        self.changed.append(dict(changed))


@pytest.fixture
def watch(client, tmp_path):
    def make(now=lambda: datetime.now(UTC), poll: float = 300.0) -> CreditWatch:
        index = CreditIndex(Connections(str(tmp_path / "watch.db")).get)
        return CreditWatch(qbo=client, index=index, proposals=Proposals(), poll_seconds=poll, webhooks=True, now=now)
    return make


def _paths(emu, since: int) -> list[str]:
    out = []
    for r in emu.requests[since:]:
        query = r["query"].get("query", "")
        out.append("cdc" if r["path"].endswith("/cdc") else "full" if "TotalAmt > '0'" in query else r["path"])
    return out


def test_first_read_notices_nothing_then_cdc_notices_the_new(watch, emu):
    w = watch()
    w.run_once()
    assert w.ready.is_set() and w.proposals.proposed == [] and w.index.open_credits()
    assert w.index.cursor() is not None
    memo = emu.ledger.create_credit_memo("58", "25.00", txn_date="2026-11-20")
    w._last_cdc = None  # the poll is due
    mark = len(emu.requests)
    w.run_once()
    assert "cdc" in _paths(emu, mark) and "full" not in _paths(emu, mark)
    assert w.proposals.proposed == [f"credit_memo:{memo['Id']}"]


def test_a_cursor_older_than_30_days_falls_back_to_a_full_read(watch, emu):
    w = watch()
    w.run_once()
    w.index.set_cursor(iso(datetime.now(UTC) - timedelta(days=31)))  # then the bot was off for a month
    memo = emu.ledger.create_credit_memo("58", "25.00", txn_date="2026-11-20")
    w._last_cdc = None
    mark = len(emu.requests)
    w.run_once()
    assert _paths(emu, mark).count("full") == 1 and "cdc" not in _paths(emu, mark)
    assert w.proposals.proposed == [f"credit_memo:{memo['Id']}"]  # a credit not seen before, after a gap: new
    assert datetime.fromisoformat(w.index.cursor()) > datetime.now(UTC) - timedelta(minutes=1)


def test_a_window_the_server_refuses_falls_back_to_a_full_read(watch, emu):
    behind = timedelta(hours=2)  # the bot's clock is two hours behind Intuit's
    w = watch(now=lambda: datetime.now(UTC) - behind)
    # 30 days and 30 minutes ago by Intuit's clock, 29 days 22.5 hours by the bot's: CDC is tried, and refused.
    w.index.set_cursor(iso(datetime.now(UTC) - timedelta(days=30, minutes=30)))
    mark = len(emu.requests)
    w.run_once()
    paths = _paths(emu, mark)
    assert paths[0] == "cdc" and paths.count("full") == 1 and w.ready.is_set()


def test_an_answer_of_1000_objects_falls_back_to_a_full_read(watch, emu):
    w = watch()
    w.run_once()
    for n in range(1001):  # CDC keeps an arbitrary 1,000 of them
        emu.ledger.create_credit_memo("58", "1.00", txn_date="2026-11-20", doc_number=f"K{n}")
    w._last_cdc = None
    mark = len(emu.requests)
    w.run_once()
    paths = _paths(emu, mark)
    assert paths[0] == "cdc" and paths.count("full") == 1
    assert len(w.proposals.proposed) == 1001  # every one noticed, none missed


def test_stored_webhook_events_are_read_in_bulk_and_marked_processed(watch, emu):
    w = watch(poll=0)
    w.run_once()
    memo = emu.ledger.create_credit_memo("58", "25.00", txn_date="2026-11-20")
    paid = emu.ledger.receive_payment("59", "40.00", txn_date="2026-11-20")
    w.index.store_notices([Notice("e1", emu.realm_id, "CreditMemo", memo["Id"], "Create"),
                           Notice("e2", emu.realm_id, "Payment", paid["Id"], "Create"),
                           Notice("e3", emu.realm_id, "Invoice", "120", "Update")])
    mark = len(emu.requests)
    w.run_once()
    assert len(emu.requests) - mark == 2  # one bulk read per entity
    assert sorted(w.proposals.proposed) == sorted([f"credit_memo:{memo['Id']}", f"unapplied_payment:{paid['Id']}"])
    assert w.index.pending_notices() == []
