"""Before approving, an approver (the proposer too) leaves clients out of a sweep's plan: the plan, its total and
its message update, the approval applies only the rest; leaving everyone out cancels it; others are refused."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from data.events import EventKind
from tests.scenarios.sweeps import EXPECTED, batch, planned, propose, wait_finished
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER

FIELD = "sweep_leave_out"  # the modal's callback, block and action id


def edit_plan(world, message: dict, user: str = APPROVER) -> dict:
    """Click "Edit plan…" and return the modal it opens."""
    earlier = {v["id"] for v in world.slack.views(user)["modals"]}
    assert world.driver.click(user, "sweep_edit", source=message).status == 200
    return world.slack.wait_for(lambda s: [v for v in s.views(user)["modals"] if v["id"] not in earlier])[-1]


def client_options(world, view: dict, typed: str = "", user: str = APPROVER) -> list[dict]:
    """What Slack shows in the clients field as the person types (the bot's options endpoint)."""
    return world.driver.options(user, FIELD, value=typed, source=view).json()["options"]


def leave_out(world, view: dict, names: list[str], user: str = APPROVER):
    chosen = [o for o in client_options(world, view, user=user) if o["text"]["text"].split(" · ")[0] in names]
    assert len(chosen) == len(names), chosen
    return world.driver.submit_view(user, view, {FIELD: {FIELD: {"type": "multi_external_select",
                                                                 "selected_options": chosen}}})


def current(world, message: dict) -> dict:
    return world.slack.message(CHANNEL, message["ts"])


def test_leave_one_client_out_then_the_approval_applies_only_the_rest(world):
    message = propose(world)  # proposed by APPROVER_2
    view = edit_plan(world, message, user=APPROVER_2)  # the proposer may narrow their own plan
    assert [o["text"]["text"] for o in client_options(world, view, "bait", user=APPROVER_2)] == \
        ["Coastal Bait Co · 4 inv. · $175.00"]  # typed to search: a plan can hold hundreds of clients
    resp = leave_out(world, view, ["Coastal Bait Co"], user=APPROVER_2)
    assert resp.status == 200 and not (resp.json() or {}).get("errors")

    rest = {e for e in EXPECTED if e[0] != "Coastal Bait Co"}
    assert planned(world) == rest and batch(world).total == Decimal("100.00")
    shown = world.slack.wait_for(lambda s: "*5* applications for *5* clients" in str(current(world, message)["blocks"])
                                 and str(current(world, message)["blocks"]), timeout=10)
    assert "*$100.00* in all" in shown and "Coastal Bait Co" not in shown
    assert f"1 client left out by <@{APPROVER_2}>" in shown and "sweep_approve" in shown
    left = [e for e in world.bot.store.events() if e.kind == EventKind.SWEEP_CLIENTS_LEFT_OUT]
    assert [(e.actor, e.details["clients"], e.details["items"], e.details["left_out_total"], e.details["plan_total"])
            for e in left] == [(APPROVER_2, ["Coastal Bait Co"], 4, "175.00", "100.00")]

    coastal_before = {i: world.invoice_balance(i) for i in ("1001", "1002", "1003", "1004")}
    world.driver.click(APPROVER, "sweep_approve", source=current(world, message))
    wait_finished(world)
    items = world.bot.store.in_batch(1)
    assert {(j.client_name, j.invoice_number) for j in items} == {(e[0], e[2]) for e in rest}
    assert [j.state for j in items] == ["verified"] * 5
    for invoice_id, balance in coastal_before.items():  # left alone in the books
        assert world.payments_on(invoice_id) == [] and world.invoice_balance(invoice_id) == balance
    assert world.slack.wait_for(lambda s: [m for m in s.thread(CHANNEL, message["ts"])
                                           if "5 of 5 applications verified, $100.00 applied" in m["text"]], timeout=10)


def test_leaving_every_client_out_cancels_the_sweep(world):
    message = propose(world)
    view = edit_plan(world, message)
    names = sorted({e[0] for e in EXPECTED})
    assert leave_out(world, view, names).status == 200
    assert batch(world).state == "cancelled" and batch(world).plan == [] and batch(world).total == 0
    shown = world.slack.wait_for(lambda s: "every client was left out" in str(current(world, message)["blocks"])
                                 and str(current(world, message)["blocks"]), timeout=10)
    assert "sweep_approve" not in shown and "sweep_edit" not in shown
    assert world.bot.store.in_batch(1) == [] and len(world.qbo.ledger.list("Payment")) == 2  # nothing written
    world.driver.command(APPROVER_2, CHANNEL, "sweep")  # the one-sweep slot is free again
    assert world.slack.wait_for(lambda s: (b := batch(world, 2)) and b.state == "awaiting_approval", timeout=20)


def test_a_non_approvers_edit_and_an_expired_sweeps_are_refused(world):
    message = propose(world)
    for user in (REQUESTER, OUTSIDER):
        world.driver.click(user, "sweep_edit", source=message)
        assert world.slack.wait_for(lambda s, u=user: any("Only approvers can change a sweep's plan" in t
                                                          for t in world.ephemeral_texts(u)))
        assert world.slack.views(user)["modals"] == []  # no modal, no client list
    # A submission that does not come from an approver (a modal kept from before, a forged one) is refused too.
    view = edit_plan(world, message)
    chosen = client_options(world, view)[:1]
    refused = world.driver.submit_view(REQUESTER, view, {FIELD: {FIELD: {"type": "multi_external_select",
                                                                         "selected_options": chosen}}})
    assert "Only approvers" in refused.json()["errors"][FIELD]
    assert planned(world) == EXPECTED

    # Past APPROVAL_TTL_HOURS: the edit is refused and the sweep expires.
    later = datetime.now(UTC) + timedelta(hours=25)
    world.bot.service.policy.now = lambda: later
    answer = leave_out(world, view, ["Coastal Bait Co"])
    assert "expired" in answer.json()["errors"][FIELD]
    assert batch(world).state == "expired" and planned(world) == EXPECTED
    world.driver.click(APPROVER_2, "sweep_edit", source=message)
    assert world.slack.wait_for(lambda s: any("its plan can only change before it is approved" in t
                                              for t in world.ephemeral_texts(APPROVER_2)))
