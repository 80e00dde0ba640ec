"""Any size of sweep fits Slack: every message built for a sweep of 1, 30, 300 or 1,000 applications (plain or
very long client names, API or guided mode, at every stage) holds under 10,000 characters of block text (Slack
refuses msg_blocks_too_long from about 11,000), and what a message has no room for is in its thread's pages."""
from dataclasses import fields, replace
from decimal import Decimal

import pytest

from data.batches import Batch
from data.jobs import Job
from data.states import BatchState, JobState, Mode
from messages.blocks import guided_sweep, sweep
from messages.blocks import sweep_controls as controls
from sandbox.fake_slack import blocks_text_length
from tests.unit.strategies import check_message
from workflow.sweep_controls import UndoView

LIMIT = 10_000
LONG = "Northwind & Sons Marine Supply <Harbour Division> " * 6  # 300 characters, longer once escaped


def plan(size: int, long: bool) -> list[dict]:
    """`size` applications over size // 3 + 1 clients (one to three invoices each)."""
    return [{"seq": n, "client": (LONG if long else "Client ") + f"{n // 3:04d}", "qbo_customer_id": str(n // 3),
             "credit_kind": "credit_memo", "credit_number": f"CM{n}", "invoice_number": f"INV{n:05d}",
             "invoice_qbo_id": str(9000 + n), "invoice_balance_before": "250.00", "amount": f"{10 + n % 90}.25",
             "currency": "USD"} for n in range(size)]


def make_batch(size: int, long: bool, mode: str, state: str) -> Batch:
    row = {f.name: None for f in fields(Batch)}
    items = plan(size, long)
    row.update(id=7, kind="sweep", state=state, requester_id="U0PROPOSE", approver_id="U0APPROVE", channel_id="C1",
               parent_ts="1.1", plan=items, total=sum((Decimal(i["amount"]) for i in items), Decimal(0)), mode=mode,
               created_at="2026-11-29T10:00:00.000Z", updated_at="2026-11-29T10:00:00.000Z", sync_from="2026-10-01",
               expires_at="2099-01-01", undo_by="U0APPROVE2", left_out=[], undo_skipped={})
    return Batch(**row)


def jobs(batch: Batch, state_of) -> list[Job]:
    row = {f.name: None for f in fields(Job)}
    return [Job(**{**row, "id": n + 1, "batch_seq": i["seq"], "batch_id": batch.id, "kind": "apply", "attempt": 0,
                   "retryable": 1, "state": state_of(n), "client_name": i["client"], "amount": Decimal(i["amount"]),
                   "currency": "USD", "qbo_payment_id": str(500 + n), "invoice_number": i["invoice_number"],
                   "invoice_qbo_id": i["invoice_qbo_id"], "credit_kind": "credit_memo",
                   "credit_number": i["credit_number"], "invoice_total": Decimal("300.00"),
                   "invoice_balance_after": Decimal("250.00") - Decimal(i["amount"]), "mode": batch.mode})
            for n, i in enumerate(batch.plan)]


def fits(built: tuple[str, list[dict]]) -> int:
    check_message(built)
    size = blocks_text_length(built[1])
    assert size < LIMIT, size
    return size


def every_page_fits(pages: list[tuple[str, list[dict]]]) -> str:
    for page in pages:
        fits(page)
    return str([blocks for _, blocks in pages])


def settled(n: int) -> str:
    return JobState.FAILED if n % 3 == 0 else JobState.VERIFIED


@pytest.mark.parametrize("mode", [Mode.API, Mode.GUIDED])
@pytest.mark.parametrize("long", [False, True], ids=["names", "long-names"])
@pytest.mark.parametrize("size", [1, 30, 300, 1000])
def test_every_sweep_message_fits_and_its_thread_holds_the_rest(size, long, mode):
    deciding = make_batch(size, long, mode, BatchState.AWAITING_APPROVAL)
    message = sweep.batch_message(deciding, [])
    fits(message)
    replies = sweep.plan_pages(deciding)
    # The whole plan is readable: in the message when it fits, else in the thread's pages (each one fits).
    where = str(message[1]) if not replies else every_page_fits(replies)
    assert all(i["invoice_number"] in where for i in deciding.plan)
    assert bool(replies) == (size >= 300)  # a plan of 30 (even with long names) stays in one message
    if replies:
        assert "more client" in str(message[1]) and "listed in this message's thread" in str(message[1])

    running = replace(deciding, state=BatchState.RUNNING)
    fits(sweep.batch_message(running, jobs(running, lambda n: JobState.APPLYING if n % 2 else JobState.VERIFIED)))

    finished = replace(deciding, state=BatchState.FINISHED)
    items = jobs(finished, settled)
    fits(sweep.batch_message(finished, items))
    fits(sweep.notice(finished, items))
    reasons = {j.id: "QuickBooks refused the write (6210: the books are closed for that date)" for j in items}
    summary = sweep.summary(finished, items, reasons)
    fits(summary)
    failures = [j for j in items if j.state == JobState.FAILED]
    listed = str(summary[1]) + every_page_fits(sweep.summary_pages(finished, items, reasons))
    assert all(j.invoice_number in listed for j in failures)

    undo_jobs = [replace(j, id=j.id + 10_000, kind="undo", state=JobState.AWAITING_BATCH_SYNC) for j in items]
    fits(sweep.batch_message(replace(finished, state=BatchState.UNDOING), items, undo=UndoView(undo_jobs)))
    undone = replace(finished, state=BatchState.UNDONE)
    view = UndoView(undo_jobs, {j.id: "the invoice was paid since" for j in items if j.state == JobState.VERIFIED})
    fits(controls.summary(undone, items, view))
    fits(controls.notice(undone, items, view))
    listed = str(controls.summary(undone, items, view)[1]) + every_page_fits(controls.summary_pages(undone, items,
                                                                                                   view))
    assert all(j.invoice_number in listed for j in items if j.id in view.not_undone)
    if mode == Mode.GUIDED:  # one ConnectBooster checklist for the whole sweep, and one for its undo
        checklist = replace(deciding, state=BatchState.GUIDED_CHECKLIST)
        parked = jobs(checklist, lambda n: JobState.AWAITING_BATCH_SYNC)
        shown = guided_sweep.checklist(checklist, parked)
        fits(shown)
        listed = str(shown[1]) + every_page_fits(guided_sweep.checklist_pages(checklist, parked))
        assert all(f"invoice *{j.invoice_number}*" in listed for j in parked)
        shown = controls.checklist(replace(finished, state=BatchState.UNDO_CHECKLIST), UndoView(undo_jobs))
        fits(shown)
        listed = str(shown[1]) + every_page_fits(controls.checklist_pages(finished, UndoView(undo_jobs)))
        assert all(f"invoice *{j.invoice_number}*" in listed for j in undo_jobs)
