"""Tampered and replayed interactive payloads, forged requests, and who may decide: each refused, nothing written."""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest

from tests.reliability.harness import bot_payments, new_request
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER

OMALLEY = "O\u2019Malley\u2019s Marina"


def ephemeral_after(world, user, before):
    return world.slack.wait_for(lambda s: len(s.ephemerals(user)) > before and s.ephemerals(user)[-1]["text"], 5)


def click(world, job_id, action, user, **kw):
    before = len(world.slack.ephemerals(user))
    world.driver.click(user, action, source=world.parent(job_id), **kw)
    return ephemeral_after(world, user, before)


def other_job(world):
    return new_request(world, OMALLEY, invoice="10061", amount="15")


def approved(world, job_id):
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "verified", timeout=15)


def after_decision(world, job_id, action, user):
    """Click a button of the approval message as it was before the decision (a stale or replayed payload)."""
    old = world.parent(job_id)
    approved(world, job_id)
    before = len(world.slack.ephemerals(user))
    world.driver.click(user, action, source=old)
    return ephemeral_after(world, user, before)


def _replay_signed(world, job_id):
    old = world.parent(job_id)
    approved(world, job_id)
    before = len(world.slack.ephemerals(APPROVER_2))
    sent = world.driver.click(APPROVER_2, "approve", source=old)
    ts = int(time.time())
    world.driver.post_raw(sent.body, {"Content-Type": "application/x-www-form-urlencoded",
                                      **world.driver.sign(sent.body, ts)})
    ephemeral_after(world, APPROVER_2, before)
    return world.slack.wait_for(lambda s: len(s.ephemerals(APPROVER_2)) > before + 1
                                and s.ephemerals(APPROVER_2)[-1]["text"], 5)


def _retry_outsider(world, job_id):
    approved(world, job_id)
    job = world.job(job_id)
    before = len(world.slack.ephemerals(OUTSIDER))
    world.driver.click(OUTSIDER, "job_retry", value=str(job_id), source=world.parent(job_id), element_type="button")
    return ephemeral_after(world, OUTSIDER, before) and job and world.slack.ephemerals(OUTSIDER)[-1]["text"]


def _own_request(world, _job_id):
    mine = new_request(world, OMALLEY, user=APPROVER, invoice="10061", amount="15")
    return click(world, mine, "approve", APPROVER)


# name -> (action(world, job_id) -> refusal text, expected fragment)
CASES = {
    "approve value = another job": (lambda w, j: click(w, j, "approve", APPROVER, value=str(other_job(w))),
                                    "does not belong"),
    "approve value = '1 OR 1=1'": (lambda w, j: click(w, j, "approve", APPROVER, value="1 OR 1=1"), "not valid"),
    "approve value = '-1'": (lambda w, j: click(w, j, "approve", APPROVER, value="-1"), "not valid"),
    "approve value = unknown job 999999": (lambda w, j: click(w, j, "approve", APPROVER, value="999999"),
                                           "does not belong"),
    "approve sent from another channel": (lambda w, j: click(w, j, "approve", APPROVER, channel="C0OTHER"),
                                          "does not belong"),
    "approve replayed after the decision": (lambda w, j: after_decision(w, j, "approve", APPROVER_2),
                                            "already decided"),
    "reject after the approval": (lambda w, j: after_decision(w, j, "reject", APPROVER_2), "already decided"),
    "identical signed request re-sent": (_replay_signed, "already decided"),
    "retry on a job with nothing to retry": (lambda w, j: (approved(w, j), click(
        w, j, "job_retry", APPROVER, value=str(j), element_type="button"))[1], "nothing to retry"),
    "retry by someone else": (_retry_outsider, "Only approvers or the requester"),
    "approve by a non-approver": (lambda w, j: click(w, j, "approve", OUTSIDER), "Only approvers"),
    "requester who is an approver approves own request": (_own_request, "a colleague has to approve"),
}


@pytest.mark.parametrize("case", list(CASES), ids=[f"tamper{i:02d}" for i in range(len(CASES))])
def test_tampered_or_replayed_clicks(world, figures, case):
    action, expected = CASES[case]
    job_id = new_request(world, invoice="10040", amount="10")
    refusal = action(world, job_id)
    assert expected in refusal, refusal
    per_invoice = bot_payments(world.qbo.ledger)
    decided = world.job(job_id).state == "verified"
    assert len(per_invoice) == (1 if decided else 0)  # only a real approval ever wrote, and only once
    figures.record("hostile: tampered clicks", case, times=1, jobs=int(decided), payments=len(per_invoice),
                   duplicates=max(0, len(per_invoice) - 1), lost=0, outcome=refusal[:60])


