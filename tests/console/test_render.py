"""The Block Kit renderer on the bot's own messages and modals, built by the bot's real builders."""
from __future__ import annotations

import re

from messages.blocks.job import notice, parent_message, reply_for
from messages.blocks.picker import choose_client_view, picker_view
from sandbox.console.mrkdwn import mrkdwn_html
from sandbox.console.page import message_html, modal_html
from sandbox.console.render import BLOCK_RENDERERS, FIELD_RENDERERS, Ctx, blocks_html
from tests.console.fixtures import CHANNELS, USERS, atomar, coastal, events, job, orgs, reel_deal, well_formed


def render(blocks, **kw) -> str:
    out = blocks_html(blocks, Ctx(users=USERS, channels=CHANNELS, **kw))
    well_formed(out)
    return out


def view_html(view: dict) -> str:
    out = modal_html({**view, "id": "V0TEST"}, USERS, CHANNELS)
    well_formed(out)
    return out


def types_in(blocks) -> set[str]:
    """Every block and element type in a blocks array."""
    found = set()
    for b in blocks:
        found.add(b["type"])
        for el in [*(b.get("elements") or []), b.get("accessory"), b.get("element")]:
            if isinstance(el, dict) and el.get("type") not in ("mrkdwn", "plain_text"):
                found.add(el["type"])
    return found


def bot_blocks() -> list[list[dict]]:
    """Every message and modal the bot builds for the help article, its refusals and its failures."""
    out = [picker_view(atomar(), "d1")["blocks"], picker_view(reel_deal(), "d2")["blocks"],
           picker_view(coastal(), "d3")["blocks"], choose_client_view("atomar", orgs(), "d4")["blocks"]]
    for state in ("awaiting_approval", "verified", "rejected", "needs_attention"):
        out.append(parent_message(job(state=state, approver_id="U0APPROVE"))[1])
    out += [reply[1] for e in events() if (reply := reply_for(job(), e))]
    out.append(notice(job(approver_id="U0APPROVE"), "https://sandbox.slack.local/archives/C0FINANCE/p1")[1])
    return out


def test_every_block_and_element_type_the_bot_uses_has_a_renderer_and_renders():
    used = set().union(*(types_in(b) for b in bot_blocks()))
    assert {"section", "context", "divider", "header", "actions", "input", "button", "static_select",
            "external_select", "plain_text_input"} <= used  # the builders really produce these
    assert used <= set(BLOCK_RENDERERS) | set(FIELD_RENDERERS) | {"button"}
    for blocks in bot_blocks():
        assert "sk-unknown" not in render(blocks)


def test_picker_renders_header_sections_divider_and_labelled_inputs_with_the_oldest_invoice_preselected():
    html = view_html(picker_view(atomar(), "draft"))
    assert "<h3 class=\"sk-block sk-header\">Apply a credit — Atomar&#x27;s Best Tackle</h3>" in html
    assert "<strong>11261</strong>" in html and "<strong>Organizational credits</strong>" in html
    assert '<hr class="sk-block sk-divider">' in html
    for block, action in (("credit", "credit"), ("invoice", "invoice"), ("amount", "amount"), ("note", "note")):
        field_id = f"sk-V0TEST-{block}-{action}"
        assert f'<label class="sk-label" for="{field_id}">' in html and f'id="{field_id}"' in html
    invoice = re.search(r'<select id="sk-V0TEST-invoice-invoice".*?</select>', html).group(0)
    assert re.search(r'<option value="120" selected>10031 · 2026-08-14 · \$85.00 of \$85.00</option>', invoice)
    assert '<option value="130">10040 · 2026-09-20 · $120.00 of $120.00</option>' in invoice
    assert 'type="text" id="sk-V0TEST-amount-amount"' in html.replace('<input type="text" ', 'type="text" ')
    assert 'value="10.00"' in html
    assert re.search(r'<textarea id="sk-V0TEST-note-note"[^>]*maxlength="500"', html)
    assert "(optional)" in html and "Request approval" in html
    assert 'aria-describedby="sk-V0TEST-invoice-invoice-hint"' in html and "Receive Payment does." in html


def test_resync_only_accessory_button_sits_beside_its_section():
    html = view_html(picker_view(reel_deal(), "draft"))
    assert re.search(r'<div class="sk-accessory"><button type="button" class="sk-btn sk-dispatch"[^>]*'
                     r'data-action-id="resync_only"[^>]*>Resync only</button></div>', html)


def test_a_client_with_120_invoices_gets_a_searchable_external_select_with_its_initial_option():
    html = view_html(picker_view(coastal(), "draft"))
    assert re.search(r'<input type="search" id="sk-V0TEST-invoice-invoice-search"[^>]*data-min-query="0"', html)
    assert 'aria-label="Search Invoice"' in html
    assert re.search(r'<option value="1000" selected>20000 · 2026-03-01 · \$50.00 of \$50.00</option>', html)


