"""Fixtures for the fake Slack and the driver: a started FakeSlack, a WebClient on it, a settable clock."""
from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient

from sandbox.fake_slack import FakeSlack


class ManualClock:
    """A clock the test moves by hand (starts at the real time so timestamps look real)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(int(time.time())) if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def slack(clock: ManualClock):
    fake = FakeSlack(clock=clock, bot_user_id="UBOT0001", team_id="T0SANDBOX")
    fake.start(port=0)
    fake.add_user("U0REQUEST", "requester", "Rita Requester")
    fake.add_user("U0APPROVE", "approver", "Avi Approver")
    fake.add_channel("C0FINANCE", "finance")
    yield fake
    fake.stop()


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url, timeout=5)
