"""The console's HTTP API over a running world (no browser): what the page would show and send."""
from __future__ import annotations

import re
import threading
import time

import requests

from tests.scenarios.world import APPROVER, CHANNEL, REQUESTER, wait_until


def post(world, verb: str, **body) -> requests.Response:
    return requests.post(world.console.url + f"api/{verb}", json=body, timeout=15)


def state(world, user: str = REQUESTER, **params) -> dict:
    r = requests.get(world.console.url + "api/state", params={"user": user, **params}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def channel_html(st: dict, channel: str = CHANNEL) -> str:
    return "".join(i["html"] for c in st["channels"] if c["id"] == channel for i in c["items"])


def wait_state(world, predicate, user: str = REQUESTER, timeout: float = 20, **params) -> dict:
    deadline = time.monotonic() + timeout
    st = state(world, user, **params)
    while not predicate(st):
        assert time.monotonic() < deadline, "the console never showed it"
        st = state(world, user, since=st["version"], wait=1, **params)
    return st


def open_picker(world, text: str = "Atomar's Best Tackle", user: str = REQUESTER) -> dict:
    assert post(world, "command", user=user, text=f"/applycredit {text}").json() == {"ok": True}
    return wait_state(world, lambda s: s["modal"] and "Looking up" not in s["modal"]["html"], user)["modal"]


def request_10040(world, amount: str = "10.00", user: str = REQUESTER) -> int:
    modal = open_picker(world, user=user)
    values = {"invoice": {"invoice": {"selected": {"value": "130", "text": "10040"}}},
              "amount": {"amount": {"value": amount}}}
    r = post(world, "submit", user=user, view_id=modal["id"], values=values)
    assert r.json() == {"ok": True, "errors": None}
    st = wait_state(world, lambda s: "Credit application #" in channel_html(s), user)
    return int(re.search(r"Credit application #(\d+)", channel_html(st)).group(1))


def click_on_parent(world, job_id: int, action_id: str, user: str) -> requests.Response:
    # The channel shows the message as soon as Slack has it; the bot stores its ts an instant later.
    ts = wait_until(lambda: world.job(job_id).parent_ts, timeout=10)
    return post(world, "action", user=user, kind="message", channel=CHANNEL, ts=ts, action_id=action_id)


def test_the_page_is_served_locally_with_no_external_resources(console_world):
    url = console_world.console.url
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("console.js", "console.css"):
        assert requests.get(url + asset, timeout=5).status_code == 200
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # no CDN, no network
    assert requests.get(url, headers={"Host": "evil.test"}, timeout=5).status_code == 403
    plain = requests.post(url + "api/command", data='{"user": "U0REQUEST", "text": "/applycredit x"}',
                          headers={"Content-Type": "text/plain"}, timeout=5)
    assert plain.status_code == 415  # a cross-site form can't drive the bot


def test_the_command_opens_the_picker_for_the_requester_only(console_world):
    modal = open_picker(console_world)
    assert "Apply a credit — Atomar&#x27;s Best Tackle" in modal["html"] and "Request approval" in modal["html"]
    assert state(console_world, APPROVER)["modal"] is None
    r = post(console_world, "command", user=REQUESTER, text="/giphy fish")
    assert r.status_code == 400 and "not a valid command" in r.json()["error"]
    assert post(console_world, "command", user="UNOBODY", text="/applycredit x").status_code == 400


def test_books_show_both_sides_before_anything_happens(console_world):
    books = state(console_world)["books"]
    qbo = {i["number"]: i["balance"] for i in books["qbo"]["invoices"]}
    cb = {i["number"]: i["balance"] for i in books["cb"]["invoices"]}
    assert qbo == {"10031": "$85.00", "10040": "$120.00"} and cb == qbo
    assert books["qbo"]["credits"] == [{"kind": "credit memo", "number": "1039", "remaining": "$10.00"}]
    assert [c["id"] for c in books["cb"]["credits"]] == [11261]
    hostile = state(console_world, client="<!channel> Holdings")["books"]
    assert hostile["qbo"]["found"] and "<!channel>" not in hostile["html"]


def test_validation_errors_come_back_under_the_input_with_what_was_typed(console_world):
    modal = open_picker(console_world)
    r = post(console_world, "submit", user=REQUESTER, view_id=modal["id"],
             values={"amount": {"amount": {"value": "999"}}})
    assert r.json()["errors"]["amount"]
    html = wait_state(console_world, lambda s: "sk-error" in (s["modal"] or {}).get("html", ""))["modal"]["html"]
    assert re.search(r'aria-invalid="true"', html) and 'value="999"' in html


def test_the_whole_help_article_through_the_console_api(console_world):
    world = console_world
    job_id = request_10040(world)
    assert click_on_parent(world, job_id, "approve", APPROVER).json() == {"ok": True}
    world.wait_state(job_id, "verified", timeout=30)
    st = wait_state(world, lambda s: "Verified" in channel_html(s) and "Done — applied and synced" in channel_html(s)
                    and "Credit applied for" in channel_html(s, "C0NOTIFY"), user=APPROVER)
    assert '<span class="edited">(edited)</span>' in channel_html(st)  # the request message, updated in place
    books = st["books"]
    assert {i["number"]: i["balance"] for i in books["qbo"]["invoices"]}["10040"] == "$110.00"
    assert {i["number"]: i["balance"] for i in books["cb"]["invoices"]}["10040"] == "$110.00"
    assert books["cb"]["credits"] == [] and "11261" not in books["html"]
    assert books["sync"]["status"] == "finished"
    notices = channel_html(st, "C0NOTIFY")
    assert "Credit applied for" in notices and "View thread</a>" in notices


def test_the_requesters_own_approval_is_refused_as_an_ephemeral_only_they_see(console_world):
    world = console_world
    job_id = request_10040(world, user=APPROVER)  # an approver asks; approving it themself is still refused
    assert click_on_parent(world, job_id, "approve", APPROVER).json() == {"ok": True}
    st = wait_state(world, lambda s: "Only visible to you" in channel_html(s), user=APPROVER)
    assert "You requested this application, so a colleague has to approve it" in channel_html(st)
    assert "Only visible to you" not in channel_html(state(world, REQUESTER))
    assert world.job(job_id).state == "awaiting_approval" and world.payments_on("130") == []


def test_fault_buttons_arm_the_documented_troubles(console_world):
    world = console_world
    assert post(world, "fault", user=REQUESTER, kind="qbo_429").json()["ok"]
    armed = world.qbo.faults.armed
    assert [(f["kind"], f["remaining"]) for f in armed] == [("429", 3)]
    assert post(world, "fault", user=REQUESTER, kind="stuck_pending").json()["ok"]
    taken = world.cb.faults.take_behaviour("sync", "POST", "/integrations/quickbooks_online/syncs")
    assert taken is not None and taken.kind == "stuck_pending"
    assert post(world, "fault", user=REQUESTER, kind="meteor").status_code == 400
    assert len(state(world)["armed"]) == 2


def test_a_failed_sync_armed_from_the_console_ends_in_a_sync_again_button(console_world):
    world = console_world
    post(world, "fault", user=REQUESTER, kind="fail_sync")
    job_id = request_10040(world)
    click_on_parent(world, job_id, "approve", APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=30)
    st = wait_state(world, lambda s: "Sync again</button>" in channel_html(s), user=APPROVER)
    assert ":x:" not in channel_html(st)  # emoji shortcodes are rendered, not shown raw
    assert world.payments_on("130") != []  # QuickBooks was recorded before the sync failed


def test_external_select_options_come_from_the_bot(console_world):
    modal = open_picker(console_world, "Coastal Bait Co")
    assert 'type="search"' in modal["html"]
    options = post(console_world, "options", user=REQUESTER, view_id=modal["id"], action_id="invoice",
                   block_id="invoice", query="").json()["options"]
    assert len(options) == 100 and all(" of $" in o["text"] for o in options)
    number = options[57]["text"].split(" ")[0]
    narrowed = post(console_world, "options", user=REQUESTER, view_id=modal["id"], action_id="invoice",
                    block_id="invoice", query=number).json()["options"]
    assert narrowed and all(number in o["text"] for o in narrowed)


def test_state_long_polls_until_something_changes(console_world):
    world = console_world
    version = state(world)["version"]
    threading.Timer(0.3, lambda: world.slack.post_user_message(CHANNEL, REQUESTER, "hello *team*")).start()
    started = time.monotonic()
    st = state(world, since=version, wait=10)
    assert time.monotonic() - started < 5 and st["version"] > version
    assert "hello <strong>team</strong>" in channel_html(st)
