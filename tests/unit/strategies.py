"""Hypothesis strategies for the domain objects the Block Kit builders take (hostile texts included)."""
from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import strategies as st

from data.jobs import Event, Job
from sandbox.fake_slack import validate_blocks, validate_view
from tests.hypothesis_budget import budget
from tests.unit.blockkit import message_errors, view_limit_errors
from workflow.inbox import (
    CAN_APPLY,
    NO_OPEN_INVOICE,
    PENDING_PAYMENT,
    RESYNC_ONLY,
    Inbox,
    InboxClient,
    InboxCredit,
)
from workflow.lookup import (
    APPLIED_WAITING_SYNC,
    NOT_IN_CONNECTBOOSTER,
    UNAPPLIED,
    ClientView,
    CreditOption,
    InvoiceOption,
)

SETTINGS = budget(12, HealthCheck.data_too_large)  # generating 3,000-character texts is the cost


NASTY = st.sampled_from([
    "<!channel>", "<!here> & <@U0ADMIN> <#C1> <https://evil.example|click>", "&" * 500, "&" * 3000, "<" * 3000,
    ">" * 1499 + "&", "\U0001F3F3\ufe0f\u200d\U0001F308" * 400, "\U0001F44D\U0001F3FD" * 1500,
    "\U0001F1FA\U0001F1F8" * 1600,
    "e\u0301" * 1600, "x" * 3000, "*_~`|", "a&b<c>d", "", " ", "O\u2019Malley\u2019s &amp; <b>Sons</b>",
])


TEXT = st.one_of(NASTY, st.text(alphabet=st.sampled_from(list("&<>ab |*_`\n'\u2019") + [
    "\U0001F389", "\U0001F44D", "\U0001F3FD", "\u200d", "\ufe0f", "\U0001F1FA"]), max_size=3100), st.text(max_size=80))


SHORT = st.one_of(NASTY.map(lambda s: s[:100]), st.text(max_size=30))


NAME = st.one_of(TEXT.filter(lambda s: s.strip()), st.just("Atomar's Best Tackle"))


CURRENCY = st.one_of(st.just("USD"), st.just("CAD"), SHORT)


MONEY = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)


STAMP = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"))


TZ = st.sampled_from(["UTC", "America/Chicago", "Asia/Kolkata", "Australia/Lord_Howe", "Not/AZone"])


JOB_STATES = ["awaiting_approval", "approved", "applying_in_quickbooks", "verified", "needs_attention", "rejected",
              "cancelled", "expired", "stale", "failed", "undone", "syncing", "skipped", "awaiting_batch_sync"]


STATE = st.one_of(st.sampled_from(JOB_STATES), SHORT)


ID = st.integers(min_value=1, max_value=10**12)


USER = st.sampled_from(["U0REQUEST", "U0APPROVE"])


@st.composite
def jobs(draw, **fixed) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(
        id=draw(ID), kind=draw(st.sampled_from(["apply", "resync_only", "undo"])), state=draw(STATE),
        requester_id=draw(USER), approver_id=draw(st.one_of(st.none(), USER)), channel_id="C0FINANCE",
        parent_ts=draw(st.one_of(st.none(), st.just("1764000000.000100"))), client_name=draw(NAME),
        qbo_customer_id="58", cb_org_id=draw(st.one_of(st.none(), ID)), credit_kind=draw(st.one_of(
            st.sampled_from(["credit_memo", "unapplied_payment"]), SHORT)), qbo_credit_id="150",
        cb_credit_id=draw(st.one_of(st.none(), ID)), credit_number=draw(SHORT), invoice_qbo_id="130",
        invoice_number=draw(SHORT), amount=draw(MONEY), currency=draw(CURRENCY), note=draw(st.one_of(st.none(), TEXT)),
        invoice_total=draw(MONEY), invoice_balance_before=draw(MONEY), error=draw(st.one_of(st.none(), TEXT)),
        retryable=draw(st.sampled_from([0, 1])), undo_of=draw(st.one_of(st.none(), ID)), attempt=0,
        qbo_payment_id=draw(st.one_of(st.none(), SHORT)), created_at=draw(STAMP), updated_at=draw(STAMP),
        expires_at=draw(STAMP), batch_seq=draw(st.integers(0, 5)))
    row.update(fixed)
    return Job(**row)


EVENT_KINDS = ["approved", "rejected", "cancelled", "expired", "stale", "applied_in_quickbooks", "invoice_resynced",
               "resync_skipped", "sync_requested", "sync_progress", "verified", "needs_attention", "retry",
               "undo_requested", "undo_refused", "undone_in_quickbooks", "undone", "something_new"]


