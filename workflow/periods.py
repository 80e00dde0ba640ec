"""Closed periods: which credits QuickBooks would refuse to apply because the books are closed (BookCloseDate).

QuickBooks refuses a write dated on or before the closing date (fault 6210, real-world.md 6.1), and a change to a
record already dated then (the emulator enforces both: sandbox/qbo_ledger_docs.py). What that means per kind:

- an unapplied payment is applied by a sparse update of that Payment, which keeps the date it was received on
  (integrations/quickbooks.py never moves it): dated on or before the closing date, its update is refused;
- a credit memo is applied by a NEW $0 Payment dated today (the team's date); the credit memo itself is not written
  (its RemainingCredit is derived), nor is the invoice. That is allowed whatever the credit memo's or the invoice's
  date, unless today itself is on or before the closing date (books closed into the future), where every write is.

Such a credit is shown with the reason, never offered in the picker, and left out of a sweep's plan. The picker
and every write still re-read live: a closing date moved meanwhile is caught by the write's refusal (6210), which
also makes the next read of Preferences fresh (`refused_by_preferences`).
"""
from __future__ import annotations

from datetime import date

from integrations.quickbooks_models import UNAPPLIED_PAYMENT
from workflow.lookup import CLOSED_PERIOD, NOT_APPLICABLE, ClientView, CreditOption
from workflow.money import fmt


def refused_in_closed_books(kind: str, credit_date: str, closed_through: str | None, today: date) -> bool:
    """True when QuickBooks would refuse this credit's application (see the module's text)."""
    if not closed_through:
        return False
    if today.isoformat() <= closed_through:
        return True
    return kind == UNAPPLIED_PAYMENT and bool(credit_date) and credit_date[:10] <= closed_through


def mark_closed(view: ClientView, closed_through: str | None, today: date) -> ClientView:
    """The view with every credit QuickBooks would refuse to apply diagnosed CLOSED_PERIOD (in place, returned)."""
    view.books_closed_through = closed_through
    for credit in view.credits:
        if credit.diagnosis not in NOT_APPLICABLE and credit.remaining > 0 and \
                refused_in_closed_books(credit.kind, credit.date, closed_through, today):
            credit.diagnosis = CLOSED_PERIOD
    return view


def closed_words(closed_through: str | None) -> str:
    """How a closed-period credit is described wherever it shows."""
    return f"in a closed period (books closed through {closed_through})" if closed_through else "in a closed period"


def closed_problem(view: ClientView, credit: CreditOption) -> str:
    """The plan's line for a credit left out because QuickBooks would refuse it."""
    what = "payment" if credit.kind == UNAPPLIED_PAYMENT else "credit memo"
    return (f"{view.name}: {what} #{credit.number} of {credit.date} ({fmt(credit.remaining, credit.currency)}) is "
            f"{closed_words(view.books_closed_through)}: QuickBooks refuses to change it, so it is left out")
