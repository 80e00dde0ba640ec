"""What the bot says about the QuickBooks connection stays within Block Kit's limits and says when and what to do."""
from __future__ import annotations

from messages.blocks import connection as words
from tests.unit.blockkit import message_errors, view_limit_errors
from workflow.connection import ConnectionStatus

NOW = 1_800_000_000.0
DAY = 86400


def status(**values) -> ConnectionStatus:
    return ConnectionStatus(**{"realm_id": "9341453050298431", "now": NOW, "warn_days": 14.0, "stored": True,
                               **values})


def test_the_warning_the_lapse_and_the_reconnect_are_valid_messages_with_the_way_out():
    ending = status(expires_at=NOW + 5 * DAY, hard=True)
    for text, blocks in (words.expiry_warning(ending, 14, "America/Chicago"),
                         words.lapsed_notice(status(lapsed_at=NOW, lapsed_code="invalid_grant", waiting=3)),
                         words.reconnected_notice(status(), "U0ADMIN", 3)):
        assert message_errors(text, blocks) == []
    warning = words.expiry_warning(ending, 14, "UTC")[0]
    assert f"<!date^{int(NOW + 5 * DAY)}^" in warning and "five years" in warning and "/applycredit connect" in warning
    idle = words.expiry_warning(status(expires_at=NOW + 5 * DAY, hard=False), 14, "UTC")[0]
    assert "100 days" in idle and "python bot.py doctor" in idle


def test_the_app_home_banner_shows_only_what_needs_a_person():
    assert words.home_banner(None, "UTC") == [] and words.home_banner(status(expires_at=NOW + 60 * DAY), "UTC") == []
    lapsed = str(words.home_banner(status(lapsed_at=NOW - DAY, waiting=2), "UTC"))
    assert "QuickBooks is disconnected" in lapsed and "2 jobs wait" in lapsed
    soon = str(words.home_banner(status(expires_at=NOW + 3 * DAY, hard=True), "UTC"))
    assert "ends" in soon and "3 days left" in soon


def test_the_paste_modal_and_its_outcomes_are_valid_views():
    url = "https://appcenter.intuit.com/connect/oauth2?" + "x=" + "a" * 400
    modal = words.paste_modal(url, "https://bot.example.com/oauth" + "/x" * 100, NOW + 600, "UTC")
    assert view_limit_errors(modal) == [] and modal["callback_id"] == words.CALLBACK_PASTE
    for text in (words.connecting_text(), words.connected_text("1", 2), words.refused_text("<!channel> & more")):
        assert view_limit_errors(words.result_view(text)) == []
    assert "<!channel>" not in words.refused_text("<!channel>")
