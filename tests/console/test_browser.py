"""The console in a real headless Chromium: the help article end to end, and a refused self-approval.

Needs Debian's `chromium` (`.ci/run` installs it); Playwright cannot download browsers here. Set
CONSOLE_SCREENSHOT=docs/console.png to refresh the README's screenshot from the finished thread.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.console.conftest import CHROMIUM

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="browser test skipped: no Chromium found (install Debian's "
                                                           "`chromium`, or set CHROMIUM_PATH)"),
              pytest.mark.slow]  # a real Chromium: scheduled first (tests/conftest.py)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser test skipped: Playwright is not installed")
expect = sync_api.expect


def act_as(page, name: str) -> None:
    page.get_by_label(name).check()
    expect(page.get_by_role("status")).to_contain_text(f"Now acting as {name}")


def request(page, invoice: str | None) -> None:
    """Type the command, wait for the picker, choose the invoice, submit, close the confirmation."""
    composer = page.get_by_label("Message or command")
    composer.fill("/applycredit Atomar's Best Tackle")
    composer.press("Enter")
    modal = page.get_by_role("dialog", name="Apply credit")
    select = modal.get_by_label("Invoice")
    expect(select).to_be_visible()
    if invoice:
        label = select.locator("option", has_text=re.compile(rf"^{invoice} ")).text_content()
        select.select_option(label=label)
    modal.get_by_role("button", name="Request approval").click()
    sent = page.get_by_role("dialog", name="Request sent")
    expect(sent).to_contain_text("sent to #finance for approval")
    sent.get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def approve(page) -> None:
    page.locator("article[data-kind=message]").get_by_role("button", name="Approve").click()
    confirm = page.get_by_role("dialog", name="Approve this application?")
    expect(confirm).to_contain_text("Record $10.00 of credit against invoice")
    confirm.get_by_role("button", name="Approve").click()


def test_help_article_in_the_browser_request_approve_and_watch_the_books(page, console_world):
    books = page.locator("#books")
    expect(books.locator("table[data-side=qbo] tr", has_text="10040")).to_contain_text("$120.00")
    expect(books.locator("section[data-side=cb]")).to_contain_text("11261")

    request(page, "10040")
    parent = page.locator("article[data-kind=message]", has_text="Credit application #1")
    expect(parent).to_contain_text("Awaiting approval")
    expect(parent.get_by_role("button", name="Approve")).to_be_visible()

    act_as(page, "avery.approver")
    approve(page)

    thread = parent.locator(".thread")
    toggle = parent.locator(".thread-toggle")
    expect(toggle).to_be_visible()
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(thread).to_contain_text("Verified: credit 11261 no longer shows in ConnectBooster", timeout=30_000)
    expect(thread).to_contain_text(re.compile(r"Sync \d+: finished"))
    expect(parent).to_contain_text("Done — applied and synced")
    expect(parent).to_contain_text("(edited)")
    expect(parent.get_by_role("button", name="Approve")).to_have_count(0)
    expect(books.locator("table[data-side=qbo] tr", has_text="10040")).to_contain_text("$110.00")
    expect(books.locator("table[data-side=cb] tr", has_text="10040")).to_contain_text("$110.00")
    expect(books).not_to_contain_text("11261")
    assert console_world.invoice_balance("130") == 110  # the page shows what the ledger holds
    page.get_by_role("button", name="# applycredit-notices").click()
    expect(page.locator("#timeline")).to_contain_text("Credit applied for Atomar's Best Tackle")
    page.get_by_role("button", name="# finance").click()
    expect(page.locator("#timeline .thread").first).to_contain_text("Verified")
    target = os.environ.get("CONSOLE_SCREENSHOT")
    if target:  # the request message on top, its thread below it, the books beside it
        page.set_viewport_size({"width": 1440, "height": 1280})
        page.get_by_role("region", name="#finance").evaluate("box => box.scrollTop = 0")
        page.screenshot(path=target)


def test_the_requesters_own_approve_click_is_refused_on_screen(page, console_world):
    act_as(page, "avery.approver")  # an approver who asks may not approve their own request
    request(page, None)
    approve(page)
    refusal = page.locator("article.msg-ephemeral")
    expect(refusal).to_contain_text("You requested this application, so a colleague has to approve it")
    expect(refusal).to_contain_text("Only visible to you")
    parent = page.locator("article[data-kind=message]", has_text="Credit application #1")
    expect(parent).to_contain_text("Awaiting approval")
    expect(parent.get_by_role("button", name="Approve")).to_be_visible()
    assert console_world.job(1).state == "awaiting_approval"
    act_as(page, "riley.requester")  # someone else never sees another person's ephemeral
    expect(page.locator("article.msg-ephemeral")).to_have_count(0)


@pytest.fixture
def guided_page(browser, tmp_path):
    """The console over a guided-mode bot: the books panel offers the portal's Resync and Sync Now."""
    from sandbox.console import start_console
    from tests.console.conftest import open_page
    from tests.scenarios.world import World

    world = World(tmp_path, settings={"connectbooster_mode": "guided"}, transport="http")  # the console posts over HTTP
    world.sandbox.bot_url = world.driver.bot_url
    world.console = start_console(world.sandbox, 0, sync_timeout=world.settings.sync_timeout_seconds, guided=True)
    with open_page(browser, world.console.url) as page:
        yield page, world
    world.console.stop()
    world.close()


def test_guided_mode_walked_in_the_browser(guided_page):
    page, world = guided_page
    books = page.locator("#books")
    cb_row = books.locator("table[data-side=cb] tr", has_text="10040")
    request(page, "10040")
    act_as(page, "avery.approver")
    approve(page)
    parent = page.locator("article[data-kind=message]", has_text="Credit application #1")
    toggle = parent.locator(".thread-toggle")
    expect(toggle).to_be_visible(timeout=20_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    thread = parent.locator(".thread")
    expect(thread).to_contain_text("Step 1 of 3", timeout=20_000)
    expect(books.locator("table[data-side=qbo] tr", has_text="10040")).to_contain_text("$110.00")
    expect(cb_row).to_contain_text("$120.00")  # ConnectBooster's copy waits for the person

    books.get_by_role("button", name="Resync invoice 10040").click()  # what the person does in the portal
    expect(cb_row).to_contain_text("$110.00", timeout=20_000)
    thread.get_by_role("button", name="Resynced").last.click()
    expect(thread).to_contain_text("Step 2 of 3")
    # Step 2 names the date to sync from: the credit's (2026-10-01), older than the day before the application.
    named = re.search(r"sync from (\d{4}-\d{2}-\d{2})", thread.inner_text()).group(1)
    assert named == world.job(1).sync_from == "2026-10-01"
    expect(books.locator("#sync-from")).to_have_value(named)  # the portal's date field, as the step asks
    books.get_by_role("button", name="Sync Now").click()
    thread.get_by_role("button", name="Sync started").last.click()
    expect(parent).to_contain_text("Run the sync: active")
    expect(books.locator("p.sync")).to_contain_text("finished", timeout=30_000)
    assert world.cb.snapshot()["syncs"][0]["sync_from"] == named  # what ran is what the thread said
    expect(books).not_to_contain_text("11261")
    thread.get_by_role("button", name="Sync finished").last.click()
    expect(thread).to_contain_text("Step 3 of 3")
    thread.get_by_role("button", name="All clear").last.click()
    expect(parent).to_contain_text("confirmed in ConnectBooster by a person")
    expect(thread).to_contain_text("Complete")
    assert world.job(1).state == "verified"
    assert [r for r in world.cb.requests if not r["path"].startswith("/_emulator")] == []  # never called
