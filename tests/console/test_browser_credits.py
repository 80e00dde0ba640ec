"""The console in a real headless Chromium: a person records a credit memo in QuickBooks from the books
panel, watches the bot's proposal appear in #applycredit-notices, and an approver applies it as proposed."""
from __future__ import annotations

import pytest

from sandbox.console import start_console
from tests.console.conftest import ARGS, CHROMIUM
from tests.console.test_browser import act_as, sync_api
from tests.scenarios.credits import TOKEN, listen
from tests.scenarios.world import World

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="browser test skipped: no Chromium found"),
              pytest.mark.slow]
expect = sync_api.expect


@pytest.fixture
def page(tmp_path):
    world = World(tmp_path, settings={"qbo_webhook_verifier_token": TOKEN}, transport="http")
    world.sandbox.bot_url = world.driver.bot_url
    listen(world)
    assert world.bot.watch.wait_ready(timeout=20)
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(world.console.url)
        expect(page.get_by_role("heading", name="#finance")).to_be_visible()
        yield page, world
        browser.close()
    world.console.stop()
    world.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_a_new_credit_memo_is_proposed_and_applied_in_the_browser(page):
    page, world = page
    page.get_by_label("Amount").fill("25.00")
    page.get_by_role("button", name="New credit memo").click()
    expect(page.get_by_role("status")).to_contain_text("recorded in QuickBooks")
    expect(page.locator("#books section[data-side=qbo]")).to_contain_text("$25.00")
    page.get_by_role("button", name="# applycredit-notices").click()
    found = page.locator("article[data-kind=message]", has_text="Apply as proposed")
    expect(found).to_contain_text("New credit · proposal #1", timeout=20_000)
    expect(found).to_contain_text("10031 (the oldest open invoice)")
    proposal = page.locator(f"article[data-ts='{found.get_attribute('data-ts')}']")  # updated in place
    act_as(page, "avery.approver")
    proposal.get_by_role("button", name="Apply as proposed").click()
    confirm = page.get_by_role("dialog", name="Apply as proposed?")
    confirm.get_by_role("button", name="Apply").click()
    expect(proposal).to_contain_text("Done", timeout=30_000)
    expect(proposal).to_contain_text("accepted by")
    expect(proposal.get_by_role("button", name="Undo 10031")).to_be_visible()
    expect(page.locator("#books table[data-side=qbo] tr", has_text="10031")).to_contain_text("$60.00")
    assert world.invoice_balance("120") == 60
