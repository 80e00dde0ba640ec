"""A guided sweep's checklist without a server: who may confirm it, and its messages within Block Kit's
limits whatever the batch holds (hundreds of invoices, hostile client names)."""
from dataclasses import fields, replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.batches import Batch
from data.jobs import Job
from data.states import BatchState, JobState, Mode
from messages.blocks import guided_sweep as blocks
from messages.blocks import sweep as sweep_blocks
from sandbox.fake_slack import blocks_text_length
from tests.unit.blockkit import message_errors
from tests.unit.strategies import jobs
from workflow.policy import Action, NotAllowed, Policy

POLICY = Policy(approvers=frozenset({"U0APPROVE", "U0APPROVE2"}), undo_window=timedelta(hours=72))
THREAD = "1.000100"


def _batch(**values) -> Batch:
    row = {f.name: None for f in fields(Batch)}
    row.update(id=3, kind="sweep", state=BatchState.GUIDED_CHECKLIST, requester_id="U0PROPOSE", mode=Mode.GUIDED,
               approver_id="U0APPROVE", channel_id="C0FINANCE", parent_ts=THREAD, plan=[], total=Decimal("0"),
               created_at="2026-11-29T10:00:00.000Z", updated_at="2026-11-29T10:00:00.000Z", sync_from="2026-10-01")
    row.update(values)
    return Batch(**row)


@pytest.mark.parametrize("user", ["U0PROPOSE", "U0APPROVE", "U0APPROVE2"])
def test_the_proposer_the_approver_and_any_approver_may_confirm(user):
    POLICY.check(Action.GUIDED_CONFIRM, user, _batch(), channel="C0FINANCE", message_ts=THREAD)


@pytest.mark.parametrize("user, batch, channel, thread, refusal", [
    ("U0OUTSIDE", _batch(), "C0FINANCE", THREAD, "Only the sweep's proposer or an approver"),
    ("U0PROPOSE", _batch(), "C0FINANCE", "9.000900", "does not belong to this checklist"),
    ("U0PROPOSE", _batch(), "C0OTHER", THREAD, "does not belong to this checklist"),
    ("U0PROPOSE", _batch(parent_ts=None), "C0FINANCE", THREAD, "does not belong to this checklist"),
    ("U0APPROVE", _batch(confirmed_by="U0PROPOSE"), "C0FINANCE", THREAD, "already confirmed by <@U0PROPOSE>"),
    ("U0APPROVE", _batch(state=BatchState.RUNNING), "C0FINANCE", THREAD, "no checklist is waiting"),
    ("U0APPROVE", _batch(state=BatchState.FINISHED), "C0FINANCE", THREAD, "no checklist is waiting"),
])
def test_who_and_where_a_checklist_confirmation_is_refused(user, batch, channel, thread, refusal):
    with pytest.raises(NotAllowed, match=refusal.replace("(", r"\(")):
        POLICY.check(Action.GUIDED_CONFIRM, user, batch, channel=channel, message_ts=thread)


def test_a_sweep_decision_is_still_the_sweep_rule():
    """GUIDED_CONFIRM on a batch is its own rule; approving a sweep is unchanged (not the proposer)."""
    with pytest.raises(NotAllowed, match="You requested this sweep"):
        POLICY.check(Action.SWEEP_APPROVE, "U0APPROVE", _batch(state=BatchState.AWAITING_APPROVAL,
                                                               requester_id="U0APPROVE", expires_at=None),
                     channel="C0FINANCE", message_ts=THREAD)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(jobs(state=JobState.AWAITING_BATCH_SYNC, cb_org_id=None), min_size=1, max_size=400),
       sync_from=st.one_of(st.none(), st.text(max_size=60)))
