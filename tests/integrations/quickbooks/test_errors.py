"""Error mapping over real HTTP: 401 refresh-and-retry, 403, 429, 5xx backoff, timeouts, 610, 6000, 6210."""
from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest

from integrations.errors import AuthError, NotFoundError, RateLimitedError, TransientError, ValidationError
from integrations.http import RetryPolicy

from .helpers import REALM, canned


def refreshes(emu) -> int:
    return sum(1 for t in emu.token_requests if t["grant_type"] == "refresh_token")


def on_customer_read(method, path) -> bool:
    return method == "GET" and "/customer/" in path


def test_expired_access_token_is_refreshed_once_and_the_call_retried(client, emu, session, store):
    old = store.load(REALM).access_token
    emu.expire_access_tokens()
    assert client.get_customer(customer_id="58").id == "58"
    assert [e.status for e in session.exchanges] == [401, 200]
    assert refreshes(emu) == 1
    new = store.load(REALM)
    assert new.access_token != old  # stored before it was used


def test_injected_401_refreshes_and_retries(client, emu, session):
    emu.faults.inject("401", times=1, match=on_customer_read)
    assert client.get_customer(customer_id="58").id == "58"
    assert [e.status for e in session.exchanges] == [401, 200] and refreshes(emu) == 1


def test_401_twice_is_auth_error_after_one_refresh(client, emu, session):
    emu.faults.inject("401", times=2, match=on_customer_read)
    with pytest.raises(AuthError) as caught:
        client.get_customer(customer_id="58")
    assert caught.value.status == 401
    assert refreshes(emu) == 1 and [e.status for e in session.exchanges] == [401, 401]


def test_403_is_auth_error_without_refresh(client, emu, session):
    body = (b'{"fault":{"error":[{"message":"message=ApplicationAuthorizationFailed; errorCode=003100; '
            b'statusCode=403","detail":"","code":"3100"}],"type":"AUTHORIZATION"}}')
    session.before(lambda r: True, lambda r: canned(r, 403, body, {"intuit_tid": "tid-403"}))
    with pytest.raises(AuthError) as caught:
        client.get_invoice(invoice_id="130")
    assert (caught.value.status, caught.value.code, caught.value.intuit_tid) == (403, "3100", "tid-403")
    assert refreshes(emu) == 0


def test_429_from_the_emulator_waits_as_asked_then_succeeds(client, emu, session, sleeps):
    emu.faults.inject("429", times=1, match=on_customer_read)
    assert client.get_customer(customer_id="58").id == "58"
    throttled = session.exchanges[0]
    assert throttled.status == 429
    assert sleeps == [float(throttled.headers.get("Retry-After", 60))]


def test_429_without_retry_after_waits_60_seconds(client, session, sleeps):
    session.before(lambda r: True, lambda r: canned(r, 429, b"", {"intuit_tid": "tid-429"}))
    client.get_invoice(invoice_id="130")
    assert sleeps == [60.0]


def test_429_retry_after_header_is_honoured(client, session, sleeps):
    session.before(lambda r: True, lambda r: canned(r, 429, b"{}", {"Retry-After": "7"}), times=2)
    client.get_invoice(invoice_id="130")
    assert sleeps == [7.0, 7.0]


def test_fault_3001_in_a_400_is_rate_limited(client, session, sleeps):
    body = b'{"Fault":{"Error":[{"Message":"ThrottleExceeded","Detail":"","code":"003001"}],"type":"SERVICE"}}'
    session.before(lambda r: True, lambda r: canned(r, 400, body), times=4)
    with pytest.raises(RateLimitedError) as caught:
        client.get_invoice(invoice_id="130")
    assert caught.value.code == "3001" and caught.value.retry_after == 60.0
    assert sleeps == [60.0, 60.0, 60.0]  # attempts=4: three waits, then the error


@pytest.mark.parametrize("kind", ["500", "503"])
def test_5xx_is_retried_with_jittered_backoff(client, emu, session, sleeps, kind):
    emu.faults.inject(kind, times=2, match=on_customer_read)
    assert client.get_customer(customer_id="58").id == "58"
    assert [e.status for e in session.exchanges] == [int(kind), int(kind), 200]
    assert sleeps == [0.5, 1.0]  # jitter pinned to the window's top: base 0.5 * 2**(n-1)


def test_5xx_until_attempts_run_out_is_transient(client, emu, sleeps):
    emu.faults.inject("503", times=10, match=on_customer_read)
    with pytest.raises(TransientError) as caught:
        client.get_customer(customer_id="58")
    assert caught.value.status == 503 and caught.value.intuit_tid
    assert len(sleeps) == 3


