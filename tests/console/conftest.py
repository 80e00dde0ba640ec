"""A running world (emulators, fake Slack, the real bot over HTTP) with the console in front of it."""
from __future__ import annotations

import pytest

from sandbox.console import start_console
from tests.scenarios.world import World


@pytest.fixture
def console_world(tmp_path):
    world = World(tmp_path, transport="http")  # the console reaches the bot over HTTP, as in `make run`
    world.sandbox.bot_url = world.driver.bot_url  # what Sandbox.attach() records in `make run`
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds)
    yield world
    world.console.stop()
    world.close()
