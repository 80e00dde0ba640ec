"""The sweep's controls on a plan of hundreds of clients: the message keeps within Slack's limits with its new
button, the modal stays one field, and the options endpoint answers at most 100 clients, searched by name."""
from dataclasses import fields
from decimal import Decimal

from data.batches import Batch
from data.jobs import Job
from messages.blocks import sweep_controls as controls
from messages.blocks.sweep import batch_message
from tests.unit.strategies import check_message, check_view

CLIENTS = 400


def big_batch(state: str) -> Batch:
    plan = [{"seq": n, "client": f"Client {n // 2:03d}", "qbo_customer_id": str(n // 2), "credit_kind": "credit_memo",
             "credit_number": str(n), "invoice_number": str(20000 + n), "invoice_balance_before": "50.00",
             "amount": "1.25", "currency": "USD"} for n in range(2 * CLIENTS)]
    return Batch(id=7, kind="sweep", state=state, requester_id="U0REQUEST", approver_id="U0APPROVE", channel_id="C1",
                 parent_ts="1.1", plan=plan, total=Decimal("1000.00"), sync_key=None, sync_id=None, open_key=None,
                 created_at="", updated_at="", expires_at="2099-01-01", decided_at=None, completed_at=None)


def verified_items(batch: Batch) -> list[Job]:
    row = {f.name: None for f in fields(Job)}
    return [Job(**{**row, "id": n + 1, "batch_seq": n, "state": "verified", "kind": "apply", "attempt": 0,
                   "retryable": 0, "amount": Decimal("1.25"), "currency": "USD", "qbo_payment_id": str(500 + n)})
            for n in range(len(batch.plan))]


def test_the_plan_message_carries_edit_plan_and_stays_within_limits():
    batch = big_batch("awaiting_approval")
    text, blocks = batch_message(batch, [])
    check_message((text, blocks))
    assert len(blocks) <= 50 and [e["action_id"] for e in blocks[-1]["elements"]] == \
        ["sweep_approve", "sweep_reject", "sweep_edit"]


def test_a_finished_sweep_carries_undo_sweep_within_limits():
    batch = big_batch("finished")
    text, blocks = batch_message(batch, verified_items(batch))
    check_message((text, blocks))
    assert len(blocks) <= 50 and blocks[-1]["elements"][0]["action_id"] == "sweep_undo"
    assert "800 completed applications" in blocks[-1]["elements"][0]["confirm"]["text"]["text"]
    # Nothing to undo (nothing verified), nothing offered.
    assert "sweep_undo" not in str(batch_message(batch, [])[1])


def test_the_modal_is_one_searchable_field_and_the_options_at_most_100():
    batch = big_batch("awaiting_approval")
    view = controls.leave_out_modal(batch, "C1", "1.1")
    check_view(view)
    assert [b["element"]["type"] for b in view["blocks"] if b["type"] == "input"] == ["multi_external_select"]
    assert view["private_metadata"] == "7|C1|1.1"
    everyone = controls.client_options(batch, "")
    assert len(everyone) == 100 and everyone[0] == {"text": {"type": "plain_text", "text": "Client 000 · 2 inv. · $2.50",
                                                             "emoji": True}, "value": "0"}
    found = controls.client_options(batch, "client 39")  # typed in any case
    assert [o["value"] for o in found] == [str(n) for n in range(390, 400)]
    assert controls.client_options(batch, "nobody") == []
