"""The console's credit inbox in a real headless Chromium: Apply… opens the form, Resync only starts the job;
and what a newcomer sees on the page: emoji, not shortcodes; threads that keep their state on a reload."""
from __future__ import annotations

import re

import pytest

from tests.console.conftest import CHROMIUM
from tests.console.test_browser import act_as, approve, expect, request  # noqa: F401

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="browser test skipped: no Chromium found"),
              pytest.mark.slow]


def open_inbox(page):
    composer = page.get_by_label("Message or command")
    composer.fill("/applycredit inbox")
    composer.press("Enter")
    inbox = page.get_by_role("dialog", name=re.compile("inbox", re.IGNORECASE))
    expect(inbox).to_contain_text("Atomar's Best Tackle", timeout=20_000)
    return inbox


def test_inbox_apply_opens_the_form_for_that_client_and_the_request_goes_out(page, console_world):
    inbox = open_inbox(page)
    row = inbox.locator(".sk-section", has_text="11261")
    row.get_by_role("button", name="Apply…").click()
    expect(page.locator("#status")).not_to_contain_text("control is gone")
    form = page.get_by_role("dialog", name="Apply credit")
    expect(form.get_by_label("Invoice")).to_be_visible(timeout=20_000)
    expect(form).to_contain_text("11261")
    form.get_by_role("button", name="Request approval").click()
    sent = page.get_by_role("dialog", name="Request sent")
    expect(sent).to_contain_text("sent to #finance for approval")
    sent.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator("article[data-kind=message]", has_text="Credit application #1")).to_contain_text(
        "Awaiting approval")
    assert console_world.job(1).state == "awaiting_approval" and console_world.job(1).client_name == \
        "Atomar's Best Tackle"


def test_inbox_resync_only_starts_the_resync_and_the_thread_shows_it_verified(page, console_world):
    inbox = open_inbox(page)
    inbox.get_by_role("button", name="Next").click()  # five clients a page: Reel Deal Charters is on page 2
    row = inbox.locator(".sk-section", has_text="11267")  # its credit, applied in QuickBooks, waiting for a sync
    expect(row.get_by_role("button", name="Resync only")).to_be_visible()
    row.get_by_role("button", name="Resync only").click()
    expect(page.locator("#status")).not_to_contain_text("control is gone")
    expect(inbox).to_contain_text("Resync #1 started", timeout=20_000)
    page.get_by_role("button", name="Close", exact=True).first.click()
    parent = page.locator("article[data-kind=message]", has_text="Resync #1")
    expect(parent).to_contain_text("Reel Deal Charters")
    console_world.wait_state(1, "verified", timeout=30)
    expect(parent).to_contain_text("Done", timeout=15_000)


def test_an_open_thread_stays_open_on_reload_with_its_buttons_and_emoji_show_as_emoji(page, console_world):
    request(page, "10040")
    act_as(page, "avery.approver")
    approve(page)
    parent = page.locator("article[data-kind=message]", has_text="Credit application #1")
    toggle = parent.locator(".thread-toggle")
    expect(toggle).to_be_visible(timeout=20_000)
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(parent.locator(".thread")).to_contain_text("Verified", timeout=30_000)
    page.reload()
    parent = page.locator("article[data-kind=message]", has_text="Credit application #1")
    expect(parent.locator(".thread")).to_be_visible()
    expect(parent.locator(".thread").get_by_role("button", name="Undo")).to_be_visible()
    expect(page.locator("#timeline")).not_to_contain_text(re.compile(r":[a-z_]+:"))  # no raw :shortcodes:
    expect(parent.locator(".emoji").first).to_be_visible()