def test_every_checklist_message_fits_and_never_pings(items, sync_from):
    batch = _batch(sync_from=sync_from, confirmed_by="U0APPROVE")
    text, built = blocks.checklist(batch, items, "https://acme.connectboosterportal.com")
    assert message_errors(text, built) == []
    # Every invoice is listed, or counted in the last line (plain names here, so the count cannot be fooled).
    plain = [replace(j, client_name="Client", invoice_number=f"INV{n}") for n, j in enumerate(items)]
    shown = str(blocks.checklist(batch, plain)[1])
    listed = sum(f"invoice *INV{n}*" in shown for n in range(len(plain)))
    assert listed == len(items) or f"…and {len(items) - listed} more invoices" in shown
    assert all(f"invoice *INV{n}*" in shown for n in range(listed))  # the first ones, in order
    for kind in ("problem", "reminder"):
        assert message_errors(*blocks.reply_for(batch, kind, "U0APPROVE", waited_minutes=31)) == []
    finished = replace(batch, state=BatchState.FINISHED, approver_id="U0APPROVE")
    assert message_errors(*sweep_blocks.notice(finished, items)) == []
    assert message_errors(*sweep_blocks.summary(finished, items, {})) == []


def test_a_checklist_too_long_for_one_message_counts_the_rest_and_lists_it_in_replies():
    row = {f.name: None for f in fields(Job)}
    row.update(kind="apply", state=JobState.AWAITING_BATCH_SYNC, credit_kind="credit_memo", credit_number="1039",
               amount=Decimal("10.00"), currency="USD", invoice_total=Decimal("120.00"),
               invoice_balance_after=Decimal("110.00"))
    items = [Job(**{**row, "id": n, "client_name": f"Client {n}", "invoice_number": f"INV{n}"}) for n in range(3000)]
    text, built = blocks.checklist(_batch(), items)
    assert message_errors(text, built) == [] and len(built) <= 50 and blocks_text_length(built) < 10_000
    shown = str(built)
    listed = sum(f"invoice *INV{n}*" in shown for n in range(3000))
    assert 50 < listed < 3000 and f"…and {3000 - listed} more invoices" in shown
    replies = blocks.checklist_pages(_batch(), items)
    assert all(message_errors(*page) == [] and blocks_text_length(page[1]) < 10_000 for page in replies)
    rest = str([page[1] for page in replies])
    assert all(f"invoice *INV{n}*" in rest for n in range(listed, 3000))  # every other invoice, in the replies


@pytest.mark.parametrize("resume", [JobState.APPROVED, JobState.RESYNCED])
def test_a_guided_sweep_item_is_never_retried_on_its_own(resume):
    """Its sweep's checklist was its one ConnectBooster step: a Retry (or Sync again) would have nowhere to go."""
    row = {f.name: None for f in fields(Job)}
    row.update(id=9, kind="apply", state=JobState.NEEDS_ATTENTION, requester_id="U0PROPOSE", channel_id="C0FINANCE",
               batch_id=3, cb_org_id=None, retryable=1, resume_state=resume, mode=Mode.GUIDED)
    with pytest.raises(NotAllowed, match="not retried on its own"):
        POLICY.check(Action.RETRY, "U0APPROVE", Job(**row), channel="C0FINANCE")
    api_item = Job(**{**row, "cb_org_id": 501, "mode": Mode.API})
    POLICY.check(Action.RETRY, "U0APPROVE", api_item, channel="C0FINANCE")


def test_a_finished_guided_sweep_offers_no_retry_buttons():
    row = {f.name: None for f in fields(Job)}
    row.update(kind="apply", state=JobState.NEEDS_ATTENTION, retryable=1, amount=Decimal("10"), currency="USD",
               batch_seq=0, client_name="Atomar's Best Tackle", invoice_number="10031")
    plan = [{"seq": 0, "qbo_customer_id": "58", "client": "Atomar's Best Tackle", "credit_kind": "credit_memo",
             "credit_number": "1039", "invoice_number": "10031", "amount": "10.00", "currency": "USD",
             "invoice_balance_before": "85.00", "org_id": None}]
    done = _batch(state=BatchState.FINISHED, plan=plan, confirmed_by="U0APPROVE", mode=Mode.GUIDED)
    guided_text = str(sweep_blocks.batch_message(done, [Job(**{**row, "id": 1, "cb_org_id": None,
                                                               "mode": Mode.GUIDED})])[1])
    api_text = str(sweep_blocks.batch_message(replace(done, plan=[{**plan[0], "org_id": 501}], mode=Mode.API),
                                              [Job(**{**row, "id": 1, "cb_org_id": 501})])[1])
    assert "job_retry" not in guided_text and "job_retry" in api_text
