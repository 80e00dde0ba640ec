"""Long lists in Slack: as many lines as fit in a message's text budget, and the rest in pages (thread replies).

Slack refuses a message whose blocks hold too much text in total (`msg_blocks_too_long`, undocumented; seen from
about 11,000 characters, real-world.md "A month-end"), however small each block: every message built here stays
under MESSAGE_BUDGET, whatever a sweep's size. A list that does not fit shows its first lines and "…and N more",
and its pages (each its own reply, each under the budget) hold every line.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from messages.blocks.common import context, message_text, section
from workflow.text import cap

MESSAGE_BUDGET = 9_500  # characters of block text per message (Slack: msg_blocks_too_long above ~11,000)
PAGE_BUDGET = 8_000     # a page's lines (+ its title and a margin)
SECTION_BUDGET = 2_800  # a section's text (Slack's limit is 3,000)
PAGE_SECTIONS = 45      # a page's sections (Slack allows 50 blocks)


def text_length(node: Any) -> int:
    """The characters Slack counts toward msg_blocks_too_long: every string under a `text` key in the blocks."""
    if isinstance(node, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_length(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(text_length(v) for v in node)
    return 0


def sections(lines: list[str], budget: int, *, room: int = PAGE_SECTIONS, head: str = "") -> tuple[list[dict], int]:
    """Sections holding the first lines that fit in `budget` characters and `room` sections; (sections, how many
    lines they hold). `head` opens the first section."""
    out: list[dict] = []
    chunk, used, total, shown = ([head] if head else []), len(head), len(head), 0
    for line in lines:
        line = cap(line, SECTION_BUDGET - 10)
        if total + len(line) + 1 > budget:
            break
        if chunk and used + len(line) + 1 > SECTION_BUDGET:
            if len(out) + 1 >= room:
                break
            out.append(section("\n".join(chunk)))
            chunk, used = [], 0
        chunk.append(line)
        used += len(line) + 1
        total += len(line) + 1
        shown += 1
    if chunk:
        out.append(section("\n".join(chunk)))
    return out, shown


def pages(lines: list[str], title: Callable[[int, int], str], fallback: Callable[[int, int], str],
          budget: int = PAGE_BUDGET) -> list[tuple[str, list[dict]]]:
    """Every line, in pages of at most `budget` characters: [(text, blocks)], each opened by `title(page, of)`;
    `fallback(page, of)` is the notification text."""
    chunks: list[list[dict]] = []
    rest = lines
    while rest:
        found, shown = sections(rest, budget)
        if not shown:  # a line longer than a page: cut to a section (never here: lines are capped)
            found, shown = [section(cap(rest[0], SECTION_BUDGET))], 1
        chunks.append(found)
        rest = rest[shown:]
    return [(message_text(fallback(n, len(chunks))), [context(title(n, len(chunks))), *chunk])
            for n, chunk in enumerate(chunks, 1)]
