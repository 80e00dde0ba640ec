"""Hostile input, as a table: each case has its expected answer, and nothing is written to QuickBooks.

Names and amounts run against one world (module scope) whose ledger also holds clients with hostile names;
tampered payloads and forged requests each get a fresh world or request.
"""
from __future__ import annotations

import json

import pytest

from sandbox.extra_clients import add_clients
from tests.reliability.harness import bot_payments, new_request
from tests.scenarios.world import REQUESTER, World

INJECTION = "x' OR DisplayName LIKE '%"
LONG = "Longname " + "L" * 480 + " Co"
HOSTILE_CLIENTS = [INJECTION, "Back\\slash Supply", '"Quoted" Boats', "100% Marine", "Fish \U0001F41F Emoji Co",
                   "<@U0APPROVE> Partners", "*bold* _italic_ Charters", "<https://evil.example|click> Ltd", LONG]

# (command text, expected: "picker:<client name>" or "no match")
NAMES = [
    ("Atomar's Best Tackle", "picker:Atomar's Best Tackle"),
    ("Atomar\u2019s Best Tackle", "picker:Atomar's Best Tackle"),
    ("O'Malley's Marina", "picker:O\u2019Malley\u2019s Marina"),
    ("   atomar's   BEST   tackle  ", "picker:Atomar's Best Tackle"),
    (INJECTION, f"picker:{INJECTION}"),
    ("' OR 1=1 --", "no match"),
    ("Reliability'; DROP TABLE jobs; --", "no match"),
    ("100%", "picker:100% Marine"),
    ("Back\\slash Supply", "picker:Back\\slash Supply"),
    ('"Quoted" Boats', 'picker:"Quoted" Boats'),
    ("Fish \U0001F41F Emoji Co", "picker:Fish \U0001F41F Emoji Co"),
    ("<@U0APPROVE> Partners", "picker:<@U0APPROVE> Partners"),
    ("<!channel>", "picker:<!channel> Holdings"),
    ("<!here> nobody", "no match"),
    ("*bold* _italic_ Charters", "picker:*bold* _italic_ Charters"),
    ("<https://evil.example|click> Ltd", "picker:<https://evil.example|click> Ltd"),
    ("<https://phish.example|Atomar>", "no match"),
    (LONG, f"picker:{LONG}"),
    ("Z" * 600, "no match"),
    ("Atomar\u200bs Best Tackle", "picker:Atomar's Best Tackle"),  # the search ignores invisible characters
]

# (amount typed, expected: "ok" or a fragment of the refusal shown under the amount field)
AMOUNTS = [("-1", "must be positive"), ("0", "more than $0.00"), ("0.001", "at most 2 decimals"),
           ("10.005", "at most 2 decimals"),
           ("1e9", "not an amount"), ("ten", "not an amount"), ("10,00", "Use a dot"), ("NaN", "not an amount"),
           ("Infinity", "not an amount"), ("", "default"), ("11", "more than the credit"),
           ("0x0A", "not an amount"), ("<!channel>", "not an amount")]


@pytest.fixture(scope="module")
def hw(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("hostile"), prepare=add_clients(HOSTILE_CLIENTS))
    yield w
    w.close()


def view_texts(view: dict) -> str:
    return json.dumps(view.get("blocks"), ensure_ascii=False)


def unchanged(world, jobs_before: int) -> None:
    assert bot_payments(world.qbo.ledger) == [] and len(world.bot.store.all()) == jobs_before


def record(figures, group, case, outcome):
    figures.record(f"hostile: {group}", case, times=1, jobs=0, payments=0, duplicates=0, lost=0, outcome=outcome)


@pytest.mark.parametrize("text,expected", NAMES, ids=[f"name{i:02d}" for i in range(len(NAMES))])
def test_hostile_client_names(hw, figures, text, expected):
    jobs = len(hw.bot.store.all())
    for v in hw.slack.views(REQUESTER)["modals"]:
        hw.slack.close_view(REQUESTER, v["id"])
    view = hw.open_picker(text)
    shown = view_texts(view)
    if expected == "no match":
        assert "No client matches" in shown
    else:
        name = expected.split(":", 1)[1]
        assert view["blocks"][0]["text"]["text"].startswith("Apply a credit")  # plain_text header: no mrkdwn
        assert name[:60] in view["blocks"][0]["text"]["text"] or name[:60] in shown
        assert "remaining" in shown  # its organizational credit is listed
    for raw in ("<@U0APPROVE>", "<!channel>", "<!here>", "<https://"):  # never live mrkdwn in mrkdwn texts
        assert all(raw not in b.get("text", {}).get("text", "") for b in view["blocks"]
                   if b.get("text", {}).get("type") == "mrkdwn")
    assert all(r["status"] < 400 for r in hw.qbo.requests if r["path"].endswith("/query"))  # no broken query
    unchanged(hw, jobs)
    record(figures, "client names", repr(text[:40]), expected[:40])


@pytest.mark.parametrize("amount,expected", AMOUNTS, ids=[f"amount{i:02d}" for i in range(len(AMOUNTS))])
def test_hostile_amounts(hw, figures, amount, expected):
    jobs = len(hw.bot.store.all())
    for v in hw.slack.views(REQUESTER)["modals"]:
        hw.slack.close_view(REQUESTER, v["id"])
    view = hw.open_picker("Atomar's Best Tackle")
    resp = hw.submit(view, invoice="10040", amount=amount)
    body = resp.json()
    if expected == "default":  # an emptied field means the default (the smaller of credit and balance)
        assert body["response_action"] == "update", body
        job = hw.bot.store.all()[0]
        assert job.amount == 10 and job.state == "awaiting_approval"
        hw.click(job.id, "reject", REQUESTER)
        hw.wait_state(job.id, "cancelled")
        assert bot_payments(hw.qbo.ledger) == []
        record(figures, "amounts", "'' (empty)", "the default $10.00, awaiting approval; withdrawn, nothing written")
        return
    assert body["response_action"] == "errors" and list(body["errors"]) == ["amount"], body
    assert expected in body["errors"]["amount"], body["errors"]["amount"]  # plain text: shown, never rendered
    unchanged(hw, jobs)
    record(figures, "amounts", repr(amount), body["errors"]["amount"][:60])


def test_dollar_amount_is_read_as_dollars_and_nothing_is_written_before_approval(hw, figures):
    jobs = len(hw.bot.store.all())
    job_id = new_request(hw, invoice="10040", amount="$10")
    assert hw.job(job_id).amount == 10 and bot_payments(hw.qbo.ledger) == []
    hw.click(job_id, "reject", REQUESTER)  # the requester withdraws; the credit is free again
    hw.wait_state(job_id, "cancelled")
    assert bot_payments(hw.qbo.ledger) == [] and len(hw.bot.store.all()) == jobs + 1
    record(figures, "amounts", "'$10'", "accepted as $10.00, withdrawn, nothing written")
