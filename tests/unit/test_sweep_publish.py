"""A sweep's message is rebuilt at once when the sweep changes state, else at most once a second with one trailing
rebuild, so its last figures are always shown (workflow/sweep_publish.py)."""
import threading
from types import SimpleNamespace

from workflow.sweep_publish import PublishThrottle


def test_a_new_state_publishes_at_once_the_same_state_waits_for_one_trailing_rebuild():
    now = [100.0]
    fired = threading.Event()
    later: list[int] = []
    throttle = PublishThrottle(lambda batch_id: (later.append(batch_id), fired.set()), every=0.05,
                               clock=lambda: now[0])
    running, syncing = SimpleNamespace(id=7, state="running"), SimpleNamespace(id=7, state="syncing")
    assert throttle.due(running.id, running.state)                                   # the first rebuild
    assert not throttle.due(running.id, running.state) and not throttle.due(running.id, running.state)  # within the second: deferred, once
    assert throttle.due(syncing.id, syncing.state)                                   # a new state: at once
    assert fired.wait(2) and later == [7]                          # the one trailing rebuild came
    now[0] += 1.0
    assert throttle.due(syncing.id, syncing.state)                                   # a second later: at once again
    assert throttle.due(8, "running")    # another sweep is not held by this one


def test_a_stopped_throttle_fires_nothing():
    later: list[int] = []
    throttle = PublishThrottle(later.append, every=0.05, clock=lambda: 0.0)
    assert throttle.due(1, "running") and not throttle.due(1, "running")
    throttle.stop()
    threading.Event().wait(0.15)
    assert later == []
