"""Guided ConnectBooster mode's listeners in-process: refusals of the step buttons and of the
"Shows something else" question, the command's guided variants, and their failure answers."""
from __future__ import annotations

import pytest

from tests.scenarios.world import APPROVER, CHANNEL, OUTSIDER, REQUESTER

GUIDED = {"connectbooster_mode": "guided", "connectbooster_portal_url": "https://acme.connectboosterportal.com"}


@pytest.fixture
def guided(make_world):
    return make_world(settings=GUIDED)


def step(w, job_id: int, action_id: str) -> dict:
    """The latest message of the job's thread offering `action_id`."""
    parent_ts = w.job(job_id).parent_ts
    return w.slack.wait_for(lambda s: next((m for m in reversed(s.thread(CHANNEL, parent_ts))
                                            if action_id in str(m.get("blocks"))), None), timeout=10)


def approved(w) -> int:
    job_id = w.request(invoice="10040", amount="10")
    assert w.approve(job_id, APPROVER).status == 200
    w.wait_state(job_id, "guided_resync", timeout=15)
    return job_id


def modal(w, user: str, callback_id: str) -> dict:
    return w.slack.wait_for(lambda s: next((v for v in s.views(user)["modals"] if v.get("callback_id") == callback_id),
                                           None))


@pytest.mark.parametrize("action_id", ["guided_resynced", "guided_mismatch"])
def test_an_outsider_cannot_answer_a_step(guided, told, unchanged, action_id):
    job_id = approved(guided)
    with unchanged(guided, job_id):
        eph = told(guided, OUTSIDER, lambda: guided.driver.click(OUTSIDER, action_id,
                                                                 source=step(guided, job_id, action_id)))
    assert eph["text"].startswith("Only the requester or an approver can confirm a ConnectBooster step")
    assert eph["thread_ts"] == guided.job(job_id).parent_ts  # answered in the checklist's thread
    assert modal_count(guided, OUTSIDER) == 0


def modal_count(w, user: str) -> int:
    return len(w.slack.views(user)["modals"])


def test_a_step_button_from_another_checklist_is_refused(guided, told, unchanged):
    job_id = approved(guided)
    other = guided.request("Blue Heron Marine", invoice="10050", amount="5")
    assert guided.approve(other, APPROVER).ok
    guided.wait_state(other, "guided_resync", timeout=15)
    with unchanged(guided, job_id):  # job_id's answer, clicked in the other job's thread
        eph = told(guided, REQUESTER, lambda: guided.driver.click(
            REQUESTER, "guided_resynced", value=str(job_id), source=step(guided, other, "guided_resynced")))
    assert eph["text"] == "That button does not belong to this checklist; nothing was changed."
    assert guided.job(other).state == "guided_resync"


def test_an_answer_after_the_step_moved_on_is_refused_in_the_modal(guided):
    job_id = approved(guided)
    assert guided.driver.click(REQUESTER, "guided_mismatch", source=step(guided, job_id, "guided_mismatch")).ok
    question = modal(guided, REQUESTER, "guided_mismatch")
    assert guided.driver.click(REQUESTER, "guided_resynced", source=step(guided, job_id, "guided_resynced")).ok
    guided.wait_state(job_id, "guided_sync")
    resp = guided.driver.submit_view(REQUESTER, question, {"shown": {"shown": {"type": "plain_text_input",
                                                                                "value": "$120.00 of $120.00"}}})
    body = resp.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["shown"]
    assert len(body["errors"]["shown"]) <= 150
    assert [e for e in guided.bot.store.events(job_id) if e.kind == "guided_mismatch"] == []


def test_the_question_is_not_asked_once_the_step_is_done(guided, told):
    job_id = approved(guided)
    old = step(guided, job_id, "guided_mismatch")
    assert guided.driver.click(REQUESTER, "guided_resynced", source=step(guided, job_id, "guided_resynced")).ok
    guided.wait_state(job_id, "guided_sync")
    eph = told(guided, REQUESTER, lambda: guided.driver.click(REQUESTER, "guided_mismatch", source=old))
    assert eph["text"] == ("That button belongs to an earlier step; the checklist is at step 2 (run the sync). "
                           "Nothing was changed.")
    assert [c for c in guided.slack.calls_to("views.open") if "guided_mismatch" in str(c["args"])] == []


