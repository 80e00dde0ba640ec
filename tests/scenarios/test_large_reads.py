"""QuickBooks requests to plan a sweep and to open the inbox on the large company (SANDBOX_SEED=large: ~500 clients,
~20,000 payments, ~300 open credits among ~170 clients), in both modes: at most 0.1 per client with an open credit.

Planning and the inbox read QuickBooks in bulk (workflow/bulk.py), not client by client (3 to 5 requests each, ~500
to ~900 in all before). Counted at the emulator, between the command and the plan's message or the inbox's modal.

ConnectBooster (API mode) has no read across organizations: the first bulk read (a plan or the inbox) asks it 763
times (the sync history, 582 organizations in 6 pages, 582 lists of open credits, 174 pages of the open invoices of
the 173 organizations holding one), with 13 QuickBooks requests for the plan, 7 for the inbox. The directory keeps
that in its mirror (workflow/cb_mirror.py): with no sync between, the inbox opened again asks ConnectBooster once
(its sync history) and QuickBooks 7 times; guided mode's inbox asks QuickBooks 5 times and ConnectBooster never.
Time to the modal, every request delayed by L (bench/inbox.py): API mode ~106 L the first time, ~2.4 L again;
guided mode ~5 L, ~2.6 L again.
"""
from __future__ import annotations

import pytest

from sandbox.seed_large import company
from tests.scenarios.sweeps import batch, propose
from tests.scenarios.test_closed_periods import inbox, thread_texts
from tests.scenarios.test_guided_sweep import GUIDED
from tests.scenarios.world import World

pytestmark = pytest.mark.slow
PER_CLIENT = 0.1


def build(tmp_path_factory, name: str, settings: dict) -> World:
    # Each bulk read scans 20,000 payments in the emulator: on two shared cores that can pass the worlds' usual
    # 2 s timeout (production's is 30 s), and a timed-out chunk would leave its 100 clients out of the plan.
    return World(tmp_path_factory.mktemp(name), prepare=lambda ledger: ledger.load_company(company()),
                 settings=settings, overrides={"http_timeout": 15.0})


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    w = build(tmp_path_factory, "api", {})
    yield w
    w.close()


@pytest.fixture(scope="module")
def guided(tmp_path_factory):
    # Change data capture on (once an hour): its first full read fills the index of open credits, which guided
    # mode's inbox and plan then read instead of QuickBooks' whole payment history.
    w = build(tmp_path_factory, "guided", {**GUIDED, "qbo_cdc_poll_seconds": 3600})
    assert w.bot.watch.wait_ready(60)
    yield w
    w.close()


def clients_with_credit(world) -> int:
    ledger = world.qbo.ledger
    return len({r["CustomerRef"]["value"] for r in ledger.list("CreditMemo") if r["RemainingCredit"] > 0}
               | {r["CustomerRef"]["value"] for r in ledger.list("Payment") if r["UnappliedAmt"] > 0})


def counted(world, act):
    """(what `act` returned, QuickBooks API requests meanwhile, ConnectBooster requests meanwhile)."""
    qbo, cb = len(world.qbo.requests), len(world.cb.requests)
    out = act()
    return out, [r for r in world.qbo.requests[qbo:] if r["path"].startswith("/v3/")], len(world.cb.requests) - cb


@pytest.mark.parametrize("mode", ["api", "guided"])
def test_planning_a_sweep_of_300_credits(request, mode):
    world = request.getfixturevalue(mode)
    clients = clients_with_credit(world)
    message, qbo, cb = counted(world, lambda: propose(world))
    plan = batch(world).plan
    print(f"\n{mode}: planning {len(plan)} items for {clients} clients with a credit: {len(qbo)} QuickBooks "
          f"requests, {cb} ConnectBooster requests")
    assert clients >= 150 and len(plan) >= 150
    assert len(qbo) <= PER_CLIENT * clients
    assert all("ORDERBY Id" in r["query"]["query"] for r in qbo if r["path"].endswith("/query"))
    if mode == "api":  # one list of credits per organization, one of invoices per client with a credit: no more
        organizations = len(world.cb.snapshot()["organizations"])
        assert cb <= organizations + clients + organizations // 100 + 5
    replies = thread_texts(world, message)
    assert "in a closed period (books closed through 2025-12-31): QuickBooks refuses to change it" in replies
    assert "applies a credit only to invoices of the same customer" in replies  # a parent's credit, a branch's debt


@pytest.mark.parametrize("mode", ["api", "guided"])
def test_opening_the_inbox(request, mode):
    world = request.getfixturevalue(mode)
    clients = clients_with_credit(world)
    view, qbo, cb = counted(world, lambda: inbox(world, timeout=30))
    print(f"\n{mode}: the inbox for {clients} clients with a credit: {len(qbo)} QuickBooks requests, "
          f"{cb} ConnectBooster requests")
    assert "with open credits" in str(view["blocks"]) or "with unapplied credits" in str(view["blocks"])
    assert len(qbo) <= PER_CLIENT * clients


def test_a_second_inbox_open_asks_connectbooster_for_its_sync_history_alone(api):
    _, first_qbo, first_cb = counted(api, lambda: inbox(api))  # fills the mirror (or finds it filled)
    view, qbo, cb = counted(api, lambda: inbox(api))
    print(f"\napi: the inbox opened again: {len(qbo)} QuickBooks requests, {cb} ConnectBooster requests (before it: "
          f"{len(first_qbo)} and {first_cb})")
    assert "with open credits" in str(view["blocks"])
    assert cb <= 3 and len(qbo) <= 7
