"""The modal's listeners in-process: the invoice menu's options and every refusal of the submission, each on
the input it concerns (Slack shows `response_action: errors` under that field) and with nothing requested."""
from __future__ import annotations

import pytest

from tests.scenarios.world import APPROVER, APPROVER_2, REQUESTER


def submit(world, view: dict, *, user: str = REQUESTER, credit: str | None = None, invoice: str | None = None,
           amount: str | None = None):
    """Submit the modal with raw values (any value Slack could carry, not only the offered options)."""
    values: dict = {}
    if credit is not None:
        values["credit"] = {"credit": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": credit}, "value": credit}}}
    if invoice is not None:
        values["invoice"] = {"invoice": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": invoice}, "value": invoice}}}
    if amount is not None:
        values["amount"] = {"amount": {"type": "plain_text_input", "value": amount}}
    return world.driver.submit_view(user, view, values)


@pytest.mark.parametrize(("client", "choices", "field", "message"), [
    ("Atomar's Best Tackle", {"credit": "credit_memo:999"}, "credit", "Choose one of this client's credits."),
    ("Atomar's Best Tackle", {"invoice": "999"}, "invoice", "Choose one of this client's open invoices."),
    ("Pier 9 Outfitters", {"invoice": "180"}, "invoice",
     "Invoice 10081 has a ConnectBooster payment waiting to sync."),
    ("Atomar's Best Tackle", {"amount": "ten"}, "amount", "ten is not an amount. Enter digits with up to 2 decimals"),
    ("Atomar's Best Tackle", {"amount": "1.005"}, "amount", "Amounts have at most 2 decimals; you entered 1.005."),
    ("Atomar's Best Tackle", {"amount": "0"}, "amount", "The amount must be more than $0.00"),
    ("Atomar's Best Tackle", {"amount": "10.01"}, "amount", "$10.01 is more than the credit's remaining $10.00."),
    ("Coastal Bait Co", {"amount": "60"}, "amount", "$60.00 is more than invoice 20001's open balance of $50.00."),
])
def test_each_refusal_is_shown_on_its_field(world, client, choices, field, message):
    view = world.open_picker(client)
    resp = submit(world, view, **choices)
    body = resp.json()
    assert resp.status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == [field] and body["errors"][field].startswith(message)
    assert len(body["errors"][field]) <= 150  # cut to what fits under an input
    assert world.bot.store.all() == [] and world.slack.messages("C0FINANCE") == []
    assert world.slack.views(REQUESTER)["modals"][-1]["id"] == view["id"]  # the modal stays open for a fix


def test_defaults_request_the_oldest_invoice_for_the_smaller_amount(world):
    view = world.open_picker("Atomar's Best Tackle")
    body = submit(world, view).json()  # nothing changed by the user: the preselected values
    assert body["response_action"] == "update", body
    job = world.bot.store.all()[0]
    assert (job.invoice_number, str(job.amount), job.credit_number) == ("10031", "10.00", "1039")


def test_a_form_submitted_by_someone_else_is_expired(world):
    view = world.open_picker("Atomar's Best Tackle")
    body = submit(world, view, user=APPROVER).json()  # another user cannot use this user's draft
    assert body == {"response_action": "errors", "errors": {"credit": "This form expired; run /applycredit again."}}
    assert world.bot.store.all() == []


def test_a_credit_with_an_open_request_cannot_be_spent_twice(world):
    first = world.request(invoice="10040", amount="10")
    view = world.open_picker("Atomar's Best Tackle", user=APPROVER_2)
    body = submit(world, view, user=APPROVER_2, invoice="120", amount="5").json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["credit"]
    assert f"already has an open request (#{first}, awaiting approval)" in body["errors"]["credit"]
    assert [j.id for j in world.bot.store.all()] == [first]


# -- the invoice menu (external_select for a client with more invoices than a static menu holds) ----------------
def invoice_menu(world, view: dict, typed: str, user: str = REQUESTER) -> list[dict]:
    resp = world.driver.options(user=user, action_id="invoice", block_id="invoice", value=typed, source=view)
    assert resp.status == 200, resp.text
    return resp.json()["options"]


def test_invoice_options_match_what_is_typed(world):
    view = world.open_picker("Coastal Bait Co")
    element = next(b for b in view["blocks"] if b.get("block_id") == "invoice")["element"]
    assert element["type"] == "external_select" and element["initial_option"]["value"] == "1001"  # the oldest
    shown = invoice_menu(world, view, "2011")
    assert [o["text"]["text"].split(" ·")[0] for o in shown] == [str(n) for n in range(20110, 20120)]
    assert (shown[0]["text"]["text"], shown[0]["value"]) == ("20110 · 2026-06-20 · $50.00 of $50.00", "1110")
    everything = invoice_menu(world, view, "")
    assert len(everything) == 100 and everything[0]["value"] == "1001"  # Slack's limit, oldest first
    assert invoice_menu(world, view, "99999") == []


def test_invoice_options_are_empty_for_someone_elses_or_an_unknown_form(world):
    view = world.open_picker("Coastal Bait Co")
    assert invoice_menu(world, view, "2011", user=APPROVER) == []
    assert invoice_menu(world, {**view, "private_metadata": "no-such-draft"}, "2011") == []


# -- "Resync only" (a credit QuickBooks shows used up, ConnectBooster not synced yet) ----------------------------
def resync_only(world, view: dict, *, user: str = REQUESTER, value: str | None = None) -> dict:
    """Click the button and return the modal once the bot has answered in it."""
    before = len(world.slack.calls_to("views.update"))
    assert world.driver.click(user, "resync_only", source=view, value=value).ok
    world.slack.wait_for(lambda s: len(s.calls_to("views.update")) > before, timeout=10)
    return world.slack.view(view["id"])


@pytest.mark.parametrize(("user", "value", "message"), [
    (APPROVER, None, "This form is not valid any more; run `/applycredit` again."),      # not their form
    (REQUESTER, "other-draft|credit_memo:155", "This form is not valid any more"),    # another form's button
    (REQUESTER, "{draft}|credit_memo:999", "This is only for a credit QuickBooks already shows as fully applied"),
])
def test_resync_only_refusals(world, user, value, message):
    view = world.open_picker("Reel Deal Charters")
    shown = resync_only(world, view, user=user, value=value.format(draft=view["private_metadata"]) if value else None)
    assert message in str(shown["blocks"])
    assert world.bot.store.all() == []


def test_resync_only_when_quickbooks_cannot_be_read(world):
    view = world.open_picker("Reel Deal Charters")
    world.qbo.faults.inject("503", times=50)
    shown = resync_only(world, view)
    assert ":warning: QuickBooks could not be read (TransientError); nothing was started." in str(shown["blocks"])
    assert world.bot.store.all() == []