def test_the_sweep_in_guided_mode_answers_at_once_with_the_same_rules(guided):
    """Proposing is for approvers, as in API mode; an approver's proposal is acknowledged before any read."""
    resp = guided.driver.command(REQUESTER, CHANNEL, "sweep")
    assert resp.status == 200 and resp.json()["text"].startswith("Only approvers can propose a sweep")
    resp = guided.driver.command(APPROVER, CHANNEL, "sweep")
    assert resp.status == 200 and "Planning the sweep" in resp.json()["text"]
    guided.slack.wait_for(lambda s: any(m.get("text", "").startswith("Sweep #1") for m in s.messages(CHANNEL)))
    assert guided.slack.calls_to("views.open") == []
    assert [r for r in guided.cb.requests if not r["path"].startswith("/_emulator")] == []


def test_an_ambiguous_name_offers_a_choice_then_the_guided_picker(guided):
    assert guided.driver.command(REQUESTER, CHANNEL, "Atomar").status == 200
    choice = modal(guided, REQUESTER, "applycredit_info")
    choice = guided.slack.wait_for(lambda s: "clients match" in str(s.view(choice["id"])["blocks"])
                                   and s.view(choice["id"]))
    names = {o["text"]["text"]: o["value"] for b in choice["blocks"] if b.get("block_id") == "choose_client"
             for o in b["elements"][0]["options"]}
    assert set(names) == {"Atomar's Best Tackle", "Atomar's Bait Shop"}
    # Someone else's click on this modal's menu is not valid (the draft is the requester's).
    assert guided.driver.click(APPROVER, "choose_client", value=names["Atomar's Best Tackle"], source=choice).ok
    guided.slack.wait_for(lambda s: "not valid any more" in str(s.view(choice["id"])["blocks"]))
    guided.slack.views(REQUESTER)  # the requester picks again on a fresh modal
    assert guided.driver.command(REQUESTER, CHANNEL, "Atomar").status == 200
    fresh = guided.slack.wait_for(lambda s: next((v for v in s.views(REQUESTER)["modals"]
                                                  if "clients match" in str(v.get("blocks"))), None))
    assert guided.driver.click(REQUESTER, "choose_client", value=names["Atomar's Best Tackle"], source=fresh).ok
    picker = guided.slack.wait_for(lambda s: "Apply a credit" in str(s.view(fresh["id"])["blocks"])
                                   and s.view(fresh["id"]))
    assert "10040" in str(picker["blocks"]) and picker["callback_id"] == "applycredit_request"


def test_quickbooks_down_during_the_lookup_says_so(guided):
    guided.qbo.faults.inject("503", times=50)
    assert guided.driver.command(REQUESTER, CHANNEL, "Atomar's Best Tackle").status == 200
    shown = guided.slack.wait_for(lambda s: next((v for v in s.views(REQUESTER)["modals"]
                                                  if "Looking up" not in str(v.get("blocks"))), None), timeout=10)
    text = str(shown["blocks"])
    assert "couldn't read from QuickBooks just now" in text and "Nothing was changed" in text
    assert guided.bot.store.all() == []


def test_an_inbox_page_from_someone_elses_inbox_is_refused(guided):
    assert guided.driver.command(REQUESTER, CHANNEL, "").status == 200
    inbox = guided.slack.wait_for(lambda s: next((v for v in s.views(REQUESTER)["modals"]
                                                  if "unapplied in QuickBooks" in str(v.get("blocks"))), None))
    draft = inbox["private_metadata"]
    assert guided.driver.click(REQUESTER, "inbox_page_prev", value=f"{draft}|0", source=inbox,
                               element_type="button", block_id="pages").ok
    guided.slack.wait_for(lambda s: s.calls_to("views.update")[-1]["args"]["view_id"] == inbox["id"]
                          and "unapplied in QuickBooks" in str(s.view(inbox["id"])["blocks"]))
    assert guided.driver.click(APPROVER, "inbox_page_next", value=f"{draft}|1", source=inbox,
                               element_type="button", block_id="pages").ok
    guided.slack.wait_for(lambda s: "This inbox is not valid any more" in str(s.view(inbox["id"])["blocks"]))
