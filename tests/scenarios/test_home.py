"""The App Home tab: what an approver and a requester see, and Slack's retried events handled once."""
from tests.scenarios.world import APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER, mrkdwn_texts


def open_home(world, user: str, **kw) -> dict:
    before = len(world.slack.calls_to("views.publish"))
    resp = world.driver.app_home_opened(user, **kw)
    assert resp.status == 200, resp.text
    world.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > before)
    return world.slack.views(user)["home"]


def sections(home: dict) -> list[str]:
    return [b["text"]["text"] for b in home["blocks"] if b["type"] == "section"]


def listed(home: dict, title: str) -> list[str]:
    """The rows under one heading (up to the next heading)."""
    texts = sections(home)
    start = next(i for i, t in enumerate(texts) if t.startswith(f"*{title}*"))
    rows = []
    for t in texts[start + 1:]:
        if not t.startswith("*#"):
            break
        rows.append(t)
    return rows


def test_home_for_an_approver_and_for_the_requester(world):
    waiting = world.request("channel> Holdings", invoice="10071", amount="20")       # stays awaiting approval
    done = world.request(invoice="10040", amount="10")
    world.approve(done, APPROVER)
    world.wait_state(done, "verified", timeout=15)
    own = world.request("O'Malley", invoice="10061", amount="15", user=APPROVER)  # an approver's own request
    parent_ts = world.job(waiting).parent_ts

    home = open_home(world, APPROVER)
    rows = listed(home, "Waiting for your approval")
    assert len(rows) == 1 and rows[0].startswith(f"*#{waiting}* · *&lt;!channel&gt; Holdings* · $20.00 to invoice 10071")
    assert f"requested by <@{REQUESTER}>" in rows[0] and f"/archives/{CHANNEL}/p{parent_ts.replace('.', '')}|" in rows[0]
    assert [r.split(" ·")[0] for r in listed(home, "Your requests")] == [f"*#{own}*"]  # not under "waiting"
    assert [r.split(" ·")[0] for r in listed(home, "Recently completed")] == [f"*#{done}*"]
    assert "Done — applied and synced" in listed(home, "Recently completed")[0]
    assert not any("<!channel>" in t for t in mrkdwn_texts(home["blocks"]))

    mine = open_home(world, REQUESTER)
    assert not any(t.startswith("*Waiting for your approval*") for t in sections(mine))  # not an approver
    assert [r.split(" ·")[0] for r in listed(mine, "Your requests")] == [f"*#{done}*", f"*#{waiting}*"]
    assert "Awaiting approval" in listed(mine, "Your requests")[1]

    other = open_home(world, APPROVER_2)  # another approver sees the approver's own request as waiting
    assert sorted(r.split(" ·")[0] for r in listed(other, "Waiting for your approval")) == \
        sorted([f"*#{waiting}*", f"*#{own}*"])


def test_needs_attention_is_listed_for_approvers_and_the_requester_only(world):
    job_id = world.request(invoice="10040", amount="10")
    world.qbo.ledger.close_books(through="2099-12-31")  # closed after the request: the picker would not offer it
    world.approve(job_id, APPROVER)
    world.wait_state(job_id, "needs_attention", timeout=15)
    for user in (APPROVER_2, REQUESTER):
        rows = listed(open_home(world, user), "Needs attention")
        assert len(rows) == 1 and rows[0].startswith(f"*#{job_id}* · *Atomar's Best Tackle*")
        assert "accounting period is closed" in rows[0]
    # Someone else's trouble is not shown to a user who is neither an approver nor its requester.
    outsider = sections(open_home(world, OUTSIDER))
    assert not any(f"*#{job_id}*" in t for t in outsider)
    assert not any("Atomar" in t for t in outsider)


def test_a_retried_event_is_processed_once(world):
    open_home(world, REQUESTER, event_id="Ev0HOME1")
    for retry in (1, 2):  # Slack redelivers the same event_id with X-Slack-Retry-Num
        assert world.driver.app_home_opened(REQUESTER, event_id="Ev0HOME1", retry_num=retry).status == 200
    open_home(world, REQUESTER, event_id="Ev0HOME2")  # a new opening is handled
    publishes = world.slack.calls_to("views.publish")
    assert [c["args"]["user_id"] for c in publishes] == [REQUESTER, REQUESTER]
    seen = world.bot.connections.get().execute("SELECT event_id FROM seen_events ORDER BY event_id").fetchall()
    assert [r[0] for r in seen] == ["Ev0HOME1", "Ev0HOME2"]


def test_unsigned_event_is_refused(world):
    assert world.driver.app_home_opened(REQUESTER, signature="v0=" + "0" * 64).status == 401
    assert world.slack.calls_to("views.publish") == []
