"""Each error mapping of the client, produced by the emulator over loopback HTTP."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
import requests

from integrations.connectbooster import ConnectBoosterClient
from integrations.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from integrations.http import RetryPolicy

from .helpers import API_KEY, make_client


def test_wrong_key_is_auth_error_without_the_key(cb, session, retry, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(cb, session, retry, api_key="wrong-secret-key")
    with pytest.raises(AuthError) as caught:
        client.get_organization(org_id=501)
    err = caught.value
    assert (err.status, err.code, err.service) == (401, "unauthorized", "connectbooster")
    assert retry.waits == []  # not retried
    for text in (str(err), repr(err), caplog.text, repr(client)):
        assert "wrong-secret-key" not in text and API_KEY not in text


def test_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.get_invoice(invoice_id=1)
    assert (caught.value.status, caught.value.code, caught.value.details) == (404, "not_found", {"id": 1})
    with pytest.raises(NotFoundError):
        client.get_sync(sync_id=99)
    with pytest.raises(NotFoundError):
        client.start_sync(integration_id="xero", sync_from=date(2026, 11, 25), idempotency_key="k")


def test_second_start_while_stuck_pending_attaches(client, cb):
    cb.faults.inject("stuck_pending")
    stuck = client.start_sync(sync_from=date(2026, 11, 25), idempotency_key="a")
    joined = client.start_sync(sync_from=date(2026, 11, 25), idempotency_key="b")
    assert joined.attached and joined.id == stuck.id and joined.status == "pending"


class _Canned409(requests.adapters.BaseAdapter):
    """A transport answering 409 with no run to join (a gateway may do that); the client code is untouched."""

    def send(self, request, **kwargs):
        resp = requests.Response()
        resp.status_code, resp.request, resp.url = 409, request, request.url
        resp._content = b'{"error": {"code": "conflict", "message": "locked", "details": {"reason": "locked"}}}'
        return resp

    def close(self):
        pass


def test_conflict_without_a_run_to_join_is_raised(retry):
    session = requests.Session()
    session.mount("http://", _Canned409())
    client = ConnectBoosterClient(session=session, base_url="http://gateway.test/api/v1", api_key=API_KEY,
                                  retry=retry)
    with pytest.raises(ConflictError) as caught:
        client.start_sync(sync_from=date(2026, 11, 25), idempotency_key="k")
    assert (caught.value.code, caught.value.details) == ("conflict", {"reason": "locked"})


def test_validation_errors(client):
    with pytest.raises(ValidationError) as caught:
        client.start_sync(sync_from=date(2026, 11, 26) + timedelta(days=1), idempotency_key="future")
    assert (caught.value.status, caught.value.code) == (422, "validation_error")
    assert caught.value.details["field"] == "sync_from"
    with pytest.raises(ValidationError):
        client.list_credits(org_id=501, status="bogus")
    with pytest.raises(ValidationError):
        client.start_sync(integration_id="connectwise", sync_from=date(2026, 11, 25), idempotency_key="cw")
    client.start_resync(invoice_id=9040, idempotency_key="reused")
    with pytest.raises(ValidationError):
        client.start_resync(invoice_id=9031, idempotency_key="reused")


def test_429_waits_retry_after_through_the_injected_sleep(client, cb, retry):
    cb.faults.inject("429", seconds=7)
    assert client.get_invoice(invoice_id=9040).number == "10040"
    assert retry.waits == [7.0]
    assert [r["status"] for r in cb.requests] == [429, 200]


def test_429_exhausted_is_rate_limited_error(cb, session):
    retry = RetryPolicy(attempts=2, sleep=lambda s: None)
    cb.faults.inject("429", times=None)
    with pytest.raises(RateLimitedError) as caught:
        make_client(cb, session, retry).get_invoice(invoice_id=9040)
    assert (caught.value.code, caught.value.retry_after) == ("rate_limited", 1.0)
    assert [r["status"] for r in cb.requests] == [429, 429]


@pytest.mark.parametrize("kind", ["500", "503"])
def test_5xx_retried_then_transient(client, cb, retry, kind):
    cb.faults.inject(kind, times=2)
    assert client.get_credit(credit_id=11261).id == 11261  # two failures, then the answer
    cb.faults.inject(kind, times=None)
    with pytest.raises(TransientError) as caught:
        client.get_credit(credit_id=11261)
    assert caught.value.status == int(kind)
    assert caught.value.code == {"500": "internal", "503": "unavailable"}[kind]
    assert len([r for r in cb.requests if r["status"] == int(kind)]) == 2 + retry.attempts


def test_slow_answer_past_the_timeout_is_transient(cb, session):
    retry = RetryPolicy(attempts=2, sleep=lambda s: None)
    client = make_client(cb, session, retry, timeout=0.1)
    cb.faults.inject("slow", times=None, seconds=0.3, match="/organizations")
    with pytest.raises(TransientError) as caught:
        client.get_organization(org_id=501)
    assert caught.value.code == "network" and caught.value.status is None
    assert len([r for r in cb.requests if r["path"] == "/organizations/501"]) <= 2  # tried twice, then gave up


def test_connection_refused_is_transient(session):
    client = ConnectBoosterClient(session=session, base_url="http://127.0.0.1:9/api/v1", api_key=API_KEY,
                                  retry=RetryPolicy(attempts=1))
    with pytest.raises(TransientError):
        client.list_integrations()


def test_post_requires_an_idempotency_key(client):
    with pytest.raises(ValueError):
        client.start_resync(invoice_id=9040, idempotency_key="")
