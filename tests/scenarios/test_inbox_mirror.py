"""The inbox opened again reads ConnectBooster's sync history, not every organization (workflow/cb_mirror.py).

Counted at the ConnectBooster emulator between the command and the inbox's modal; what changed in ConnectBooster
reaches the inbox through a sync, as it does in ConnectBooster itself."""
from __future__ import annotations

import re
from decimal import Decimal

from tests.integrations.connectbooster.helpers import apply_credit_in_qbo
from tests.scenarios.test_inbox import open_inbox, row

HISTORY = "/integrations/quickbooks_online/syncs"


def opened(world) -> tuple[dict, list[str]]:
    """(the inbox's modal, the ConnectBooster paths asked meanwhile)."""
    before = len(world.cb.requests)
    view = open_inbox(world)
    return view, [r["path"] for r in world.cb.requests[before:]]


def synced(world) -> None:
    """A scheduled sync (from yesterday), waited until it finished."""
    run = world.cb.start_scheduled_sync()
    world.slack.wait_for(lambda s: next(r for r in world.cb.snapshot()["syncs"] if r["id"] == run["id"])["status"]
                         == "finished", timeout=10)


def sections(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b.get("type") == "section"]


def organizations_read(paths: list[str]) -> set[int]:
    return {int(m.group(1)) for p in paths if (m := re.fullmatch(r"/organizations/(\d+)/(credits|invoices)", p))}


def test_a_second_inbox_with_no_sync_between_asks_connectbooster_once(world):
    first, paths = opened(world)
    assert len(organizations_read(paths)) == 8  # the first: every organization
    second, paths = opened(world)
    assert paths == [HISTORY]
    assert sections(second) == sections(first)


def test_a_credit_applied_in_quickbooks_leaves_the_inbox_after_a_sync_reading_only_its_client(world):
    synced(world)  # the seed's lag settled (Reel Deal's credit, the portal payment)
    view, _ = opened(world)
    assert "unapplied in QuickBooks" in row(view, 11261)["text"]["text"]
    apply_credit_in_qbo(world.qbo.ledger, customer="58", invoice="130", credit_memo="150", amount=Decimal("10.00"))
    view, paths = opened(world)  # no sync yet: ConnectBooster still shows it, QuickBooks has used it
    assert "_applied in QuickBooks, waiting for a sync_" in row(view, 11261)["text"]["text"]
    assert paths == [HISTORY]
    synced(world)
    view, paths = opened(world)
    assert "*11261*" not in str(view["blocks"]) and "Atomar's Best Tackle" not in str(view["blocks"])
    assert organizations_read(paths) == {501}


def test_a_credit_made_in_quickbooks_joins_the_inbox_with_the_sync_that_brings_it(world):
    view, _ = opened(world)
    assert "Atomar's Bait Shop" not in str(view["blocks"])
    world.qbo.ledger.create_credit_memo("65", "12.00", txn_date="2026-11-20", doc_number="M65")
    view, _ = opened(world)
    assert "Atomar's Bait Shop" not in str(view["blocks"])  # ConnectBooster has not synced it
    synced(world)
    view, paths = opened(world)
    text = str(view["blocks"])
    assert "Atomar's Bait Shop" in text and "unapplied in QuickBooks" in text
    assert 508 in organizations_read(paths) and len(organizations_read(paths)) < 8
