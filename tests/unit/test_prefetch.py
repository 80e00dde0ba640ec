"""workflow/prefetch.py: a sweep item's snapshot is taken once, and never stands in for a read when too old."""
from datetime import timedelta
from decimal import Decimal

from integrations.quickbooks_models import Credit, Invoice
from workflow.prefetch import Prefetch, Snapshot


def snapshot(clock) -> Snapshot:
    invoice = Invoice(id="1", number="I1", txn_date="2026-11-01", due_date=None, total=Decimal("80"),
                      balance=Decimal("80"), customer_id="9", currency="USD", sync_token="0")
    credit = Credit(kind="credit_memo", id="2", number="C2", txn_date="2026-10-01", total=Decimal("20"),
                    remaining=Decimal("20"), customer_id="9", currency="USD", sync_token="0")
    return Snapshot(invoice, credit, clock.now())


def test_a_snapshot_is_taken_once(clock):
    prefetch = Prefetch(now=clock.now)
    snap = snapshot(clock)
    prefetch.put(7, snap)
    assert prefetch.take(8) is None
    assert prefetch.take(7) is snap
    assert prefetch.take(7) is None and len(prefetch) == 0  # a Retry or a resumed job reads for itself


def test_an_old_snapshot_is_not_used(clock):
    prefetch = Prefetch(now=clock.now, max_age=timedelta(seconds=60))
    prefetch.put(1, snapshot(clock))
    prefetch.put(2, snapshot(clock))
    clock.advance(60)
    assert prefetch.take(1) is not None
    clock.advance(0.5)
    assert prefetch.take(2) is None and len(prefetch) == 0  # dropped, and the check reads both documents
