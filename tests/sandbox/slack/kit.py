"""Block Kit fragments and a refusal catcher shared by the fake Slack's tests."""
from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

CH = "C0FINANCE"


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def options(n: int) -> list[dict]:
    return [{"text": plain(str(i)), "value": str(i)} for i in range(n)]


def buttons(*action_ids: str) -> dict:
    return {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {"type": "button", "action_id": a, "text": {"type": "plain_text", "text": a.title()}, "value": a}
            for a in action_ids
        ],
    }


def modal(title: str = "Apply credit", n_blocks: int = 1, **extra) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "blocks": [section(f"line {i}") for i in range(n_blocks)], **extra}


def refused(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data
