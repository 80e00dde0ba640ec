"""The QuickBooks connection's small rules, table-driven: who may connect, the warning thresholds, a warning or a
lapse announced once, a state used once by the admin it was made for, a hard expiry kept across answers."""
from __future__ import annotations

from datetime import timedelta

import pytest

from data.connection import ConnectionStore
from data.db import Connections
from data.oauth_states import OAuthStates
from data.token_key import TokenCipher
from data.tokens import TokenStore
from tests.clock import FakeClock
from workflow.connection import thresholds
from workflow.policy import Action, NotAllowed, Policy

APPROVERS = frozenset({"U0APPROVE", "U0APPROVE2"})


@pytest.mark.parametrize("admins, user, allowed", [
    (None, "U0APPROVE", True),          # ADMIN_IDS not set: the approvers
    (None, "U0REQUEST", False),
    (frozenset({"U0ADMIN"}), "U0ADMIN", True),
    (frozenset({"U0ADMIN"}), "U0APPROVE", False),  # ADMIN_IDS set: only they, approvers or not
])
def test_who_may_connect(admins, user, allowed):
    policy = Policy(approvers=APPROVERS, undo_window=timedelta(hours=72), admins=admins)
    if allowed:
        policy.check(Action.CONNECT, user, None)
        return
    with pytest.raises(NotAllowed, match="Only admins"):
        policy.check(Action.CONNECT, user, None)


@pytest.mark.parametrize("warn_days, expected", [(14, (14, 3, 1)), (30, (30, 3, 1)), (3, (3, 1)), (2, (2, 1)),
                                                 (1, (1,)), (0.5, (0.5,))])
def test_thresholds(warn_days, expected):
    assert thresholds(warn_days) == expected


@pytest.fixture
def db(tmp_path):
    return Connections(str(tmp_path / "c.db"))


def test_a_warning_is_claimed_once_per_threshold_and_again_for_a_new_expiry(db):
    store = ConnectionStore(db.get)
    end = 1_000_000.0
    assert store.claim_warning("1", end, 14) and not store.claim_warning("1", end + 3600, 14)  # a later answer
    assert store.claim_warning("1", end, 3) and not store.claim_warning("1", end, 14)  # never back up
    assert store.claim_warning("1", end + 100 * 86400, 14)  # a new grant's (or a renewed) expiry
    assert store.claim_warning("2", end, 14)  # per company


def test_a_lapse_is_announced_by_the_first_caller_only_until_reconnected(db):
    store = ConnectionStore(db.get)
    store.claim_warning("1", 5.0, 3)
    assert store.mark_lapsed("1", 10.0, "invalid_grant") and not store.mark_lapsed("1", 11.0, "invalid_grant")
    assert store.get("1").lapsed_at == 10.0
    assert store.mark_connected("1") and store.get("1").lapsed_at is None and store.get("1").warned_days is None
    assert not store.mark_connected("1")


def test_a_state_is_used_once_by_its_admin_before_it_expires(db):
    clock = FakeClock()
    states = OAuthStates(db.get, clock)
    mine = states.issue("U0APPROVE", ttl=600)
    sid, secret = mine.value.split(".")
    stored = db.get().execute("SELECT * FROM oauth_states").fetchall()
    assert secret not in str(stored)  # only its hash is kept
    tampered = secret[:-1] + ("x" if secret[-1] != "x" else "y")  # one character changed (a random "x" stays one)
    assert states.valid(mine.value) == "U0APPROVE" and states.valid(f"{sid}.{tampered}") is None
    assert states.consume(mine.value, "U0APPROVE2") is None  # someone else's paste
    assert states.consume(f"{sid}.wrong") is None and states.consume("") is None and states.consume("no-dot") is None
    assert states.consume(mine.value, "U0APPROVE") == "U0APPROVE"
    assert states.consume(mine.value) is None and states.valid(mine.value) is None  # used up
    late = states.issue("U0APPROVE", ttl=600)
    clock.advance(600)
    assert states.valid(late.value) is None and states.consume(late.value) is None


def test_an_answer_without_the_hard_expiry_keeps_the_stored_one_and_a_new_grant_replaces_it(db):
    store = TokenStore(db, TokenCipher.generate())
    store.save("1", access_token="a", access_expires_at=1.0, refresh_token="r1", refresh_expires_at=100.0,
               refresh_hard_expires_at=50.0, refreshed_at=1.0)
    store.save("1", access_token="b", access_expires_at=2.0, refresh_token="r2", refresh_expires_at=200.0)
    record = store.load("1")
    assert (record.refresh_token, record.refresh_hard_expires_at, record.refreshed_at, record.expires_at) == \
        ("r2", 50.0, 1.0, 50.0)
    store.replace("1", access_token="c", access_expires_at=3.0, refresh_token="r3", refresh_expires_at=300.0)
    assert store.load("1").refresh_hard_expires_at is None and store.load("1").expires_at == 300.0
