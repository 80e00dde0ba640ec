"""Which sync a mirror's reads reflect (workflow/cb_mirror.py): the newest ended run older than every open one."""
from __future__ import annotations

from integrations.connectbooster_models import SyncRun
from workflow.cb_mirror import HISTORY, NONE_ENDED, settled_mark, settled_runs


def run(sync_id: int, status: str) -> SyncRun:
    return SyncRun(sync_id, "quickbooks_online", status, "manual", "2026-11-25", "2026-11-26T18:00:00Z", None, None,
                   (), {}, None)


def test_the_mark_is_the_newest_ended_run_below_any_open_one():
    assert settled_mark([run(7004, "active"), run(7003, "finished"), run(7002, "failed")]) == 7003
    assert settled_mark([run(7003, "finished"), run(7002, "active"), run(7001, "finished")]) == 7001
    assert [r.id for r in settled_runs([run(7003, "finished"), run(7002, "pending"), run(7001, "finished")])] == [7001]


def test_no_ended_run_is_a_mark_only_when_the_whole_history_was_seen():
    assert settled_mark([]) == NONE_ENDED
    assert settled_mark([run(7001, "pending")]) == NONE_ENDED
    assert settled_mark([run(7000 + n, "active") for n in range(HISTORY)]) is None
    assert settled_mark(None) is None  # the history could not be read: nothing can be told
