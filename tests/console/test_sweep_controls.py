"""The sweep's controls reached through the console (its HTTP API, as the page uses it): "Edit plan…" opens a
modal whose clients field is a searchable multi-select, and submitting it narrows the plan."""
from __future__ import annotations

from decimal import Decimal

from sandbox.console.render import Ctx, blocks_html
from tests.console.test_api import channel_html, post, wait_state
from tests.scenarios.world import APPROVER, CHANNEL, wait_until


def test_a_multi_external_select_renders_as_a_searchable_multiple_select_keeping_its_choices():
    block = {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Clients"},
             "element": {"type": "multi_external_select", "action_id": "a", "min_query_length": 0}}
    chosen = [{"text": {"type": "plain_text", "text": "Coastal Bait Co"}, "value": "61"}]
    html = blocks_html([block], Ctx(state={"b": {"a": {"type": "multi_external_select", "selected_options": chosen}}}))
    assert " multiple " in html and 'type="search"' in html and "sk-unknown" not in html
    assert '<option value="61" selected>Coastal Bait Co</option>' in html


def test_edit_plan_through_the_console_leaves_a_client_out(console_world):
    world = console_world
    assert post(world, "command", user=APPROVER, text="/applycredit sweep").json() == {"ok": True}
    wait_state(world, lambda s: "Sweep #1" in channel_html(s), APPROVER)
    ts = wait_until(lambda: world.bot.service.sweeps.batches.get(1).parent_ts, timeout=10)
    post(world, "action", user=APPROVER, kind="message", channel=CHANNEL, ts=ts, action_id="sweep_edit")
    modal = wait_state(world, lambda s: s["modal"] and "Clients to leave out" in s["modal"]["html"], APPROVER)["modal"]
    assert " multiple " in modal["html"]

    options = post(world, "options", user=APPROVER, view_id=modal["id"], action_id="sweep_leave_out",
                   block_id="sweep_leave_out", query="coastal").json()["options"]
    assert [o["text"] for o in options] == ["Coastal Bait Co · 4 inv. · $175.00"]
    answer = post(world, "submit", user=APPROVER, view_id=modal["id"],
                  values={"sweep_leave_out": {"sweep_leave_out": {"selected": options}}}).json()
    assert answer == {"ok": True, "errors": None}
    batch = world.bot.service.sweeps.batches.get(1)
    assert batch.total == Decimal("100.00") and "Coastal Bait Co" not in {i["client"] for i in batch.plan}
    st = wait_state(world, lambda s: "1 client left out" in channel_html(s), APPROVER)
    assert not st["modal"]  # submitted: the modal closed
