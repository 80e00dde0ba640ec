"""Who may decide, and how often: approvals are exactly-once and only by the right people."""
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.scenarios.world import APPROVER, APPROVER_2, BOTH_TRANSPORTS, OUTSIDER, REQUESTER, has_buttons


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_requester_cannot_approve_own_request(world):
    # Even an approver can't approve what they requested themselves.
    job_id = world.request(invoice="10040", amount="10", user=APPROVER_2)
    world.approve(job_id, APPROVER_2)
    texts = world.slack.wait_for(lambda s: world.ephemeral_texts(APPROVER_2))
    assert "colleague has to approve" in texts[-1]
    assert world.job(job_id).state == "awaiting_approval"
    assert world.payments_on("130") == []
    assert has_buttons(world.parent(job_id))  # still waiting for a real approver


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_non_approver_is_refused(world):
    job_id = world.request(invoice="10040", amount="10")
    world.approve(job_id, OUTSIDER)
    texts = world.slack.wait_for(lambda s: world.ephemeral_texts(OUTSIDER))
    assert "Only approvers" in texts[-1]
    assert world.job(job_id).state == "awaiting_approval"
    assert [e.kind for e in world.bot.store.events(job_id)][-1] == "refused_approval"


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_reject_records_nothing_and_strips_buttons(world):
    job_id = world.request(invoice="10040", amount="10")
    before = world.parent(job_id)
    world.click(job_id, "reject", APPROVER)
    world.wait_state(job_id, "rejected")
    assert world.wait_thread(job_id, "Rejected by")
    parent = world.slack.wait_for(lambda s: not has_buttons(world.parent(job_id)) and world.parent(job_id))
    assert "Rejected by" in str(parent["blocks"])
    assert world.payments_on("130") == []
    world.driver.click(APPROVER_2, "approve", source=before)  # a late click on a stale copy of the message
    assert "already decided" in world.slack.wait_for(lambda s: world.ephemeral_texts(APPROVER_2))[-1]
    assert world.payments_on("130") == []


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_requester_can_withdraw(world):
    job_id = world.request(invoice="10040", amount="10")
    world.click(job_id, "reject", REQUESTER)
    world.wait_state(job_id, "cancelled")
    assert world.wait_thread(job_id, "Withdrawn")


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_twenty_concurrent_approvals_write_one_payment(world):
    job_id = world.request(invoice="10040", amount="10")
    parent = world.parent(job_id)
    clickers = [APPROVER, APPROVER_2] * 10
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda u: world.driver.click(u, "approve", source=parent), clickers))
    assert all(a.status == 200 for a in answers)
    world.wait_state(job_id, "verified", timeout=15)
    assert len(world.payments_on("130")) == 1
    approvals = [e for e in world.bot.store.events(job_id) if e.kind == "approved"]
    assert len(approvals) == 1
    refusals = world.slack.wait_for(lambda s: len([e for u in (APPROVER, APPROVER_2) for e in world.ephemeral_texts(u)])
                                    >= 19 and True)
    assert refusals


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_two_requests_for_the_same_credit(world):
    first = world.request(invoice="10040", amount="10")
    view = world.open_picker("Atomar's Best Tackle", user=APPROVER_2)
    resp = world.submit(view, user=APPROVER_2, invoice="10031", amount="10")
    body = resp.json()
    assert body["response_action"] == "errors"
    assert f"#{first}" in body["errors"]["credit"] and "open request" in body["errors"]["credit"]
    assert len(world.bot.store.all()) == 1


def test_expired_request_cannot_be_approved(make_world):
    clock = {"now": datetime.now(UTC)}
    world = make_world(overrides={"now": lambda: clock["now"]})
    job_id = world.request(invoice="10040", amount="10")
    clock["now"] += timedelta(hours=25)
    world.approve(job_id, APPROVER)
    texts = world.slack.wait_for(lambda s: world.ephemeral_texts(APPROVER))
    assert "expired" in texts[-1]
    world.wait_state(job_id, "expired")
    assert world.payments_on("130") == []
    assert world.wait_thread(job_id, "expired")


def test_expiry_sweep_closes_old_requests(make_world):
    clock = {"now": datetime.now(UTC)}
    world = make_world(overrides={"now": lambda: clock["now"]})
    job_id = world.request(invoice="10040", amount="10")
    assert world.bot.service.expire_due() == 0
    clock["now"] += timedelta(hours=24, seconds=1)
    assert world.bot.service.expire_due() == 1
    assert world.job(job_id).state == "expired"
    parent = world.slack.wait_for(lambda s: not has_buttons(world.parent(job_id)) and world.parent(job_id))
    assert "Expired" in str(parent["blocks"])


@BOTH_TRANSPORTS  # over HTTP and over Socket Mode
def test_button_from_another_request_is_refused(world):
    first = world.request(invoice="10040", amount="10")
    # Blue Heron's credit is a different credit: a second open request is allowed.
    second = world.request("Blue Heron Marine", invoice="10050", amount="5")
    forged = world.parent(first)
    world.driver.click(APPROVER, "approve", value=str(second), source=forged)
    texts = world.slack.wait_for(lambda s: world.ephemeral_texts(APPROVER))
    assert "does not belong" in texts[-1]
    assert world.job(first).state == "awaiting_approval" and world.job(second).state == "awaiting_approval"
