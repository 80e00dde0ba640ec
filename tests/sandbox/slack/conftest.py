"""Fixtures for the fake Slack and the driver: a started FakeSlack, a WebClient on it, a settable clock."""
from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient

from sandbox.fake_slack import FakeSlack
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """The shared fake clock, started at the real time so ts values look real."""
    return FakeClock(start=float(int(time.time())))


@pytest.fixture
def slack(clock: FakeClock):
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
