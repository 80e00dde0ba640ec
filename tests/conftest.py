"""Fixtures shared by every suite: a running world (emulators, fake Slack, the bot) and the one fake clock."""
import pytest
from xdist.scheduler import LoadScopeScheduling

from tests.clock import FakeClock
from tests.scenarios.world import World


def pytest_collection_modifyitems(items) -> None:
    """Tests marked slow run first (a stable sort: the rest keep their order). With --maxschedchunk=1 (pytest.ini)
    xdist hands tests out one at a time in this order, so a 10 s test never starts last and holds up the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# Modules that build the large sandbox company (seconds each) in a module fixture: run on ONE worker, so it is built
# once per module, not once per worker that happened to get one of their tests.
ONE_WORKER = ("tests/sandbox/test_seed_large.py", "tests/sandbox/connectbooster/test_large.py",
              "tests/scenarios/test_large_reads.py")


class _Scheduling(LoadScopeScheduling):
    """xdist's load scheduling, one test at a time in collection order (slow first), except that the ONE_WORKER
    modules form one unit. (xdist's own `--dist loadgroup` marks do not group under this pytest.)"""

    def _split_scope(self, nodeid: str) -> str:
        return "large_company" if nodeid.startswith(ONE_WORKER) else nodeid


def pytest_xdist_make_scheduler(config, log):
    return _Scheduling(config, log) if config.getvalue("dist") == "load" else None


@pytest.fixture
def clock() -> FakeClock:
    """The shared fake clock at 2026-11-26 18:00 UTC; it moves only by advance(), set() or sleep()."""
    return FakeClock()


@pytest.fixture
def world(tmp_path, request):
    """The bot in a sandbox, reached in-process; parametrize it indirectly with "http" or "socket" to test those."""
    w = World(tmp_path, transport=getattr(request, "param", "inprocess"))
    yield w
    w.close()


@pytest.fixture
def make_world(tmp_path):
    """Build a world with custom settings/overrides (closed at the end)."""
    made = []

    def make(**kwargs):
        w = World(tmp_path / f"w{len(made)}", **kwargs)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
