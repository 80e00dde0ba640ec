"""Fixtures for the ConnectBooster emulator tests: a ledger and the emulator on the shared fake clock, a caller."""
from __future__ import annotations

import pytest
import requests

from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.qbo_ledger import Ledger

KEY = "sandbox-cb-key"


@pytest.fixture
def ledger(clock):
    return Ledger(clock=clock)


@pytest.fixture
def cb(ledger, clock):
    emu = ConnectBoosterEmulator(qbo=ledger, api_key=KEY, timing=SyncTiming.fast(), clock=clock)
    emu.start(port=0)
    yield emu
    emu.stop()


@pytest.fixture
def api(cb):
    session = requests.Session()

    def call(method: str, path: str, *, key: str | None = KEY, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return session.request(method, cb.base_url + path, headers=headers, timeout=5, **kw)

    yield call
    session.close()
