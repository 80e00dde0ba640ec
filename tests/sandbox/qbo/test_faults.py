"""sandbox.faults: the generic injector, then each QBO fault kind over real HTTP."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from sandbox.faults import Fault, Faults
from tests.sandbox.qbo.helpers import cm_payment


def test_inject_take_once_by_default():
    f = Faults()
    f.inject("500")
    assert f.take("GET", "/x") == Fault("500", None)
    assert f.take("GET", "/x") is None


def test_times_match_and_order():
    f = Faults()
    f.inject("slow", times=2, match="/payment", seconds=0.5)
    f.inject("503", match=lambda method, path: method == "GET")
    assert f.take("POST", "/v3/company/1/query") is None
    assert f.take("GET", "/v3/company/1/query").kind == "503"
    assert f.take("POST", "/v3/company/1/payment") == Fault("slow", 0.5)
    assert f.armed[0]["remaining"] == 1
    assert f.take("POST", "/v3/company/1/payment").kind == "slow"
    assert f.armed == []


def test_until_cleared_and_thread_safety():
    f = Faults()
    f.inject("429", times=None)
    for _ in range(5):
        assert f.take("GET", "/a").kind == "429"
    f.clear()
    assert f.take("GET", "/a") is None

    f.inject("500", times=100)
    got = []
    threads = [threading.Thread(target=lambda: got.extend(f.take("GET", "/") for _ in range(30)))
               for _ in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sum(1 for g in got if g is not None) == 100
    with pytest.raises(ValueError):
        f.inject("500", times=0)


def test_fault_429_throttle_envelope(emu, qbo):
    emu.faults.inject("429", match="/invoice/")
    r = qbo.get("Invoice", "130")
    assert r.status_code == 429
    assert "Retry-After" not in r.headers
    err = r.json()["fault"]["error"][0]
    assert err["code"] == "3001" and "ThrottleExceeded" in err["message"]
    assert r.json()["fault"]["type"] == "SERVICE" and r.headers["intuit_tid"]
    assert qbo.get("Invoice", "130").status_code == 200  # once


def test_fault_429_with_retry_after(emu, qbo):
    emu.faults.inject("429", seconds=2)
    assert qbo.get("Invoice", "130").headers["Retry-After"] == "2"


@pytest.mark.parametrize("kind", ["500", "503"])
def test_fault_5xx(emu, qbo, kind):
    emu.faults.inject(kind)
    r = qbo.payment(cm_payment(10))
    assert r.status_code == int(kind) and r.headers["intuit_tid"]
    assert emu.ledger.get("Invoice", "130")["Balance"] == 120  # nothing written
    if kind == "500":
        assert r.json()["Fault"]["type"] == "SystemFault"


def test_fault_401_even_with_valid_token(emu, qbo):
    emu.faults.inject("401")
    r = qbo.get("Invoice", "130")
    assert r.status_code == 401
    assert r.json()["fault"]["error"][0]["code"] == "3200"
    assert qbo.get("Invoice", "130").status_code == 200


def test_fault_slow(emu, qbo):
    emu.faults.inject("slow", seconds=0.3)
    started = time.monotonic()
    assert qbo.get("Invoice", "130").status_code == 200
    assert time.monotonic() - started >= 0.3
    emu.faults.inject("slow", seconds=1)
    with pytest.raises(requests.Timeout):
        qbo.http.get(f"{emu.api_base}/invoice/130", headers=qbo._headers(), timeout=0.2)


def test_fault_drop_after_commit_commits_then_drops(emu, qbo):
    emu.faults.inject("drop_after_commit", match="/payment")
    with pytest.raises(requests.ConnectionError):
        qbo.payment(cm_payment(10))
    assert emu.ledger.get("Invoice", "130")["Balance"] == 110
    assert emu.requests[-1]["dropped"] is True
    assert qbo.get("Invoice", "130").status_code == 200  # the server keeps serving


def test_limits_throttle_per_second(clock):
    from sandbox.qbo_emulator import QBOEmulator
    from tests.sandbox.qbo.helpers import QBO

    emu = QBOEmulator(clock=clock, limits=(3, 5))
    emu.start()
    try:
        qbo = QBO(emu, emu.mint_tokens()["access_token"])
        assert [qbo.get("Invoice", "130").status_code for _ in range(4)] == [200, 200, 200, 429]
        clock.advance(1.5)
        assert [qbo.get("Invoice", "130").status_code for _ in range(3)] == [200, 200, 429]  # 5 per minute
        clock.advance(60)
        assert qbo.get("Invoice", "130").status_code == 200
        assert qbo.http.get(emu.discovery_url).status_code == 200  # only /v3 is throttled
    finally:
        emu.stop()