def _option(view, block, value):
    return next(o for o in next(b for b in view["blocks"] if b.get("block_id") == block)["element"]["options"]
                if o["value"] == value)


def forged_submissions(world):
    """(name, user, view, values, expected field, fragment) built from two real pickers."""
    om = world.open_picker(OMALLEY)
    om_credit = next(b for b in om["blocks"] if b.get("block_id") == "credit")["element"]["options"][0]
    om_invoice = next(b for b in om["blocks"] if b.get("block_id") == "invoice")["element"]["options"][0]
    world.slack.close_view(REQUESTER, om["id"])
    view = world.open_picker("Atomar's Best Tackle")
    forged = dict(view, private_metadata="forged-draft-id")
    return [
        ("another client's credit", REQUESTER, view,
         {"credit": {"credit": {"type": "static_select", "selected_option": om_credit}}}, "credit", "this client's credits"),
        ("another customer's invoice", REQUESTER, view,
         {"invoice": {"invoice": {"type": "static_select", "selected_option": om_invoice}}}, "invoice",
         "this client's open invoices"),
        ("someone else's form", OUTSIDER, view, {}, "credit", "form expired"),
        ("forged private_metadata", REQUESTER, forged, {}, "credit", "form expired"),
    ]


def test_tampered_view_submissions(world, figures):
    for name, user, view, values, field, fragment in forged_submissions(world):
        resp = world.driver.submit_view(user, view, {"amount": {"amount": {"type": "plain_text_input", "value": "5"}},
                                                      **values}, apply=False)
        body = resp.json()
        assert body["response_action"] == "errors" and fragment in body["errors"][field], (name, body)
        figures.record("hostile: tampered submissions", name, times=1, jobs=0, payments=0, duplicates=0, lost=0,
                       outcome=body["errors"][field][:60])
    assert world.bot.store.all() == [] and bot_payments(world.qbo.ledger) == []


def test_choosing_a_client_that_was_not_offered(world, figures):
    world.driver.command(REQUESTER, CHANNEL, "Atomar")
    view = world.slack.wait_for(lambda s: (m := s.views(REQUESTER)["modals"]) and "choose_client" in str(m[-1])
                                 and m[-1], timeout=10)
    world.driver.click(REQUESTER, "choose_client", source=view, selected_option={
        "text": {"type": "plain_text", "text": "x"}, "value": "505"})
    shown = world.slack.wait_for(lambda s: "not valid any more" in str(s.view(view["id"])), timeout=5)
    assert shown and world.bot.store.all() == []
    figures.record("hostile: tampered submissions", "choose_client with an organization not offered", times=1,
                   jobs=0, payments=0, duplicates=0, lost=0, outcome="That choice is not valid any more")


def _sign(secret: str, ts: int, body: str) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


def signature_cases(secret: str):
    body = urlencode({"command": "/applycredit", "text": "Atomar's Best Tackle", "user_id": REQUESTER,
                      "channel_id": CHANNEL, "trigger_id": "x", "team_id": "T0SANDBOX"})
    now = int(time.time())
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return {
        "no signature headers": (body, form),
        "signature missing": (body, {**form, "X-Slack-Request-Timestamp": str(now)}),
        "timestamp missing": (body, {**form, "X-Slack-Signature": _sign(secret, now, body)}),
        "bad signature": (body, {**form, "X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=" + "0" * 64}),
        "signed with another secret": (body, {**form, "X-Slack-Request-Timestamp": str(now),
                                              "X-Slack-Signature": _sign("not-the-secret", now, body)}),
        "timestamp 10 minutes old": (body, {**form, "X-Slack-Request-Timestamp": str(now - 600),
                                            "X-Slack-Signature": _sign(secret, now - 600, body)}),
        "timestamp 10 minutes ahead": (body, {**form, "X-Slack-Request-Timestamp": str(now + 600),
                                              "X-Slack-Signature": _sign(secret, now + 600, body)}),
        "body changed after signing": (body.replace("Atomar", "Blue+Heron"), {
            **form, "X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": _sign(secret, now, body)}),
        "v1 signature scheme": (body, {**form, "X-Slack-Request-Timestamp": str(now),
                                       "X-Slack-Signature": _sign(secret, now, body).replace("v0=", "v1=")}),
    }


def test_forged_requests_are_refused(world, figures):
    for name, (body, headers) in signature_cases(world.settings.slack_signing_secret).items():
        resp = world.driver.post_raw(body, headers)
        assert resp.status == 401, (name, resp.status)
        figures.record("hostile: forged requests", name, times=1, jobs=0, payments=0, duplicates=0, lost=0,
                       outcome=f"HTTP {resp.status}")
    assert world.slack.views(REQUESTER)["modals"] == [] and world.slack.calls_to("views.open") == []
