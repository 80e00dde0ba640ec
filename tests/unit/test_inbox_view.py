"""The inbox's pure parts: diagnosis of a joined client, and pages that stay within Block Kit's limits."""
import json
from decimal import Decimal

from messages.blocks.inbox import PAGE_CLIENTS, ROWS_PER_CLIENT, inbox_view, pages
from sandbox.fake_slack import validate_view
from workflow.inbox import (
    CAN_APPLY,
    NO_OPEN_INVOICE,
    PENDING_PAYMENT,
    RESYNC_ONLY,
    Inbox,
    InboxClient,
    InboxCredit,
    diagnose,
)
from workflow.lookup import APPLIED_WAITING_SYNC, ClientView, CreditOption, InvoiceOption


def _client(*, invoices, diagnosis="unapplied"):
    credit = CreditOption(key="credit_memo:1", kind="credit_memo", qbo_id="1", number="9", date="2026-01-01",
                          remaining=Decimal("5"), cb_id=77, cb_remaining=Decimal("5"), diagnosis=diagnosis)
    new_in_qbo = CreditOption(key="credit_memo:2", kind="credit_memo", qbo_id="2", number="10", date="2026-01-02",
                              remaining=Decimal("3"), diagnosis="not_in_connectbooster")
    return ClientView(org_id=1, name="X", qbo_customer_id="9", credits=[credit, new_in_qbo], invoices=invoices)


def _invoice(number, pending=False):
    return InvoiceOption(qbo_id=number, number=number, date="2026-01-01", due_date=None, total=Decimal("9"),
                         balance=Decimal("9"), pending_payment=pending)


def test_each_diagnosis():
    assert [(c.cb_id, c.diagnosis, c.oldest_invoice) for c in diagnose(_client(invoices=[_invoice("A")]))] == \
        [(77, CAN_APPLY, "A")]  # the credit new in QuickBooks is not in ConnectBooster, so not in the inbox
    assert diagnose(_client(invoices=[]))[0].diagnosis == NO_OPEN_INVOICE
    assert diagnose(_client(invoices=[_invoice("A", True), _invoice("B")]))[0].diagnosis == PENDING_PAYMENT
    assert diagnose(_client(invoices=[_invoice("A", True)], diagnosis=APPLIED_WAITING_SYNC))[0].diagnosis == RESYNC_ONLY


def _big_inbox(clients=23, credits=12) -> Inbox:
    name = "<!channel> " + "Very Long Holdings Name " * 20
    return Inbox(read_at="2026-11-03T14:00:00Z", clients=[
        InboxClient(org_id=i, name=f"{name}{i}", qbo_customer_id=str(i), credits=[
            InboxCredit(key=f"credit_memo:{i}-{k}", cb_id=1000 * (i + 1) + k, kind="credit_memo", number="N" * 60,
                        date="2026-01-01", cb_remaining=Decimal("1.50"), remaining=Decimal("1.50"), currency="USD",
                        diagnosis=[CAN_APPLY, RESYNC_ONLY, PENDING_PAYMENT, NO_OPEN_INVOICE][k % 4],
                        oldest_invoice="I" * 50)
            for k in range(credits)])
        for i in range(clients)])


def test_every_page_is_a_valid_view_within_limits():
    inbox = _big_inbox()
    assert pages(inbox) == 5
    seen = set()
    for page in range(pages(inbox)):
        view = inbox_view(inbox, page, "draft", notice="n" * 5000)
        assert validate_view(view) == [], page
        assert len(view["blocks"]) <= 100
        texts = [b["text"]["text"] for b in view["blocks"] if b.get("type") == "section"]
        assert all(len(t) <= 3000 for t in texts) and not any("<!channel>" in t for t in texts)
        seen |= {int(t.split("*")[1]) for t in texts if t.startswith("*") and t.split("*")[1].isdigit()}
        nav = [e["action_id"] for b in view["blocks"] if b.get("block_id") == "inbox_nav" for e in b["elements"]]
        assert nav == (["inbox_page_prev"] if page else []) + (["inbox_page_next"] if page < 4 else [])
    assert seen == {1000 * (i + 1) + k for i in range(23) for k in range(ROWS_PER_CLIENT)}
    last = inbox_view(inbox, 4, "draft")
    assert "…and 4 more" in str(last["blocks"]) and "page 5 of 5" in str(last["blocks"])
    assert inbox_view(inbox, 99, "draft") == last  # a stale page number shows the last page
    assert PAGE_CLIENTS == 5


def test_empty_inbox():
    view = inbox_view(Inbox(clients=[], read_at="now"), 0, "d")
    assert "No client has an open credit" in str(view["blocks"]) and validate_view(view) == []


def test_json_round_trip():
    inbox = _big_inbox(2, 2)
    assert Inbox.from_json(json.loads(json.dumps(inbox.to_json(), default=str))) == inbox
