"""The forgiving client search, against the ConnectBooster emulator over loopback HTTP with the seeded names."""
from __future__ import annotations

import pytest
import requests

from integrations.connectbooster import ConnectBoosterClient
from integrations.errors import IntegrationError
from integrations.http import RetryPolicy
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.qbo_ledger import Ledger
from sandbox.qbo_seed import _meta, customer
from workflow.lookup import OrgDirectory, clean_query, name_key, search_clients

KEY = "sandbox-cb-key"
ATOMAR, BAIT_SHOP = "Atomar's Best Tackle", "Atomar's Bait Shop"
OMALLEY = "O\u2019Malley\u2019s Marina"


@pytest.fixture
def ledger(clock) -> Ledger:
    return Ledger(clock=clock)


@pytest.fixture
def emu(ledger, clock):
    e = ConnectBoosterEmulator(qbo=ledger, api_key=KEY, timing=SyncTiming.fast(), clock=clock)
    e.start(port=0)
    yield e
    e.stop()


@pytest.fixture
def cb(emu):
    with requests.Session() as session:
        yield ConnectBoosterClient(session=session, base_url=emu.base_url, api_key=KEY, timeout=5.0,
                                   retry=RetryPolicy(attempts=2, sleep=lambda s: None, jitter=lambda lo, hi: hi))


@pytest.fixture
def directory(cb, clock) -> OrgDirectory:
    return OrgDirectory(cb, ttl=30.0, clock=clock)


def org_reads(emu) -> int:
    return sum(1 for r in emu.requests if r["path"] == "/organizations")


@pytest.mark.parametrize("typed, found", [
    # case, apostrophes of any kind, punctuation and spacing
    ("omalley", [OMALLEY]),
    ("o malleys", [OMALLEY]),
    ("O'MALLEY'S", [OMALLEY]),
    ("o\u2018malley", [OMALLEY]),
    ("O\u2019Malley\u2019s Marina", [OMALLEY]),
    ("atomars best", [ATOMAR]),
    ("ATOMAR'S BEST TACKLE", [ATOMAR]),
    ("Atomar\u2019s Best Tackle", [ATOMAR]),
    ("atomar's-best-tackle!", [ATOMAR]),
    ("pier9", ["Pier 9 Outfitters"]),
    ("PIER 9", ["Pier 9 Outfitters"]),
    ("blue   heron", ["Blue Heron Marine"]),
    ("channel holdings", ["<!channel> Holdings"]),
    # one typo: wrong, missing, extra or swapped letter
    ("Atomr's best", [ATOMAR]),
    ("atommar's best", [ATOMAR]),
    ("atomra's best", [ATOMAR]),
    ("blu heron", ["Blue Heron Marine"]),
    ("omaley", [OMALLEY]),
    ("coastl bait", ["Coastal Bait Co"]),
    ("reel deel", ["Reel Deal Charters"]),
    # ambiguous: every match, best first
    ("atomars", [BAIT_SHOP, ATOMAR]),
    ("Atomr's", [BAIT_SHOP, ATOMAR]),
    ("atomar", [BAIT_SHOP, ATOMAR]),
    ("bait", ["Coastal Bait Co", BAIT_SHOP]),
    # nothing near
    ("zzzz", []),
    ("harbour", []),
    ("'''", []),
    ("xy", []),           # too short for a typo: must be contained exactly
])
def test_search_matches_the_way_people_type(directory, typed, found):
    assert [o.name for o in directory.search(typed)] == found


def test_an_exact_name_alone_is_the_only_answer(directory):
    """A name typed in full picks that client even when other names contain it."""
    names = [o.name for o in directory.search("atomar's bait shop")]
    assert names == [BAIT_SHOP]


def test_results_are_full_organizations(directory):
    (org,) = directory.search("omalley")
    assert org.id == 504 and org.qbo_customer_id == "61"


def test_one_list_read_serves_searches_until_it_expires(emu, directory, clock):
    directory.search("omalley")
    directory.search("atomar")
    directory.search("Atomr's best")
    assert org_reads(emu) == 1  # eight clients: one page, read once
    assert all(r["query"].get("search", "") == "" for r in emu.requests)  # the whole list, matched locally
    clock.advance(31)
    directory.search("omalley")
    assert org_reads(emu) == 2


def test_a_miss_in_a_reused_list_reads_it_again_once(emu, ledger, directory, clock):
    assert directory.search("zebra fins") == []
    assert org_reads(emu) == 1
    with ledger._lock:  # a new customer in QuickBooks; ConnectBooster learns of it on its next sync
        new = customer("9001", "Zebra Fins")
        new["MetaData"] = _meta("2026-11-26")
        ledger._docs["Customer"]["9001"] = new
    emu.start_scheduled_sync()
    for _ in range(3):
        clock.advance(5)
        emu.advance()
    assert [o.name for o in directory.search("zebra fin")] == ["Zebra Fins"]
    assert org_reads(emu) == 2
    assert directory.search("no such client") == []
    assert org_reads(emu) == 3  # at most one extra read per search that finds nothing


def test_search_clients_keeps_one_directory_per_client(emu, cb):
    assert [o.name for o in search_clients(cb, "omalley")] == [OMALLEY]
    assert [o.name for o in search_clients(cb, "o malleys")] == [OMALLEY]
    assert org_reads(emu) == 1


def test_connectbooster_down_is_an_integration_error(emu, directory):
    emu.faults.inject("500", times=None)
    with pytest.raises(IntegrationError):
        directory.search("omalley")


@pytest.mark.parametrize("raw, key", [
    ("O\u2019Malley\u2019s Marina", "omalleysmarina"),
    ("  Caf\u00e9  D\u00e9j\u00e0 Vu ", "cafedejavu"),
    ("<!channel> Holdings", "channelholdings"),
    ("\uff21\uff22\uff23", "abc"),     # fullwidth letters
])
def test_name_key(raw, key):
    assert name_key(raw) == key


def test_clean_query_trims_and_bounds():
    assert clean_query("  o   malley  ") == "o malley"
    assert len(clean_query("x" * 1000)) == 200
