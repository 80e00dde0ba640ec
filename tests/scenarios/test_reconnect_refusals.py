"""`/applycredit connect` refuses what it must: non-admins, a Reconnect URL visited without a link, a forged, reused,
expired or someone else's state, a consent refused on Intuit's page, another company. Each refusal changes
nothing and the waiting jobs keep waiting. The bot's pages are driven through its own WSGI app (Bot.wsgi)."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.test import Client

from data.events import EventKind
from tests.clock import FakeClock
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, REQUESTER

WAITING = "awaiting_quickbooks_reconnect"


def link(world, user: str = APPROVER) -> str:
    answer = world.driver.command(user, CHANNEL, "connect").json()
    found = re.search(r"<(http[^|>]+)\|Reconnect QuickBooks>", answer["text"])
    assert found, answer["text"]
    return found.group(1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def consent_redirect(world, web: Client, url: str) -> str:
    """The bot's Reconnect URL -> Intuit's consent page -> where Intuit sends the browser (not followed)."""
    landing = web.get(path_of(url))
    assert landing.status_code == 302
    return requests.get(landing.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]


def waiting_job(world) -> int:
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.oauth.disconnect()
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, WAITING)
    return job_id


def exchanges(world) -> int:
    return [t["grant_type"] for t in world.qbo.token_requests].count("authorization_code")


def test_only_admins_get_a_link_and_admin_ids_narrows_it(make_world):
    world = make_world(settings={"admin_ids": (APPROVER_2,)})
    for user in (REQUESTER, APPROVER):  # APPROVER approves, but ADMIN_IDS names someone else
        answer = world.driver.command(user, CHANNEL, "connect").json()
        assert answer["response_type"] == "ephemeral" and "Only admins" in answer["text"] and "state=" not in answer["text"]
    assert link(world, APPROVER_2).startswith("http://127.0.0.1:0/quickbooks/connect?state=")
    kinds = [(e.kind, e.actor) for e in world.bot.store.events() if e.job_id is None]
    assert (EventKind.QUICKBOOKS_CONNECT_REFUSED, REQUESTER) in kinds and (EventKind.QUICKBOOKS_CONNECT_REFUSED, APPROVER) in kinds
    assert (EventKind.QUICKBOOKS_CONNECT_LINK, APPROVER_2) in kinds


def test_the_reconnect_url_starts_nothing_without_a_valid_link(world):
    web = Client(world.bot.wsgi())
    bare = web.get("/quickbooks/connect")  # what Intuit's portal links to as the app's Reconnect URL
    assert bare.status_code == 200 and "Location" not in bare.headers and "/applycredit connect" in bare.text
    assert bare.headers["Cache-Control"] == "no-store" and bare.headers["Referrer-Policy"] == "no-referrer"
    assert web.get("/quickbooks/connect?state=made.up").status_code == 400
    assert web.post("/quickbooks/connect").status_code == 405 and web.put("/quickbooks/callback").status_code == 405
    assert web.get("/quickbooks/callback").status_code == 400  # no answer from Intuit in it
    url = link(world)
    landing = web.get(path_of(url))
    state = parse_qs(urlsplit(url).query)["state"][0]
    assert landing.status_code == 302 and landing.headers["Location"].startswith(world.qbo.base_url + "/connect/oauth2?")
    assert parse_qs(urlsplit(landing.headers["Location"]).query)["state"] == [state]
    assert exchanges(world) == 0


def test_a_forged_reused_or_expired_state_exchanges_nothing(make_world):
    clock = FakeClock(start=time.time())
    world = make_world(overrides={"token_clock": clock})
    job_id = waiting_job(world)
    web = Client(world.bot.wsgi())
    redirected = consent_redirect(world, web, link(world))
    query = urlsplit(redirected).query
    forged = re.sub(r"state=[^&]+", "state=AAAA.BBBB", query)
    assert web.get(f"/quickbooks/callback?{forged}").status_code == 400
    clock.advance(601)  # links last ten minutes
    expired = web.get(f"/quickbooks/callback?{query}")
    assert expired.status_code == 400 and "expired" in expired.text
    assert exchanges(world) == 0 and world.job(job_id).state == WAITING
    fresh = consent_redirect(world, web, link(world))
    assert web.get(path_of(fresh)).status_code == 200
    assert web.get(path_of(fresh)).status_code == 400  # the same redirect again: used up
    assert exchanges(world) == 1
    assert world.wait_state(job_id, "verified", timeout=20)


def test_a_refused_consent_or_another_company_changes_nothing_and_jobs_keep_waiting(world):
    job_id = waiting_job(world)
    web = Client(world.bot.wsgi())
    world.qbo.oauth.deny_consent = True  # the admin chose Cancel on Intuit's page
    denied = web.get(path_of(consent_redirect(world, web, link(world))))
    assert denied.status_code == 400 and "not granted" in denied.text
    world.qbo.oauth.deny_consent = False
    state = parse_qs(urlsplit(link(world)).query)["state"][0]
    code = world.qbo.oauth.issue_code("http://127.0.0.1:0/quickbooks/callback")
    other = web.get(f"/quickbooks/callback?code={code}&state={state}&realmId=4620816365000000001")
    assert other.status_code == 400 and "company 4620816365000000001" in other.text
    assert exchanges(world) == 0 and world.job(job_id).state == WAITING
    refusals = [e.details["code"] for e in world.bot.store.events() if e.kind == EventKind.QUICKBOOKS_CONNECT_REFUSED]
    assert refusals == ["access_denied", "other_company"]


def test_a_pasted_redirect_is_accepted_only_from_the_admin_it_was_made_for(make_world):
    world = make_world(settings={"qbo_redirect_uri": "https://applycredit.example.com/oauth"})  # not served: paste
    job_id = waiting_job(world)
    world.driver.command(APPROVER, CHANNEL, "connect")
    mine = world.slack.wait_for(lambda s: [v for v in s.views(APPROVER)["modals"] if v["callback_id"] == "qbo_connect"])[-1]
    consent = re.search(r"<(http[^|>]+)\|Open Intuit's consent page>", str(mine["blocks"])).group(1)
    redirected = requests.get(consent, allow_redirects=False, timeout=10).headers["Location"]
    world.driver.command(APPROVER_2, CHANNEL, "connect")
    theirs = world.slack.wait_for(lambda s: s.views(APPROVER_2)["modals"])[-1]
    pasted = {"redirect_url": {"url": {"type": "plain_text_input", "value": redirected}}}
    refused = world.driver.submit_view(APPROVER_2, theirs, pasted).json()  # APPROVER's redirect in APPROVER_2's modal
    assert refused["response_action"] == "update" and "not valid" in str(refused["view"]["blocks"])
    assert exchanges(world) == 0 and world.job(job_id).state == WAITING
    accepted = world.driver.submit_view(APPROVER, mine, pasted).json()
    assert accepted["response_action"] == "update"
    assert world.wait_state(job_id, "verified", timeout=20)
