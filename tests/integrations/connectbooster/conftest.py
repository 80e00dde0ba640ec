"""Fixtures: the QuickBooks ledger and the ConnectBooster emulator on a free loopback port, sharing one fake
clock, and the real client with injected time (a recording sleep for the RetryPolicy). No patching: the
client talks real HTTP to the emulator, and faults are armed on the emulator."""
from __future__ import annotations

import pytest
import requests

from integrations.connectbooster import ConnectBoosterClient
from integrations.http import RetryPolicy
from sandbox.cb_emulator import ConnectBoosterEmulator, SyncTiming
from sandbox.qbo_ledger import Ledger
from tests.integrations.connectbooster.helpers import API_KEY, make_client


@pytest.fixture
def ledger(clock):
    return Ledger(clock=clock)


@pytest.fixture
def cb(ledger, clock):
    emu = ConnectBoosterEmulator(qbo=ledger, api_key=API_KEY, timing=SyncTiming.fast(), clock=clock)
    emu.start(port=0)
    yield emu
    emu.stop()


@pytest.fixture
def retry() -> RetryPolicy:
    slept: list[float] = []
    return RetryPolicy(attempts=4, sleep=slept.append, jitter=lambda lo, hi: hi)


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture
def client(cb, session, retry) -> ConnectBoosterClient:
    return make_client(cb, session, retry)