def test_choose_client_is_a_dispatching_static_select_with_a_label():
    html = view_html(choose_client_view("atomar", orgs(), "d"))
    assert '<label class="sk-sr" for="sk-V0TEST-choose_client-choose_client">Choose a client</label>' in html
    assert 'class="sk-select sk-dispatch"' in html and ">Atomar&#x27;s Bait Shop</option>" in html


def test_approval_request_has_fields_context_and_styled_buttons_with_a_confirm_dialog():
    text, blocks = parent_message(job())
    html = render(blocks)
    assert '<div class="sk-fields">' in html and html.count('class="sk-field-cell"') == 7
    assert '<span class="mention" data-user="U0REQUEST">@riley.requester</span>' in html
    assert 'aria-label="hourglass flowing sand">⏳</span>' in html
    assert "Per the client&#x27;s email &amp; &lt;call&gt;" in html  # the note: escaped once, shown as typed
    approve = re.search(r'<span class="sk-confirmable"><button[^>]*class="sk-btn sk-btn-primary sk-dispatch"[^>]*'
                        r'data-action-id="approve"[^>]*data-value="7"[^>]*>Approve</button>'
                        r'<template class="sk-confirm" data-style="primary">(.*?)</template></span>', html)
    assert approve and "Approve this application?" in approve.group(1) and "Cancel" in approve.group(1)
    assert re.search(r'class="sk-btn sk-btn-danger sk-dispatch"[^>]*data-action-id="reject"[^>]*>Reject</button>', html)
    assert '<div class="sk-block sk-context">' in html and "an approver other than the requester decides" in html


def test_every_thread_reply_renders_and_retry_offers_sync_again():
    for event in events():
        reply = reply_for(job(approver_id="U0APPROVE"), event)
        html = render(reply[1])
        assert "sk-unknown" not in html and html.strip()
    attention = render(reply_for(job(), events()[13])[1])
    assert re.search(r'class="sk-btn sk-btn-primary sk-dispatch"[^>]*data-action-id="job_retry"[^>]*>Sync again<',
                     attention)
    failed = render(reply_for(job(), events()[11])[1])
    assert "QuickBooks &lt;timeout&gt;" in failed and "<timeout>" not in failed


def test_notice_links_the_thread_and_names_the_people():
    html = render(notice(job(approver_id="U0APPROVE"), "https://sandbox.slack.local/archives/C0FINANCE/p1")[1])
    assert ('<a href="https://sandbox.slack.local/archives/C0FINANCE/p1" target="_blank" '
            'rel="noopener noreferrer">View thread</a>') in html
    assert "@avery.approver" in html and "@riley.requester" in html and "<strong>$10.00</strong>" in html


def test_hostile_client_names_render_as_text():
    for name in ("<!channel> Holdings", "<script>alert(1)</script>", "Tom & Jerry's <b>Bait</b>"):
        html = render(parent_message(job(client_name=name))[1]) + view_html(
            picker_view(atomar().__class__(**{**atomar().__dict__, "name": name}), "d"))
        assert "<script" not in html and "<b>" not in html and "<!channel>" not in html
        assert "mention special" not in html  # no @channel ping
    html = render(parent_message(job(client_name="<!channel> Holdings"))[1])
    assert "&lt;!channel&gt; Holdings" in html


def test_mrkdwn_formatting_entities_mentions_links_and_emoji():
    html = mrkdwn_html("*bold* _italic_ ~gone~ `a*b*c` <@U0APPROVE> <#C0NOTIFY> <https://x.test/?a=1&amp;b=2|the link> "
                       "<javascript:alert(1)|bad> &lt;tag&gt; &amp;amp; :warning: :no_such_emoji: 12:30:45 <!here>",
                       USERS, CHANNELS)
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html and "<del>gone</del>" in html
    assert "<code>a*b*c</code>" in html  # no formatting inside code
    assert "@avery.approver" in html and "#applycredit-notices" in html
    assert '<a href="https://x.test/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">the link</a>' in html
    assert "javascript:" not in html.split('class="link-unsafe"')[0] and '<span class="link-unsafe">bad</span>' in html
    assert "&lt;tag&gt;" in html and "&amp;amp;" in html
    assert 'aria-label="warning">⚠️</span>' in html and 'title=":no_such_emoji:">:no_such_emoji:</span>' in html
    assert "12:30:45" in html and '<span class="mention special">@here</span>' in html
    assert mrkdwn_html("line one\nline two") == "line one<br>line two"


