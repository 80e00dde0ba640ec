"""What the bot declines to do for a person: one base for every refusal a person reads.

- `workflow.policy.NotAllowed`: a click this person may not make now (who and when: the policy).
- `workflow.validation.InvalidRequest`: a request whose input does not hold up (the form field it concerns).

Either way `message` is written for the person, and nothing was changed.
"""
from __future__ import annotations


class Declined(Exception):
    """Something the bot will not do; `message` is shown to the person who asked, and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
