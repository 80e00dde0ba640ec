"""Intuit's token endpoint accepts the connection and never answers (intuit-oauth sets no timeout, real-world.md §7).

The bot bounds every call (TimeoutAuthClient) and retries a refresh that timed out: one hung connection
must not freeze the bot once the access token expires.
"""
from __future__ import annotations

import threading
import time

import pytest

from tests.scenarios.world import CHANNEL, REQUESTER

pytestmark = pytest.mark.slow  # waits out hung token calls: scheduled first (tests/conftest.py)


def test_a_hung_token_call_neither_blocks_the_ack_nor_the_picker(world, figures):
    world.qbo.expire_access_tokens()          # the next QuickBooks read needs a refresh...
    world.qbo.oauth.hang("token")             # ...and the first refresh connection hangs
    # Intuit answers again once that one connection is given up on (a stuck connection, not an outage).
    threading.Thread(target=lambda: world.qbo.oauth.hangs.wait_parked("token", 1, 20)
                     and world.qbo.oauth.release("token"), daemon=True).start()
    started = time.monotonic()
    resp = world.driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle")
    acked = time.monotonic() - started
    assert resp.status == 200 and acked < 1.0
    view = world.slack.wait_for(lambda s: (v := s.views(REQUESTER)["modals"]) and "Looking up" not in str(v[-1])
                                and v[-1], timeout=45)
    shown = time.monotonic() - started
    figures.record("QuickBooks OAuth", "token endpoint hangs (first refresh)", times=1, jobs=0, payments=0,
                   duplicates=0, lost=0, outcome=f"ack {acked:.2f} s, picker {shown:.1f} s")
    assert world.qbo.oauth.hangs.hung["token"] >= 1  # a refresh really did hang, and was given up on
    assert "10040" in str(view["blocks"]) and "11261" in str(view["blocks"])  # the real picker, with the data
    assert shown < 45


def test_a_token_endpoint_that_stays_hung_gives_a_clear_answer_in_time(world, figures):
    world.qbo.expire_access_tokens()
    world.qbo.oauth.hang("token")
    started = time.monotonic()
    resp = world.driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle")
    assert resp.status == 200 and time.monotonic() - started < 1.0
    view = world.slack.wait_for(lambda s: (v := s.views(REQUESTER)["modals"]) and "Looking up" not in str(v[-1])
                                and v[-1], timeout=45)
    shown = time.monotonic() - started
    text = str(view["blocks"])
    figures.record("QuickBooks OAuth", "token endpoint hangs (every refresh)", times=1, jobs=0, payments=0,
                   duplicates=0, lost=0, outcome=f"clear message after {shown:.1f} s")
    assert "QuickBooks" in text and "Nothing was changed" in text
    assert shown < 45
