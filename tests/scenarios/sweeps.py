"""Sweep helpers shared by the sweep scenarios: the hand-computed plan over the seed, proposing, waiting."""
from tests.scenarios.world import APPROVER_2, CHANNEL

# Hand-computed: Receive Payment's allocation over the seed (sandbox/seed.py).
# (client, credit number, invoice number, invoice QuickBooks id, amount)
EXPECTED = {
    ("Atomar's Best Tackle", "1039", "10031", "120", "10.00"),   # oldest invoice, not the article's 10040
    ("Blue Heron Marine", "171", "10050", "140", "25.00"),       # the unapplied $25 of payment 171
    ("Coastal Bait Co", "1051", "20001", "1001", "50.00"),       # $175 over the four oldest of 120 invoices
    ("Coastal Bait Co", "1051", "20002", "1002", "50.00"),
    ("Coastal Bait Co", "1051", "20003", "1003", "50.00"),
    ("Coastal Bait Co", "1051", "20004", "1004", "25.00"),
    ("O\u2019Malley\u2019s Marina", "1052", "10061", "160", "15.00"),
    ("<!channel> Holdings", "1053", "10071", "170", "20.00"),
    ("Pier 9 Outfitters", "1054", "10082", "181", "30.00"),      # 10081 has a pending ConnectBooster payment
}                                                                # Reel Deal Charters: already applied, excluded
BALANCES_AFTER = {"120": "75.00", "140": "35.00", "1001": "0.00", "1002": "0.00", "1003": "0.00", "1004": "25.00",
                  "1005": "50.00", "160": "60.00", "170": "30.00", "181": "15.00", "130": "120.00"}


def propose(world, user=APPROVER_2) -> dict:
    """(Proposing a sweep is for approvers; another approver approves it.)"""
    """Run `/applycredit sweep` and return the approval message."""
    assert world.driver.command(user, CHANNEL, "sweep").status == 200
    message = world.slack.wait_for(lambda s: [m for m in s.messages(CHANNEL) if m.get("text", "").startswith("Sweep #")],
                                   timeout=20)[-1]
    # Buttons are checked against the message the bot recorded: wait until the outbox has stored its ts.
    batch_id = int(message["text"].split("#", 1)[1].split()[0].rstrip(":"))
    world.slack.wait_for(lambda s: batch(world, batch_id).parent_ts == message["ts"], timeout=10)
    return message


def batch(world, batch_id=1):
    return world.bot.service.sweeps.batches.get(batch_id)


def wait_finished(world, batch_id=1, timeout=40):
    return world.slack.wait_for(lambda s: (b := batch(world, batch_id)) and b.state == "finished" and b, timeout)


def planned(world, batch_id=1) -> set:
    return {(i["client"], i["credit_number"], i["invoice_number"], i["invoice_qbo_id"], i["amount"])
            for i in batch(world, batch_id).plan}


def sync_posts(world) -> list:
    return [r for r in world.cb.requests if r["method"] == "POST" and r["path"].endswith("/syncs")]