def test_jitter_is_drawn_within_the_capped_window(make_client, emu, sleeps):
    windows: list[tuple[float, float]] = []

    def jitter(low, high):
        windows.append((low, high))
        return high / 2

    policy = RetryPolicy(attempts=6, base_seconds=1.0, cap_seconds=4.0, sleep=sleeps.append, jitter=jitter)
    emu.faults.inject("500", times=5, match=on_customer_read)
    make_client(retry=policy).get_customer(customer_id="58")
    assert windows == [(0, 1.0), (0, 2.0), (0, 4.0), (0, 4.0), (0, 4.0)]
    assert sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_slow_answer_past_the_timeout_is_transient(make_client, emu, sleeps):
    emu.faults.inject("slow", times=2, match=on_customer_read, seconds=1.0)
    client = make_client(timeout=0.2, retry=RetryPolicy(attempts=2, sleep=sleeps.append, jitter=lambda a, b: b))
    with pytest.raises(TransientError) as caught:
        client.get_customer(customer_id="58")
    assert "Timeout" in str(caught.value) and len(sleeps) == 1


def test_610_is_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.get_invoice(invoice_id="999999")
    assert caught.value.code == "610" and caught.value.status == 400 and caught.value.intuit_tid


def test_over_application_is_6000(client, emu):
    with pytest.raises(ValidationError) as caught:
        client.apply_credit_memo(customer_id="58", invoice_id="120", credit_memo_id="150",
                                 amount=Decimal("50.00"), request_id=str(uuid.uuid4()))
    assert caught.value.code == "6000" and caught.value.intuit_tid
    assert emu.ledger.get("Invoice", "120")["Balance"] == Decimal("85.00")


def test_closed_period_is_6210(client, emu, sleeps):
    emu.ledger.close_books(through="2026-12-31")  # the emulator takes YYYY-MM-DD (a date object breaks it)
    with pytest.raises(ValidationError) as caught:
        client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                                 amount=Decimal("10.00"), request_id=str(uuid.uuid4()), txn_date="2026-10-02")
    assert caught.value.code == "6210" and sleeps == []  # not retried


def test_tokens_never_reach_logs_or_errors(client, emu, store, minted, caplog):
    caplog.set_level(logging.DEBUG)
    emu.faults.inject("401", times=2, match=on_customer_read)
    with pytest.raises(AuthError) as caught:
        client.get_customer(customer_id="58")
    client.apply_credit_memo(customer_id="58", invoice_id="130", credit_memo_id="150",
                             amount=Decimal("10.00"), request_id=str(uuid.uuid4()))
    record = store.load(REALM)
    for secret in (record.access_token, record.refresh_token, minted["access_token"], minted["refresh_token"]):
        assert secret not in caplog.text and secret not in str(caught.value) and secret not in repr(record)
    assert "intuit_tid=" in caplog.text  # every write is logged with Intuit's id


@pytest.mark.parametrize("status, code, error", [
    (400, "4000", ValidationError), (400, "4001", ValidationError), (400, "2020", ValidationError),
    (400, "2500", ValidationError), (400, "6140", ValidationError), (400, "610", NotFoundError),
    (400, "120", AuthError), (500, "10000", TransientError),
])
def test_fault_codes_map_to_typed_errors(make_client, session, sleeps, status, code, error):
    body = ('{"Fault":{"Error":[{"Message":"m","Detail":"d","code":"' + code + '","element":""}],'
            '"type":"ValidationFault"},"time":"2026-10-01T10:26:03.668-07:00"}').encode()
    session.before(lambda r: True, lambda r: canned(r, status, body, {"intuit_tid": "tid-x"}), times=9)
    client = make_client(retry=RetryPolicy(attempts=2, sleep=sleeps.append, jitter=lambda a, b: b))
    with pytest.raises(error) as caught:
        client.get_invoice(invoice_id="130")
    assert type(caught.value) is error
    assert (caught.value.code, caught.value.status, caught.value.intuit_tid) == (code, status, "tid-x")
    assert len(sleeps) == (1 if error is TransientError else 0)


def test_unreadable_success_body_is_transient(client, session):
    session.before(lambda r: True, lambda r: canned(r, 200, b"<html>proxy</html>"), times=9)
    with pytest.raises(TransientError):
        client.get_invoice(invoice_id="130")
