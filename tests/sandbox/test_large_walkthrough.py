"""The help article's walkthrough, end to end through the bot, inside the large company."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.seed_large import company
from tests.scenarios.world import APPROVER, World


@pytest.mark.slow
def test_credit_11261_to_invoice_10040_among_500_clients(tmp_path):
    world = World(tmp_path, prepare=lambda ledger: ledger.load_company(company()))
    try:
        assert world.qbo.ledger.counts()["Invoice"] > 4_500
        text = str(world.open_picker("Atomar's Best Tackle")["blocks"])
        assert "11261" in text and "$10.00" in text and "10040" in text
        job_id = world.request(invoice="10040", amount="10")
        world.approve(job_id, APPROVER)
        world.wait_state(job_id, "verified", timeout=30)
        assert world.invoice_balance("130") == Decimal("110.00") and world.invoice_balance("120") == Decimal("85.00")
        snap = world.cb.snapshot()
        assert 11261 not in [c["id"] for c in snap["credits"] if c["status"] == "open"]
        latest = snap["syncs"][0]
        assert latest["status"] == "finished" and latest["counts"]["invoices"] < 100  # only what changed was copied
    finally:
        world.close()
