"""The index of open credits (data/credit_index.py): noticing what becomes open, dropping what is used up or gone,
a full read replacing the rows, webhook events stored once, the cursor."""
from __future__ import annotations

from decimal import Decimal

import pytest

from data.credit_index import CreditIndex, IndexedCredit
from data.db import Connections
from integrations.quickbooks_webhooks import Notice


@pytest.fixture
def index(tmp_path) -> CreditIndex:
    return CreditIndex(Connections(str(tmp_path / "index.db")).get)


def credit(qbo_id: str, remaining: str, kind: str = "credit_memo", customer: str = "58") -> IndexedCredit:
    return IndexedCredit(kind=kind, id=qbo_id, customer_id=customer, number=f"#{qbo_id}", txn_date="2026-11-01",
                         total=Decimal("50.00"), remaining=Decimal(remaining), currency="USD")


def test_the_first_full_read_notices_nothing_later_changes_do(index):
    first = index.replace_all([credit("150", "10.00"), credit("151", "0")], notice=False)
    assert first.opened == [] and [c.key for c in index.open_credits()] == ["credit_memo:150"]
    later = index.apply([credit("152", "25.00"), credit("150", "4.00")])
    assert later.opened == ["credit_memo:152"]
    assert later.changed == {"credit_memo:152": Decimal("25.00"), "credit_memo:150": Decimal("4.00")}
    assert [c.key for c in index.proposable()] == ["credit_memo:152"]  # 150 was open before: not new


def test_used_up_or_deleted_leaves_and_a_reopened_credit_is_noticed(index):
    index.replace_all([credit("150", "10.00"), credit("77", "30.00", kind="unapplied_payment")], notice=False)
    used = index.apply([credit("150", "0")], gone=[("unapplied_payment", "77")])
    assert used.changed == {"credit_memo:150": Decimal("0"), "unapplied_payment:77": Decimal("0")}
    assert index.open_credits() == []
    reopened = index.apply([credit("150", "10.00")])  # an undo
    assert reopened.opened == ["credit_memo:150"] and index.get("credit_memo:150").noticed_at


def test_a_full_read_after_a_gap_drops_what_is_gone_and_notices_what_is_new(index):
    index.replace_all([credit("150", "10.00"), credit("151", "5.00")], notice=False)
    change = index.replace_all([credit("151", "5.00"), credit("153", "8.00")], notice=True)
    assert change.opened == ["credit_memo:153"] and change.changed["credit_memo:150"] == 0
    assert {c.key for c in index.open_credits()} == {"credit_memo:151", "credit_memo:153"}


def test_webhook_events_are_stored_once_and_processed_once(index):
    batch = [Notice("e-1", "r", "CreditMemo", "150", "Create"), Notice("e-2", "r", "Payment", "7", "Update")]
    assert index.store_notices(batch) == 2 and index.store_notices(batch) == 0  # Intuit's retry
    pending = index.pending_notices()
    assert [(n.entity, n.entity_id) for n in pending] == [("CreditMemo", "150"), ("Payment", "7")]
    index.mark_processed([pending[0].id])
    assert [n.entity_id for n in index.pending_notices()] == ["7"]


def test_the_cursor(index):
    assert index.cursor() is None
    index.set_cursor("2026-11-26T10:00:00-08:00")
    index.set_cursor("2026-11-26T10:05:00-08:00")
    assert index.cursor() == "2026-11-26T10:05:00-08:00"


def test_processed_webhook_events_are_pruned_after_the_retention_unprocessed_ones_kept(tmp_path):
    from datetime import UTC, datetime, timedelta

    from data.drafts import Drafts
    from data.retention import Retention

    connections = Connections(str(tmp_path / "prune.db"))
    then = datetime(2026, 11, 1, tzinfo=UTC)
    old = CreditIndex(connections.get, now=lambda: "2026-11-01T00:00:00.000Z")
    old.store_notices([Notice("e-1", "r", "Payment", "7", "Update"), Notice("e-2", "r", "Payment", "8", "Update")])
    old.mark_processed([old.pending_notices()[0].id])
    drafts = Drafts(connections.get, ttl=timedelta(hours=24), clock=lambda: then + timedelta(days=40))
    counts = Retention(connections.get, drafts, days=30, now=lambda: then + timedelta(days=40)).prune()
    assert counts["qbo_notices"] == 1
    assert [n.entity_id for n in old.pending_notices()] == ["8"]
