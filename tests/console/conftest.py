"""A running world (emulators, fake Slack, the real bot over HTTP) with the console in front of it, and a headless
Chromium to look at it (Debian's `chromium`; Playwright cannot download browsers here)."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

from sandbox.console import start_console
from tests.scenarios.world import World

CHROMIUM = next((p for p in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), "/usr/bin/chromium") if p and os.path.exists(p)), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture
def console_world(tmp_path):
    world = World(tmp_path, transport="http")  # the console reaches the bot over HTTP, as in `make run`
    world.sandbox.bot_url = world.driver.bot_url  # what Sandbox.attach() records in `make run`
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds)
    yield world
    world.console.stop()
    world.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test skipped: Playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@contextmanager
def open_page(browser, url: str):
    """A fresh browser context on the console; fails the test on any JavaScript error on the page."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    expect(page.get_by_role("heading", name="#finance")).to_be_visible()
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, console_world):
    with open_page(browser, console_world.console.url) as p:
        yield p