def test_unknown_and_broken_blocks_render_a_placeholder_and_the_rest_still_renders():
    blocks = [{"type": "rich_text", "elements": []}, {"type": "section", "text": {"type": "mrkdwn", "text": "after"}},
              {"type": "actions", "elements": [{"type": "datepicker_of_the_future", "action_id": "x"},
                                               {"type": "button", "text": {"type": "plain_text", "text": "Still here"},
                                                "action_id": "b", "value": "1"}]},
              {"type": "section", "fields": 5}, "not a block", {"no": "type"}]
    html = render(blocks)
    assert html.count('class="sk-unknown" role="note"') == 5
    assert "<code>rich_text</code>" in html and "<code>datepicker_of_the_future</code>" in html
    assert "after" in html and ">Still here</button>" in html
    assert "Unsupported block type <code>&lt;img src=x&gt;</code>" in render([{"type": "<img src=x>"}])


def test_radio_buttons_and_number_input_render_as_labelled_controls():
    blocks = [{"type": "input", "block_id": "kind", "label": {"type": "plain_text", "text": "Kind"},
               "element": {"type": "radio_buttons", "action_id": "kind", "options": [
                   {"text": {"type": "plain_text", "text": "Credit memo"}, "value": "memo"},
                   {"text": {"type": "plain_text", "text": "Unapplied payment"}, "value": "pay",
                    "description": {"type": "mrkdwn", "text": "_a payment_"}}],
                   "initial_option": {"text": {"type": "plain_text", "text": "Unapplied payment"}, "value": "pay"}}},
              {"type": "input", "block_id": "amt", "label": {"type": "plain_text", "text": "Amount"},
               "element": {"type": "number_input", "action_id": "amt", "is_decimal_allowed": True,
                           "min_value": "0.01", "initial_value": "10.00"}}]
    html = render(blocks, scope="V1")
    assert '<legend class="sk-sr">Kind</legend>' in html
    assert re.search(r'<input type="radio" id="sk-V1-kind-kind-1" name="sk-V1-kind-kind" value="pay" checked>', html)
    assert '<label for="sk-V1-kind-kind-0">Credit memo</label>' in html and "<em>a payment</em>" in html
    assert re.search(r'<input type="number" id="sk-V1-amt-amt"[^>]*step="any"[^>]*min="0.01"[^>]*value="10.00"', html)
    assert '<label class="sk-label" for="sk-V1-amt-amt">Amount</label>' in html


def test_validation_errors_show_under_the_input_and_the_typed_value_is_kept():
    view = {**picker_view(atomar(), "d"), "id": "V9", "validation_errors": {"amount": "At most $10.00 <here>."},
            "state": {"values": {"amount": {"amount": {"type": "plain_text_input", "value": "25"}}}}}
    html = modal_html(view, USERS, CHANNELS)
    well_formed(html)
    assert re.search(r'id="sk-V9-amount-amount" aria-describedby="sk-V9-amount-amount-hint sk-V9-amount-amount-error" '
                     r'aria-invalid="true"', html)
    assert '<p class="sk-error" id="sk-V9-amount-amount-error" role="alert">At most $10.00 &lt;here&gt;.</p>' in html
    assert 'value="25"' in html and 'value="10.00"' not in html
    assert 'role="dialog" aria-modal="true" aria-labelledby="title-V9"' in html


def test_messages_show_author_edits_ephemerals_and_a_collapsed_thread():
    text, blocks = parent_message(job(state="verified", approver_id="U0APPROVE"))
    parent = {"ts": "1700000000.000100", "channel": "C0FINANCE", "text": text, "blocks": blocks, "bot_id": "B0",
              "bot_profile": {"name": "applycredit"}, "edited": {"ts": "1700000001.000001"}}
    replies = [{"ts": "1700000001.000200", "text": ":white_check_mark: Verified", "bot_id": "B0"},
               {"ts": "1700000001.000300", "text": "only you", "is_ephemeral": True, "bot_id": "B0"}]
    html = message_html(parent, USERS, CHANNELS, replies=replies)
    well_formed(html)
    assert '<span class="msg-author">applycredit</span><span class="app-badge">APP</span>' in html
    assert '<span class="edited">(edited)</span>' in html
    assert re.search(r'<button type="button" class="thread-toggle" aria-expanded="false" aria-controls="([^"]+)"'
                     r' data-thread="1700000000.000100">1 reply', html)
    assert 'role="region" aria-label="Thread: 1 reply" hidden>' in html
    assert html.count("Only visible to you") == 1 and 'data-kind="ephemeral"' in html


def test_every_emoji_shortcode_the_bot_sends_renders_as_an_emoji():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    used = {m for path in [*root.glob("messages/**/*.py"), *root.glob("handlers/*.py")]
            for m in re.findall(r"""(?<=[\s"'(]):([a-z][a-z0-9_+-]*):(?=[\s"'])""", path.read_text())}
    assert {"broom", "white_small_square", "warning", "rotating_light"} <= used
    unknown = [name for name in sorted(used) if "emoji-unknown" in mrkdwn_html(f":{name}:")]
    assert unknown == []
