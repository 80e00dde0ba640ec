"""QuickBooks disconnected (Intuit's disconnect: invalid_grant): jobs wait, one notice says so, an admin runs
`/applycredit connect`, and the jobs resume by themselves, over HTTP (the bot serves the Reconnect URL and the
OAuth callback) and in Socket Mode (the admin pastes the redirected address into a modal)."""
from __future__ import annotations

import re

import pytest
import requests

from data.db import Connections
from data.events import EventKind
from data.tokens import open_tokens
from integrations.quickbooks_connect import connect_quickbooks
from sandbox.run import REALM_ID
from tests.scenarios.test_home import open_home
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, NOTIFY, REQUESTER

WAITING = "awaiting_quickbooks_reconnect"


def disconnect_with_two_jobs_waiting(world) -> tuple[int, int]:
    first = world.request(invoice="10040", amount="10")
    second = world.request("Blue Heron Marine", invoice="10050", amount="5")
    world.qbo.oauth.disconnect()  # the company disconnected the app from QuickBooks' Apps page
    world.approve(first, APPROVER)
    world.approve(second, APPROVER)
    for job_id in (first, second):
        job = world.wait_state(job_id, WAITING)
        assert job.resume_state == "approved" and "invalid_grant" in job.error
        world.wait_thread(job_id, "Waiting for QuickBooks")
    return first, second


def notices(world, fragment: str) -> list[str]:
    return [m["text"] for m in world.slack.messages(NOTIFY) if fragment in m.get("text", "")]


def assert_one_lapse_notice_and_nothing_written(world) -> None:
    world.slack.wait_for(lambda s: notices(world, "QuickBooks is disconnected"))
    assert world.bot.runner.wait_idle()
    world.slack.wait_for(lambda s: world.bot.outbox.pending_count() == 0)  # everything queued was delivered
    assert len(notices(world, "QuickBooks is disconnected")) == 1  # one clear message, not one per job
    assert [e.kind for e in world.bot.store.events() if e.kind == EventKind.QUICKBOOKS_LAPSED] == ["quickbooks_connection_lapsed"]
    assert "/applycredit connect" in notices(world, "QuickBooks is disconnected")[0]
    assert world.payments_on("130") == [] and world.payments_on("140") == []


def assert_resumed_and_done(world, jobs: tuple[int, int], admin: str) -> None:
    for job_id in jobs:
        assert world.wait_state(job_id, "verified", timeout=20)
        assert any("connected again" in t for t in world.thread(job_id))
    assert len(world.payments_on("130")) == 1 and len(world.payments_on("140")) == 1  # each written once
    text = world.slack.wait_for(lambda s: notices(world, "connected again"))[0]
    assert f"<@{admin}>" in text and "2 waiting jobs resumed" in text
    assert "disconnected" not in str(open_home(world, APPROVER_2)["blocks"][:3])  # the banner is gone


@pytest.mark.parametrize("world", ["http"], indirect=True)
def test_reconnect_over_http_resumes_the_waiting_jobs(world):
    jobs = disconnect_with_two_jobs_waiting(world)
    assert_one_lapse_notice_and_nothing_written(world)
    banner = str(open_home(world, APPROVER_2)["blocks"][:3])
    assert "QuickBooks is disconnected" in banner and "2 jobs wait" in banner
    assert "disconnected" not in str(open_home(world, REQUESTER)["blocks"][:3])  # the banner is for approvers

    refused = world.driver.command(REQUESTER, CHANNEL, "connect").json()  # not an admin
    assert "Only admins" in refused["text"] and "http" not in refused["text"]
    answer = world.driver.command(APPROVER, CHANNEL, "connect").json()
    assert answer["response_type"] == "ephemeral"
    link = re.search(r"<(http[^|>]+)\|Reconnect QuickBooks>", answer["text"]).group(1)
    assert link.startswith(f"http://127.0.0.1:{world.port}/quickbooks/connect?state=")

    browser = requests.get(link, timeout=10)  # the bot -> Intuit's consent (auto) -> the bot's callback
    assert browser.status_code == 200 and "QuickBooks is connected" in browser.text
    assert [r.url.split("?")[0] for r in browser.history] == [link.split("?")[0], world.qbo.base_url + "/connect/oauth2"]
    assert_resumed_and_done(world, jobs, APPROVER)

    again = requests.get(browser.url, timeout=10)  # a reload of the callback: the state was used up
    assert again.status_code == 400 and "not valid" in again.text
    assert [t["grant_type"] for t in world.qbo.token_requests].count("authorization_code") == 1
    assert requests.get(link, allow_redirects=False, timeout=10).status_code == 400  # the link too


@pytest.mark.parametrize("world", ["socket"], indirect=True)
def test_reconnect_in_socket_mode_by_pasting_the_redirected_address(world):
    jobs = disconnect_with_two_jobs_waiting(world)
    assert_one_lapse_notice_and_nothing_written(world)

    assert world.driver.command(APPROVER, CHANNEL, "connect").status == 200
    modal = world.slack.wait_for(lambda s: [v for v in s.views(APPROVER)["modals"] if v["callback_id"] == "qbo_connect"])[-1]
    consent = re.search(r"<(http[^|>]+)\|Open Intuit's consent page>", str(modal["blocks"])).group(1)
    assert consent.startswith(world.qbo.base_url + "/connect/oauth2?")
    redirected = requests.get(consent, allow_redirects=False, timeout=10).headers["Location"]  # the address bar

    def paste(text: str, user: str = APPROVER):
        return world.driver.submit_view(user, modal, {"redirect_url": {"url": {"type": "plain_text_input", "value": text}}})

    wrong = paste(consent).json()  # the consent page's address, not the redirect: paste again
    assert wrong["response_action"] == "errors" and "no code and state" in wrong["errors"]["redirect_url"]
    assert world.job(jobs[0]).state == WAITING
    done = paste(f"  {redirected}\n").json()
    assert done["response_action"] == "update" and "Exchanging" in str(done["view"]["blocks"])
    told = world.slack.wait_for(lambda s: [m["text"] for m in s.messages(f"D{APPROVER[1:]}") if "is connected" in m["text"]])
    assert told == [f":white_check_mark: QuickBooks company {REALM_ID} is connected; 2 waiting jobs resumed."]
    assert_resumed_and_done(world, jobs, APPROVER)


def test_a_reconnect_on_the_command_line_resumes_the_jobs_at_the_next_check(world):
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.oauth.disconnect()
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, WAITING)
    printed: list[str] = []

    def browser(prompt: str) -> str:  # the admin at the shell opens the printed URL and pastes where it led
        consent = re.search(r"https?://\S+", printed[0]).group(0)
        return requests.get(consent, allow_redirects=False, timeout=10).headers["Location"]

    store = open_tokens(Connections(world.settings.database_path), world.settings)  # another process, same key
    assert connect_quickbooks(world.settings, store, paste=True, out=printed.append, input_fn=browser) == REALM_ID
    assert world.job(job_id).state == WAITING  # the running bot learns of it at its hourly check
    world.bot.connection.check()
    assert world.wait_state(job_id, "verified", timeout=20) and len(world.payments_on("130")) == 1
    assert "on the command line" in world.slack.wait_for(lambda s: notices(world, "connected again"))[0]
