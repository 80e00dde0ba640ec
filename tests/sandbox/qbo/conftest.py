"""Fixtures for the QBO emulator tests: a fresh seeded emulator on a free port, the shared fake clock, a client."""
from __future__ import annotations

import pytest

from sandbox import seed
from sandbox.qbo_emulator import QBOEmulator
from tests.clock import FakeClock
from tests.sandbox.qbo.helpers import CLIENT_ID, CLIENT_SECRET, QBO


@pytest.fixture
def clock() -> FakeClock:
    """The shared fake clock, started at 2026-09-21 14:13 UTC: the instant these tests' dates were written against."""
    return FakeClock(start=1_790_000_000.0)


@pytest.fixture
def emu(clock: FakeClock):
    e = QBOEmulator(realm_id=seed.REALM_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    seed_data=True, clock=clock)
    e.start(port=0)
    yield e
    e.stop()


@pytest.fixture
def qbo(emu: QBOEmulator) -> QBO:
    client = QBO(emu, emu.mint_tokens()["access_token"])
    yield client
    client.http.close()