@st.composite
def events(draw) -> Event:
    details = {
        "problems": draw(st.lists(TEXT, max_size=3)), "invoice_balance": draw(MONEY), "credit_remaining": draw(MONEY),
        "payment_id": draw(SHORT), "balance_before": draw(MONEY), "balance_after": draw(MONEY), "after": draw(MONEY),
        "total": draw(MONEY), "reason": draw(TEXT), "sync_id": draw(st.one_of(ID, SHORT)), "sync_from": draw(SHORT),
        "status": draw(st.one_of(st.sampled_from(["active", "finished", "failed", "pending"]), SHORT)),
        "stage": draw(st.one_of(st.sampled_from(["autotask", "quickbooks_online"]), SHORT)),
        "counts": draw(st.dictionaries(SHORT, st.integers(0, 10**6), max_size=4)), "error": draw(TEXT),
        "message": draw(TEXT), "retryable": draw(st.booleans()),
        "action": draw(st.sampled_from(["retry", "sync_again"])),
        "attached": draw(st.booleans()), "cb_balance": draw(st.one_of(st.none(), MONEY)), "how": "deleted",
    }
    return Event(id=draw(ID), job_id=1, at=draw(STAMP), actor=draw(USER), kind=draw(st.sampled_from(EVENT_KINDS)),
                 details=details)


def check_message(built: tuple[str, list[dict]] | None) -> None:
    if built is None:
        return
    text, blocks = built
    assert validate_blocks(blocks) == []
    assert message_errors(text, blocks) == []


def check_view(view: dict) -> None:
    assert validate_view(view) == []
    assert view_limit_errors(view) == []


@st.composite
def plans(draw) -> list[dict]:
    return [{"seq": n, "qbo_customer_id": str(draw(st.integers(1, 48))), "client": draw(NAME),
             "credit_kind": draw(st.one_of(st.just("credit_memo"), SHORT)), "credit_number": draw(SHORT),
             "invoice_number": draw(SHORT), "amount": str(draw(MONEY)), "currency": draw(CURRENCY),
             "invoice_balance_before": str(draw(MONEY))} for n in range(draw(st.integers(1, 50)))]


@st.composite
def client_views(draw) -> ClientView:
    credits = [CreditOption(key=f"credit_memo:{n}", kind=draw(st.one_of(st.just("credit_memo"), SHORT)),
                            qbo_id=str(n), number=draw(SHORT), date=draw(SHORT), remaining=draw(MONEY),
                            cb_id=draw(st.one_of(st.none(), ID)), cb_remaining=draw(st.one_of(st.none(), MONEY)),
                            currency=draw(CURRENCY),
                            diagnosis=draw(st.sampled_from([UNAPPLIED, APPLIED_WAITING_SYNC, NOT_IN_CONNECTBOOSTER])))
               for n in range(draw(st.integers(0, 130)))]
    invoices = [InvoiceOption(qbo_id=str(1000 + n), number=draw(SHORT), date=draw(SHORT),
                              due_date=draw(st.one_of(st.none(), SHORT)), total=draw(MONEY), balance=draw(MONEY),
                              currency=draw(CURRENCY), pending_payment=draw(st.booleans()))
                for n in range(draw(st.sampled_from([0, 1, 3, 101])))]
    return ClientView(org_id=draw(ID), name=draw(NAME), qbo_customer_id="58", credits=credits, invoices=invoices)


@st.composite
def inboxes(draw) -> Inbox:
    diagnoses = [CAN_APPLY, RESYNC_ONLY, PENDING_PAYMENT, NO_OPEN_INVOICE]
    clients = []
    for i in range(draw(st.integers(0, 12))):
        credits = [InboxCredit(key=f"credit_memo:{i}-{k}", cb_id=draw(st.one_of(st.none(), ID)),
                               kind=draw(st.one_of(st.just("credit_memo"), SHORT)), number=draw(SHORT),
                               date=draw(SHORT), cb_remaining=draw(MONEY), remaining=draw(MONEY),
                               currency=draw(CURRENCY), diagnosis=draw(st.one_of(st.sampled_from(diagnoses), SHORT)),
                               oldest_invoice=draw(st.one_of(st.none(), SHORT)))
                   for k in range(draw(st.integers(0, 10)))]
        clients.append(InboxClient(org_id=i + 1, name=draw(NAME), qbo_customer_id=str(i), credits=credits,
                                   error=draw(st.one_of(st.none(), TEXT))))
    return Inbox(clients=clients, read_at=draw(st.one_of(STAMP, SHORT)))
