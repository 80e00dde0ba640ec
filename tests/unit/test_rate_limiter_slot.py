"""RateLimiter.slot(): a call counts until its answer, so a slow answer cannot let the next second overfill."""
from __future__ import annotations

import threading

from integrations.http import RateLimiter
from tests.clock import FakeClock


def test_a_call_is_dated_at_its_answer_not_its_start():
    clock = FakeClock(start=1000.0)
    limiter = RateLimiter(per_second=1, per_minute=100, clock=clock, sleep=clock.sleep)
    with limiter.slot():
        clock.advance(5.0)  # the answer takes 5 s: the service may have counted the request at any moment of them
    clock.advance(0.25)
    limiter.acquire()
    assert clock.slept == [0.75]  # one per second counted from the answer; acquire() dates from the start


def test_calls_in_flight_fill_the_window_until_they_end():
    clock = FakeClock(start=1000.0)
    limiter = RateLimiter(per_second=2, per_minute=100, clock=clock, sleep=lambda s: ended.wait(1))
    ended = threading.Event()
    first, second = limiter.slot(), limiter.slot()
    first.__enter__(), second.__enter__()
    clock.advance(10.0)  # both still in flight long after they started
    got = []
    waiter = threading.Thread(target=lambda: (limiter.acquire(), got.append(clock.time())))
    waiter.start()
    waiter.join(0.2)
    assert got == []  # two in flight: a third must wait, however long ago they started
    first.__exit__(None, None, None)
    clock.advance(1.0)  # the first answer is now more than a second old
    ended.set()
    waiter.join(2)
    assert got == [clock.time()]
    second.__exit__(None, None, None)


def test_acquire_alone_keeps_the_old_behaviour():
    clock = FakeClock(start=1000.0)
    limiter = RateLimiter(per_second=9, per_minute=480, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.acquire()
    assert clock.time() - 1000.0 >= 2.0 and all(s <= 1.0 for s in clock.slept)
