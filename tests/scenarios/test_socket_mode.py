"""Socket Mode (real-world.md §3): Slack's `disconnect` (refresh_requested) in the middle of a request loses nothing."""
import pytest

from tests.scenarios.world import APPROVER, NOTIFY


@pytest.mark.parametrize("world", ["socket"], indirect=True)
def test_a_disconnect_mid_flow_loses_nothing(world):
    job_id = world.request(invoice="10040", amount="10")
    connections = len(world.slack.calls_to("apps.connections.open"))
    world.slack.socket.disconnect(reason="refresh_requested")  # slack-sdk opens a new socket, then closes the old
    resp = world.approve(job_id, APPROVER)  # delivered over whichever socket is up
    assert resp.status == 200
    world.wait_state(job_id, "verified", timeout=20)
    assert len(world.payments_on("130")) == 1 and world.invoice_balance("130") == 110
    assert len(world.slack.calls_to("apps.connections.open")) > connections  # it did reconnect
    assert world.slack.wait_for(lambda s: [m for m in s.messages(NOTIFY) if f"#{job_id}" in m.get("text", "")
                                           or "Credit applied" in m.get("text", "")], timeout=10)
