"""Texts are capped at Slack's limits after escaping, never cutting an entity, a <…> construct or an emoji."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest

from data.jobs import Job
from messages.blocks.alerts import alert
from messages.blocks.common import (
    button,
    confirm_dialog,
    fields_section,
    header,
    kind_label,
    option,
    plain,
)
from messages.blocks.job import parent_message
from sandbox.fake_slack import validate_blocks
from tests.unit.blockkit import limit_errors, message_errors
from workflow.text import cap, esc

THUMB = "\U0001F44D\U0001F3FD"           # thumbs up + skin tone: two code points, one emoji
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
FLAG = "\U0001F1FA\U0001F1F8"


def test_escaping_comes_before_the_cap():
    """500 '&' become 2,500 characters escaped: the cap counts those, not the 500 typed."""
    out = esc("&" * 500, 2000)
    assert len(out) <= 2000 and out.endswith("&amp;…") and out.count("&amp;") == (2000 - 1) // 5


@pytest.mark.parametrize("text, limit", [
    ("a&b" * 50, 10), ("<" * 100, 7), ("x" + ">" * 100, 12), ("&amp;" * 3, 9),
])
def test_never_half_an_entity(text, limit):
    for n in range(2, limit + 1):
        out = esc(text, n)
        body = out.removesuffix("…")
        assert len(out) <= n
        assert body.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


@pytest.mark.parametrize("unit", [THUMB, FAMILY, FLAG, "e\u0301", "\u2764\ufe0f"])
def test_never_half_an_emoji(unit):
    text = unit * 50
    for n in range(2, 40):
        out = cap(text, n)
        body = out.removesuffix("…")
        assert len(out) <= n and len(body) % len(unit) == 0 and body == unit * (len(body) // len(unit))


def test_our_own_mentions_and_dates_are_whole_or_absent():
    text = "x" * 20 + "<!date^1796064937^{date_short_pretty} at {time}|Mon 30 Nov 2026, 12:55 CST>"
    assert cap(text, 40) == "x" * 20 + "…"
    assert cap("hi <@U0APPROVE> there", 10) == "hi …"


def test_short_text_is_untouched_and_zero_limit_is_empty():
    assert cap("abc", 3) == "abc" and cap("abcd", 0) == ""


def test_plain_text_is_capped_but_not_escaped():
    assert plain("<!channel> & co", 75)["text"] == "<!channel> & co"
    assert len(plain("&" * 500, 75)["text"]) == 75
    assert plain("", 10)["text"] == " "  # Slack refuses an empty text


def test_each_piece_has_its_documented_limit():
    long = "&" * 3000
    assert len(header(long)["text"]["text"]) == 150
    b = button(long, "a", "v" * 3000, confirm=confirm_dialog(long, esc(long), long, long))
    assert len(b["text"]["text"]) == 75 and len(b["value"]) == 2000
    assert [len(b["confirm"][k]["text"]) for k in ("title", "confirm", "deny")] == [100, 30, 30]
    assert 295 <= len(b["confirm"]["text"]["text"]) <= 300  # escaped: cut at an entity's edge
    assert len(option(long, "1")["text"]["text"]) == 75
    fs = fields_section([(f"L{i}", esc(long)) for i in range(12)])
    assert len(fs["fields"]) == 10 and all(len(f["text"]) <= 2000 for f in fs["fields"])
    assert limit_errors([fs, header(long), {"type": "actions", "elements": [b]}]) == []


def test_kind_labels_from_an_integration_are_escaped():
    assert kind_label("credit_memo") == "credit memo"
    assert kind_label("<!channel>_x") == "&lt;!channel&gt; x"
    assert kind_label("<!channel>", escape=False) == "<!channel>"


def _job(**values) -> Job:
    row = {f.name: None for f in fields(Job)}
    row.update(id=7, kind="apply", state="awaiting_approval", requester_id="U1", channel_id="C1",
               client_name="Atomar's Best Tackle", qbo_customer_id="58", credit_kind="credit_memo", qbo_credit_id="150",
               credit_number="1039", invoice_qbo_id="130", invoice_number="10040", amount=Decimal("10.00"),
               currency="USD", invoice_total=Decimal(120), invoice_balance_before=Decimal(120), attempt=0,
               retryable=0, created_at="", updated_at="", expires_at="2026-11-30T18:55:37.656Z")
    row.update(values)
    return Job(**row)


def test_a_note_of_500_ampersands_is_accepted():
    """The issue's case: the approval message was refused with invalid_blocks and the request stuck."""
    text, blocks = parent_message(_job(note="&" * 500))
    assert validate_blocks(blocks) == [] and message_errors(text, blocks) == []
    note = next(f["text"] for b in blocks for f in b.get("fields", []) if f["text"].startswith("*Note*"))
    assert note.endswith("…") and "&amp;" in note


def test_a_hostile_gateway_pings_no_one():
    text, blocks = parent_message(_job(client_name="<!channel>", currency="<!here>", credit_kind="<!everyone>",
                                       state="<!channel>"))
    assert message_errors(text, blocks) == []
    assert "<!" not in text and "<!channel>" not in str(blocks) and "<!here>" not in str(blocks)
    text, blocks = alert(_job(), "QuickBooks said <!channel> & <!here>", None)
    assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in text and message_errors(text, blocks) == []
