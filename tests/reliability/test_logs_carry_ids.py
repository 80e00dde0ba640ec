"""Logs carry ids, not books (Intuit: "You must not log any user's credentials or QuickBooks data").

A real `bot.py run` at LOG_LEVEL=INFO goes through a whole troubled day with a client whose name, document numbers,
ids and amounts are unlike anything else: a request with a QuickBooks 503 and a ConnectBooster 500, a Retry, an
undo, a stale request, the inbox, a sweep, a forged request and a restart. No INFO or WARNING line may name the
client, a document number or id, or an amount.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from data.batches import BatchStore
from data.db import Connections
from sandbox.extra_clients import add_clients, client_ids
from sandbox.run import APPROVER, APPROVER_2, CHANNEL, REQUESTER
from tests.reliability.harness import bot_payments, wait_all

NAME = "Zanzibar Quokka Holdings"
IDS = client_ids(0)
INVOICE_NO, CREDIT_NO = "QX-40077", "QX-CM-4417"
INVOICE_TOTAL, CREDIT_TOTAL, AMOUNT = Decimal("4321.17"), Decimal("987.65"), "123.45"


def zanzibar(ledger) -> None:
    """One client, its invoice and credit memo, with numbers found nowhere else."""
    add_clients([NAME])(ledger)
    with ledger._lock:
        invoice, memo = ledger._docs["Invoice"][IDS["invoice"]], ledger._docs["CreditMemo"][IDS["credit_memo"]]
        invoice.update(DocNumber=INVOICE_NO, TotalAmt=INVOICE_TOTAL, Balance=INVOICE_TOTAL)
        invoice["Line"][0]["Amount"] = INVOICE_TOTAL
        memo.update(DocNumber=CREDIT_NO, TotalAmt=CREDIT_TOTAL, Balance=CREDIT_TOTAL, RemainingCredit=CREDIT_TOTAL)
        memo["Line"][0]["Amount"] = CREDIT_TOTAL
        customer = ledger._docs["Customer"][IDS["customer"]]
        customer["Balance"] = customer["BalanceWithJobs"] = INVOICE_TOTAL - CREDIT_TOTAL


def forbidden() -> dict[str, re.Pattern]:
    amounts = {AMOUNT, str(INVOICE_TOTAL), str(CREDIT_TOTAL), str(INVOICE_TOTAL - Decimal(AMOUNT)),
               str(CREDIT_TOTAL - Decimal(AMOUNT))}
    words = {"client name": NAME, "Zanzibar": "Zanzibar", "invoice number": INVOICE_NO, "credit number": CREDIT_NO,
             **{f"amount {a}": a for a in amounts}}
    found = {k: re.compile(re.escape(v)) for k, v in words.items()}
    # An id alone, not inside a longer token: a random hex intuit_tid or requestid may hold its digits.
    found.update({f"QuickBooks id {v}": re.compile(rf"(?<![\w.-]){v}(?![\w.-])") for k, v in IDS.items()
                  if k in ("customer", "invoice", "credit_memo")})
    return found


def thread_button(pb, parent_ts: str, action: str) -> dict:
    return pb.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, parent_ts) if action in str(m.get("blocks"))],
                             timeout=20)[-1]


@pytest.mark.slow  # a real bot process through a whole day, with real retry waits
def test_a_whole_troubled_day_at_info_logs_no_quickbooks_data(process_bot, figures):
    pb = process_bot(prepare=zanzibar, LOG_LEVEL="INFO")
    post_payment = lambda m, p: m == "POST" and p.endswith("/payment")  # noqa: E731
    pb.qbo.faults.inject("503", times=1, match=post_payment)  # answered on the bot's own retry
    pb.cb.faults.inject("500", times=6, match=lambda m, p: m == "POST" and "/resync" in p)  # needs a Retry
    parent = pb.request(NAME, invoice=INVOICE_NO, amount=AMOUNT)
    pb.driver.click(APPROVER, "approve", source=parent)
    wait_all(lambda: pb.state() == "needs_attention", timeout=30)
    pb.driver.click(APPROVER_2, "job_retry", source=thread_button(pb, parent["ts"], "job_retry"))
    wait_all(lambda: pb.state() == "verified", timeout=30)
    pb.qbo.faults.inject("503", times=1, match=post_payment)
    pb.driver.click(APPROVER_2, "job_undo", source=thread_button(pb, parent["ts"], "job_undo"))
    wait_all(lambda: pb.state() == "undone", timeout=30)
    stale = pb.request(NAME, invoice=INVOICE_NO, amount=AMOUNT)
    pb.qbo.ledger.create_payment({
        "CustomerRef": {"value": IDS["customer"]}, "TotalAmt": Decimal("11.11"), "TxnDate": "2026-11-26",
        "Line": [{"Amount": Decimal("11.11"), "LinkedTxn": [{"TxnId": IDS["invoice"], "TxnType": "Invoice"}]}]})
    pb.driver.click(APPROVER, "approve", source=stale)
    wait_all(lambda: pb.state(3) == "stale", timeout=30)
    pb.driver.command(REQUESTER, CHANNEL, "inbox")
    pb.slack.wait_for(lambda s: "Looking" not in str(s.views(REQUESTER)["modals"][-1]["blocks"]), timeout=20)
    _sweep(pb)
    pb.driver.post_raw(f"text={NAME}&amount={AMOUNT}", {"X-Slack-Signature": "v0=00",
                                                        "X-Slack-Request-Timestamp": "1"})
    pb.restart()
    pb.kill()
    log = pb.log.read_text(errors="replace")
    lines = [line for line in log.splitlines() if re.search(r" (INFO|WARNING|ERROR|CRITICAL) ", line)]
    leaks = {what: [line for line in lines if rx.search(line)] for what, rx in forbidden().items()}
    leaks = {k: v for k, v in leaks.items() if v}
    figures.record("Security", f"QuickBooks data searched in {len(lines)} INFO+ log lines of a troubled day "
                               f"({len(forbidden())} names, numbers, ids, amounts)", times=1, jobs=4,
                   payments=len(bot_payments(pb.qbo.ledger)), duplicates=0, lost=0,
                   outcome=f"found: {sorted(leaks) or 'none'}")
    assert len(lines) > 20 and "WARNING" in log and "requestid=" in log  # the run really logged, with its ids
    assert leaks == {}, leaks


def _sweep(pb) -> None:
    """A sweep proposed and approved; every item written (Zanzibar's credit is open again after the undo)."""
    batches = BatchStore(Connections(str(pb.db)).get)
    pb.driver.command(APPROVER_2, CHANNEL, "sweep")
    plan = pb.slack.wait_for(lambda s: next((m for m in s.messages(CHANNEL) if m["text"].startswith("Sweep #1")),
                                            None), timeout=30)
    wait_all(lambda: (b := batches.get(1)) is not None and b.parent_ts == plan["ts"], timeout=20)
    pb.driver.click(APPROVER, "sweep_approve", source=plan)
    wait_all(lambda: batches.get(1).state == "finished", timeout=60)
    assert any(j.qbo_customer_id == IDS["customer"] for j in pb.store.in_batch(1))
