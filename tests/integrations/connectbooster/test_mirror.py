"""The directory's ConnectBooster mirror (workflow/cb_mirror.py) against the emulator over loopback HTTP.

Every figure is counted at the emulator: what the mirror asked ConnectBooster for. The emulator and the ledger
share the fake clock; a sync is the portal's Sync Now, finished by moving the clock on."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.integrations.connectbooster.helpers import apply_credit_in_qbo
from tests.scenarios.world import wait_until
from workflow.cb_mirror import CBMirror

ORGANIZATIONS = 8  # the help article's company


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=4) as p:
        yield p


@pytest.fixture
def mirror(client, pool, clock):
    return CBMirror(client, pool, clock=clock)


def sync(cb, clock) -> int:
    """Sync Now in the portal (from yesterday), played to its end; the run's id."""
    run = cb.portal_sync_now()
    clock.advance(1)
    cb.advance()
    assert next(r for r in cb.snapshot()["syncs"] if r["id"] == run["id"])["status"] == "finished"
    return run["id"]


def asked(cb, since: int) -> list[str]:
    return [r["path"] for r in cb.requests[since:]]


def per_org(paths: list[str]) -> set[str]:
    """The organization ids whose credits or invoices were read."""
    return {m.group(1) for p in paths if (m := re.fullmatch(r"/organizations/(\d+)/(credits|invoices)", p))}


def open_ids(shot, org_id: int) -> list[int]:
    return [c.id for c in shot.credits.get(org_id, [])]


def test_a_second_read_with_no_sync_between_is_one_request(mirror, cb):
    first = mirror.snapshot()
    assert per_org(asked(cb, 0)) == {str(o) for o in range(501, 509)}  # every organization's credits, once
    before = len(cb.requests)
    second = mirror.snapshot()
    assert asked(cb, before) == ["/integrations/quickbooks_online/syncs"]
    assert second == first and open_ids(second, 501) == [11261]


def test_a_sync_that_applied_one_credit_reads_only_that_organization_again(mirror, cb, ledger, clock):
    sync(cb, clock)  # the seed's lag settled: Reel Deal's credit, the portal payment on 10081
    assert 11267 not in open_ids(mirror.snapshot(), 507)
    apply_credit_in_qbo(ledger, customer="58", invoice="130", credit_memo="150", amount=Decimal("10.00"))
    before = len(cb.requests)
    run = sync(cb, clock)
    shot = mirror.snapshot()
    paths = asked(cb, before)
    assert open_ids(shot, 501) == [] and 501 not in shot.invoices  # Atomar's credit is gone
    assert per_org(paths) == {"501"}  # only Atomar's credits and invoices read again
    assert f"/syncs/{run}/details" in paths
    assert open_ids(shot, 502) == [11262]  # the others kept


def test_a_credit_made_in_quickbooks_appears_after_the_sync_that_brings_it(mirror, cb, ledger, clock):
    mirror.snapshot()
    made = ledger.create_credit_memo("65", "12.00", txn_date="2026-11-26", doc_number="M65")  # Atomar's Bait Shop
    assert mirror.snapshot().credits[508] == []  # no sync yet: ConnectBooster does not show it
    before = len(cb.requests)
    sync(cb, clock)
    shot = mirror.snapshot()
    (credit,) = shot.credits[508]
    assert (credit.qbo_id, credit.remaining_amount) == (made["Id"], Decimal("12.00"))
    assert [i.number for i in shot.invoices[508]] == ["10095"]
    paths = asked(cb, before)
    assert f"/credits/{credit.id}" in paths  # unknown to the mirror: read by id to learn its organization
    assert "508" in per_org(paths) and len(per_org(paths)) < ORGANIZATIONS


def test_a_new_client_with_a_credit_is_found_through_the_organization_list(mirror, cb, ledger, clock):
    mirror.snapshot()
    customer = ledger.create_customer("Brand New Marine")
    ledger.create_credit_memo(customer["Id"], "30.00", txn_date="2026-11-26")
    sync(cb, clock)
    shot = mirror.snapshot()
    (org,) = [o for o in shot.orgs if o.name == "Brand New Marine"]
    assert [c.remaining_amount for c in shot.credits[org.id]] == [Decimal("30.00")]


def test_a_details_read_that_fails_reads_everything_again(mirror, cb, ledger, clock):
    mirror.snapshot()
    apply_credit_in_qbo(ledger, customer="58", invoice="130", credit_memo="150", amount=Decimal("10.00"))
    sync(cb, clock)
    cb.faults.inject("500", times=None, match="/details")
    before = len(cb.requests)
    shot = mirror.snapshot()
    assert per_org(asked(cb, before)) == {str(o) for o in range(501, 509)}
    assert open_ids(shot, 501) == [] and open_ids(shot, 502) == [11262]
    cb.faults.clear()
    before = len(cb.requests)
    mirror.snapshot()  # what it read then reflects that sync: nothing to catch up with
    assert asked(cb, before) == ["/integrations/quickbooks_online/syncs"]


def test_a_failed_sync_reads_everything_again(mirror, cb, clock):
    mirror.snapshot()
    cb.faults.inject("fail_sync")
    run = cb.portal_sync_now()
    clock.advance(1)
    assert next(r for r in cb.snapshot()["syncs"] if r["id"] == run["id"])["status"] == "failed"
    before = len(cb.requests)
    mirror.snapshot()
    assert per_org(asked(cb, before)) == {str(o) for o in range(501, 509)}


def test_invoices_are_read_again_after_five_minutes_and_everything_after_four_hours(mirror, cb, clock):
    shot = mirror.snapshot()
    assert not any(i.pending_payment for i in shot.invoices[501])
    atomar = next(i for i in cb.state.invoices.values() if i.number == "10031")
    cb.state.add_pending_payment(atomar, Decimal("20.00"), clock())  # a client pays in the portal: no sync
    clock.advance(299)
    assert not any(i.pending_payment for i in mirror.snapshot().invoices[501])  # not seen yet
    clock.advance(2)
    before = len(cb.requests)
    shot = mirror.snapshot()
    assert [i.number for i in shot.invoices[501] if i.pending_payment] == ["10031"]
    paths = asked(cb, before)
    assert not any(p.endswith("/credits") for p in paths)  # credits change only by a sync
    assert {p.rsplit("/", 1)[1] for p in paths if p.startswith("/organizations/")} == {"invoices"}
    clock.advance(4 * 3600)
    before = len(cb.requests)
    mirror.snapshot()
    assert per_org(asked(cb, before)) == {str(o) for o in range(501, 509)}


def test_reads_at_once_share_one_refresh(mirror, cb):
    mirror.snapshot()
    entered, gate = threading.Event(), threading.Event()

    def hold(method: str, path: str) -> bool:  # the first reader's look at the history waits for the others
        if not path.endswith("/syncs"):
            return False
        entered.set()
        return gate.wait(10)

    cb.faults.inject("slow", seconds=0, match=hold)
    before = len(cb.requests)
    shots: list = []
    readers = [threading.Thread(target=lambda: shots.append(mirror.snapshot())) for _ in range(3)]
    readers[0].start()
    assert entered.wait(10)
    for reader in readers[1:]:
        reader.start()
    wait_until(lambda: mirror.waiting == 2)
    gate.set()
    for reader in readers:
        reader.join(10)
    assert asked(cb, before) == ["/integrations/quickbooks_online/syncs"]
    assert len(shots) == 3 and shots[0] == shots[1] == shots[2]
