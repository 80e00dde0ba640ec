"""The sweep's controls in a real headless Chromium, as a newcomer reaches them from README: Edit plan… (search the
clients, pick one, leave it out) and, once the sweep ran, Undo sweep… by another approver."""
from __future__ import annotations

import pytest

from tests.console.conftest import CHROMIUM
from tests.console.test_browser import act_as, expect

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="browser test skipped: no Chromium found"),
              pytest.mark.slow]


def test_edit_plan_leaves_a_client_out_then_another_approver_undoes_the_sweep(page, console_world):
    act_as(page, "alex.approver")  # proposes; avery.approver approves, then undoes
    composer = page.get_by_label("Message or command")
    composer.fill("/applycredit sweep")
    composer.press("Enter")
    sweep = page.locator("article[data-kind=message]", has_text="proposes")  # the sweep's message, not its replies
    expect(sweep).to_contain_text("9 applications for 6 clients", timeout=20_000)

    sweep.get_by_role("button", name="Edit plan…").click()
    modal = page.get_by_role("dialog", name="Edit sweep #1")
    search = modal.get_by_label("Search Clients to leave out")
    search.fill("coastal")  # typed to search, as in Slack
    clients = modal.get_by_label("Clients to leave out", exact=True)
    expect(clients.locator("option")).to_have_count(1)
    clients.select_option(label="Coastal Bait Co · 4 inv. · $175.00")
    modal.get_by_role("button", name="Leave out").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(sweep).to_contain_text("5 applications for 5 clients")
    expect(sweep).to_contain_text("1 client left out by")
    expect(sweep).not_to_contain_text("Coastal Bait Co")

    act_as(page, "avery.approver")
    sweep.get_by_role("button", name="Approve sweep").click()
    page.get_by_role("dialog", name="Approve this sweep?").get_by_role("button", name="Approve").click()
    expect(sweep).to_contain_text("Finished", timeout=40_000)
    sweep.get_by_role("button", name="Undo sweep…").click()
    page.get_by_role("dialog", name="Undo sweep #1?").get_by_role("button", name="Undo sweep").click()
    expect(sweep).to_contain_text("Undone", timeout=40_000)
    expect(sweep).to_contain_text("5 undone")
    assert [j.state for j in console_world.bot.store.in_batch(1)] == ["undone"] * 5
