"""The bot's own data for renderer tests: the seed's clients as ClientViews, jobs as the store returns them."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from html.parser import HTMLParser

from data.jobs import Event, Job
from integrations.connectbooster_models import Organization
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, CreditOption, InvoiceOption

USERS = {"U0REQUEST": "riley.requester", "U0APPROVE": "avery.approver", "UBOT0001": "applycredit"}
CHANNELS = {"C0FINANCE": "finance", "C0NOTIFY": "applycredit-notices"}


def atomar() -> ClientView:
    """Atomar's Best Tackle as the seed has it: credit 11261 ($10 memo #1039), invoices 10031 and 10040."""
    return ClientView(org_id=501, name="Atomar's Best Tackle", qbo_customer_id="58", credits=[
        CreditOption(key="credit_memo:150", kind="credit_memo", qbo_id="150", number="1039", date="2026-10-01",
                     remaining=Decimal("10.00"), cb_id=11261, cb_remaining=Decimal("10.00"))],
        invoices=[InvoiceOption(qbo_id="120", number="10031", date="2026-08-14", due_date="2026-09-13",
                                total=Decimal("85.00"), balance=Decimal("85.00"), cb_id=9031),
                  InvoiceOption(qbo_id="130", number="10040", date="2026-09-20", due_date="2026-10-20",
                                total=Decimal("120.00"), balance=Decimal("120.00"), cb_id=9040)])


def reel_deal() -> ClientView:
    """A credit used in QuickBooks that ConnectBooster still lists: the picker offers "Resync only"."""
    view = atomar()
    used = replace(view.credits[0], key="credit_memo:160", remaining=Decimal("0"), cb_id=11270,
                   diagnosis=APPLIED_WAITING_SYNC)
    return replace(view, name="Reel Deal Charters", credits=[used, *view.credits])


def coastal(n: int = 120) -> ClientView:
    """More invoices than a static menu holds: the picker switches to an external select."""
    view = atomar()
    invoices = [InvoiceOption(qbo_id=str(1000 + i), number=str(20000 + i), date="2026-03-01", due_date=None,
                              total=Decimal("50.00"), balance=Decimal("50.00")) for i in range(n)]
    return replace(view, name="Coastal Bait Co", invoices=invoices)


def orgs() -> list[Organization]:
    """What ConnectBooster's search answers for "atomar": two organizations, so the picker asks which."""
    return [Organization(501, "Atomar's Best Tackle", "58", {}, None),
            Organization(508, "Atomar's Bait Shop", "65", {}, None)]


def job(**changes) -> Job:
    row = dict(id=7, kind="apply", state="awaiting_approval", requester_id="U0REQUEST", approver_id=None,
               channel_id="C0FINANCE", parent_ts="1700000000.000100", client_name="Atomar's Best Tackle",
               qbo_customer_id="58", cb_org_id=501, credit_kind="credit_memo", qbo_credit_id="150",
               cb_credit_id=11261, credit_number="1039", invoice_qbo_id="130", invoice_number="10040",
               cb_invoice_id=9040, amount="10.00", currency="USD", note="Per the client's email & <call>",
               invoice_total="120.00", invoice_balance_before="120.00", credit_remaining_before="10.00",
               attempt=0, retryable=0, created_at="2026-11-26T10:00:00Z", updated_at="2026-11-26T10:00:00Z",
               expires_at="2026-11-27T10:00:00Z")
    row.update(changes)
    return Job.from_row(row)


EVENTS = [
    ("approved", {}), ("rejected", {}), ("cancelled", {}), ("expired", {}),
    ("stale", {"problems": ["invoice balance changed"], "invoice_balance": "100.00", "credit_remaining": "10.00"}),
    ("applied_in_quickbooks", {"payment_id": "1201", "balance_before": "120.00", "balance_after": "110.00"}),
    ("invoice_resynced", {"after": "110.00", "total": "120.00"}),
    ("resync_skipped", {"reason": "ConnectBooster already shows $110.00"}),
    ("sync_requested", {"sync_id": 7002, "sync_from": "2026-09-20", "status": "pending", "attached": True}),
    ("sync_progress", {"sync_id": 7002, "status": "active", "stage": "autotask"}),
    ("sync_progress", {"sync_id": 7002, "status": "finished", "counts": {"invoices": 1, "credits": 1}}),
    ("sync_progress", {"sync_id": 7002, "status": "failed", "error": "QuickBooks <timeout>"}),
    ("verified", {"cb_balance": "110.00"}),
    ("needs_attention", {"message": "The sync failed; QuickBooks is recorded.", "retryable": True,
                         "action": "sync_again"}),
    ("retry", {}),
]


def events() -> list[Event]:
    return [Event(id=i + 1, job_id=7, at="2026-11-26T10:00:00Z", actor="U0APPROVE", kind=k, details=d)
            for i, (k, d) in enumerate(EVENTS)]


VOID = {"br", "hr", "input", "img", "meta", "link", "source", "wbr", "col", "area", "base", "embed", "track"}


class _Balance(HTMLParser):
    """Fails on any closing tag that doesn't match the open one: broken markup would break the page."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id"]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def well_formed(fragment: str) -> list[str]:
    """Assert balanced tags and unique ids; return the ids."""
    parser = _Balance()
    parser.feed(fragment)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    return parser.ids
