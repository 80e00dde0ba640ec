"""Client-side throttling: with an injected clock, no second ever carries more than 10 calls."""
from __future__ import annotations


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


def test_never_more_than_10_calls_in_any_second(make_client, session, clock, emu):
    client = make_client()
    for _ in range(35):
        client.get_invoice(invoice_id="130")
    arrivals = [e.at for e in session.exchanges]
    assert len(arrivals) == 35
    assert busiest_second(arrivals) <= 10
    assert clock.time() - arrivals[0] >= 3.0  # 35 calls at <= 9/s need more than 3 fake seconds
    assert clock.slept  # the limiter waited on the injected clock, not real time


def test_emulator_enforcing_10_per_second_on_the_same_clock_never_throttles(store, clock, session):
    import time

    from integrations.http import RateLimiter, RetryPolicy
    from integrations.quickbooks import QuickBooksClient
    from sandbox.qbo_emulator import QBOEmulator

    from .helpers import CLIENT_ID, CLIENT_SECRET, REALM, make_tokens

    strict = QBOEmulator(realm_id=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed_data=True,
                         clock=clock, limits=(10, 500))
    base = strict.start(port=0)
    try:
        minted = strict.mint_tokens()
        store.save(REALM, access_token=minted["access_token"], access_expires_at=time.time() + 3600,
                   refresh_token=minted["refresh_token"], refresh_expires_at=None)
        strict.base_url = base
        client = QuickBooksClient(session=session, base_url=base, realm_id=REALM, tokens=make_tokens(strict, store),
                                  retry=RetryPolicy(attempts=1), limiter=RateLimiter(clock=clock,
                                                                                     sleep=clock.sleep))
        for _ in range(30):
            client.get_customer(customer_id="58")
        assert {r["status"] for r in strict.requests} == {200}
    finally:
        strict.stop()
