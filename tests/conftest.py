"""Fixtures shared by the scenario and reliability suites: a running world (emulators, fake Slack, the bot)."""
import pytest

from tests.scenarios.world import World


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
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
