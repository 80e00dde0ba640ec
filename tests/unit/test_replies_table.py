"""messages.blocks.job.reply_for as a table: one row per event kind -> the thread reply it shows (or none),
plus the buttons some replies carry."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest

from data.jobs import Event, Job
from messages.blocks.job import reply_for


def job(**values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(id=7, kind="apply", state="syncing", requester_id="U1", approver_id="U2", channel_id="C1",
               client_name="Atomar's Best Tackle", qbo_customer_id="58", credit_kind="credit_memo",
               qbo_credit_id="150", cb_credit_id=11261, credit_number="1039", invoice_qbo_id="130",
               invoice_number="10040", amount=Decimal("10.00"), currency="USD", invoice_total=Decimal("120.00"),
               invoice_balance_before=Decimal("120.00"), attempt=0, retryable=0, created_at="", updated_at="")
    row.update(values)
    return Job(**row)


UNDO = {"kind": "undo", "undo_of": 6}

ROWS = [  # (event kind, details, job fields, expected fragment)
    ("approved", {}, {}, ":white_check_mark: Approved by <@U2>. Re-reading the figures in QuickBooks…"),
    ("rejected", {}, {}, ":x: Rejected by <@U2>. Nothing was recorded."),
    ("cancelled", {}, {}, ":leftwards_arrow_with_hook: Withdrawn by <@U2>. Nothing was recorded."),
    ("expired", {}, {}, ":hourglass: This request expired without a decision; nothing was recorded."),
    ("stale", {"problems": ["the invoice balance changed", "<b>"], "invoice_balance": "50", "credit_remaining": "4"}, {},
     "Stopped before writing anything: the invoice balance changed; &lt;b&gt;. Now the invoice balance is $50.00 and "
     "the credit has $4.00 left."),
    ("applied_in_quickbooks", {"payment_id": "901", "balance_before": "120", "balance_after": "110"}, {},
     "Recorded in QuickBooks: Payment *901* applies *$10.00* of credit memo #1039 to invoice *10040*. Invoice balance "
     "$120.00 → $110.00 (re-read from QuickBooks)."),
    ("invoice_resynced", {"after": "110", "total": "120"}, {},
     "ConnectBooster invoice 10040 resynced: *$110.00 of $120.00*."),
    ("resync_skipped", {"reason": "ConnectBooster already shows it"}, {},
     ":arrows_counterclockwise: ConnectBooster already shows it."),
    ("sync_requested", {"sync_id": 42, "sync_from": "autotask", "status": "pending"}, {},
     ":repeat: Sync 42 requested from autotask: pending."),
    ("sync_requested", {"sync_id": 42, "sync_from": "autotask", "status": "active", "attached": True}, {},
     "Sync 42 requested from autotask (joined the sync that was already running): active."),
    ("sync_progress", {"sync_id": 42, "status": "active", "stage": "autotask"}, {},
     ":repeat: Sync 42: active — Autotask (PSA)"),
    ("sync_progress", {"sync_id": 42, "status": "finished", "counts": {"invoices": 1, "companies": 3, "x": 0}}, {},
     ":checkered_flag: Sync 42: finished (1 invoice, 3 companies)"),
    ("sync_progress", {"sync_id": 42, "status": "finished", "counts": {}}, {}, "Sync 42: finished (no records)"),
    ("sync_progress", {"sync_id": 42, "status": "failed", "error": "PSA login failed"}, {},
     ":x: Sync 42: failed — PSA login failed"),
    ("sync_progress", {"sync_id": 42, "status": "queued"}, {}, ":repeat: Sync 42: queued"),
    ("verified", {"cb_balance": "110"}, {},
     "Verified: credit 11261 no longer shows in ConnectBooster and invoice 10040 shows $110.00 there, matching QuickBooks."),
    ("verified", {}, {"cb_credit_id": None}, "Verified: the credit no longer shows in ConnectBooster and invoice 10040 "
                                             "shows the same balance there"),
    ("needs_attention", {"message": "QuickBooks is down <now>", "retryable": 1}, {},
     ":warning: QuickBooks is down &lt;now&gt;"),
    ("retry", {}, {}, ":leftwards_arrow_with_hook: <@U2> retried; resuming."),
    ("undo_requested", {}, UNDO, "<@U2> is undoing this application (#6). Re-reading QuickBooks first…"),
    ("undo_refused", {"problems": ["the payment changed"]}, UNDO,
     ":no_entry: Undo refused, nothing was changed in QuickBooks: the payment changed."),
    ("undone_in_quickbooks", {"how": "deleted", "payment_id": "901", "balance_before": "110", "balance_after": "120"},
     UNDO, "Undone in QuickBooks: Payment *901* deleted. Invoice 10040 balance $110.00 → $120.00"),
    ("undone_in_quickbooks", {"how": "line_removed", "payment_id": "171", "balance_before": "35",
                              "balance_after": "60"}, UNDO,
     "Payment *171*'s line for invoice 10040 removed (its other lines and the cash receipt kept; $10.00 unapplied again)"),
    ("verified", {"cb_balance": "120", "credit_remaining": "10"}, UNDO,
     "Undo verified: credit 11261 shows again in ConnectBooster ($10.00 open) and invoice 10040 shows $120.00 there"),
]


@pytest.mark.parametrize(("kind", "details", "job_fields", "fragment"), ROWS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_reply_text(kind, details, job_fields, fragment):
    reply = reply_for(job(**job_fields), Event(id=3, job_id=7, at="", actor="U2", kind=kind, details=details))
    assert reply is not None
    text, blocks = reply
    assert fragment in text and fragment in blocks[0]["text"]["text"]


@pytest.mark.parametrize(("kind", "job_fields"), [
    ("requested", {}), ("refused_approval", {}), ("sync_requested_again", {}), ("undo_requested_x", {}),
    ("approved_x", UNDO), ("", {}),
])
def test_events_not_shown_in_the_thread(kind, job_fields):
    assert reply_for(job(**job_fields), Event(id=3, job_id=7, at="", actor="U2", kind=kind, details={})) is None


def buttons(blocks: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["text"]["text"], e["action_id"], e["value"]) for b in blocks if b["type"] == "actions"
            for e in b["elements"]]


@pytest.mark.parametrize(("kind", "details", "job_fields", "expected"), [
    ("verified", {"cb_balance": "110"}, {}, [("Undo", "job_undo", "7")]),  # approvers may reverse it
    ("verified", {}, {"kind": "resync_only"}, []),                          # nothing was written: nothing to undo
    ("verified", {}, UNDO, []),
    ("needs_attention", {"message": "m", "retryable": 1}, {}, [("Retry", "job_retry", "7")]),
    ("needs_attention", {"message": "m", "retryable": 1, "action": "sync_again"}, {}, [("Sync again", "job_retry", "7")]),
    ("needs_attention", {"message": "m", "retryable": 0}, {}, []),
])
def test_reply_buttons(kind, details, job_fields, expected):
    _, blocks = reply_for(job(**job_fields), Event(id=3, job_id=7, at="", actor="U2", kind=kind, details=details))
    assert buttons(blocks) == expected
