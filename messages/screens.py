"""The modals whose content depends on where clients come from: API mode's here, guided mode's subclass in
blocks/guided_inbox.py. The bot picks one with its directory (workflow/ports.py); handlers ask it for views."""
from __future__ import annotations

from datetime import date

from messages.blocks import inbox as inbox_blocks
from messages.blocks import picker as picker_blocks
from workflow.inbox import Inbox
from workflow.lookup import ClientView


class Screens:
    """API mode: the inbox lists ConnectBooster's open credits, each diagnosed against QuickBooks."""

    def inbox_loading(self) -> dict:
        return inbox_blocks.loading_view()

    def inbox(self, inbox: Inbox, page: int, draft: str, *, started: dict | None = None, notice: str = "",
              tz: str = "UTC", today: date | None = None) -> dict:
        return inbox_blocks.inbox_view(inbox, page, draft, started=started, notice=notice, tz=tz)

    def picker(self, client: ClientView, draft: str) -> dict:
        return picker_blocks.picker_view(client, draft)

    def help_text(self, command: str) -> str:
        return picker_blocks.help_text(command)

    def no_match(self, query: str) -> dict:
        return picker_blocks.no_match_view(query)
