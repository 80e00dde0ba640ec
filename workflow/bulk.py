"""Reading many clients at once: QuickBooks' side of every client with a credit, in a few bulk requests.

Planning a sweep and opening the inbox read every client with an open credit. One client at a time that was 3 to 5
QuickBooks requests each (300 clients: about 1,000 requests, two minutes of QuickBooks' 500 a minute). Here each
kind of document is read for up to 100 clients per request (integrations/quickbooks_bulk.py: `CustomerRef IN`,
`Id IN`, paged by Id), every chunk a task of its own on the directory's pool, so they run side by side: a few
hundredths of a request per client. A chunk that cannot be read fails only its own clients (`Books.failed`), as a
client that could not be read never stopped the others. The picker (one client) and every write still read live.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from integrations.errors import IntegrationError
from integrations.quickbooks_models import Credit, Customer, Invoice
from integrations.quickbooks_reads import BULK_CHUNK, credit_order

# How QuickBooks' API links a credit (quickbooks-api.md, what matters most, 2): a parent's credit cannot go to a
# sub-customer's invoice through it (the emulator refuses it: "belongs to another customer"), nor the other way.
SAME_CUSTOMER = ("QuickBooks' API applies a credit only to invoices of the same customer, so the bot cannot apply it "
                 "there; apply it in QuickBooks itself (Receive Payment for {payer})")


@dataclass
class Books:
    """QuickBooks' side of many customers, by customer id, and the closing date read with it."""

    credits: dict[str, list[Credit]] = field(default_factory=dict)     # open credits, oldest first
    invoices: dict[str, list[Invoice]] = field(default_factory=dict)   # open invoices, oldest first
    customers: dict[str, Customer] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)               # customer id -> why it could not be read
    closed_through: str | None = None                                  # Preferences' BookCloseDate
    everyone: list[Customer] | None = None                             # every active customer, when asked for


def chunks(ids: Iterable[str], size: int = BULK_CHUNK) -> list[list[str]]:
    wanted = list(dict.fromkeys(str(i) for i in ids if str(i)))
    return [wanted[n:n + size] for n in range(0, len(wanted), size)]


def read_books(qbo, pool, customer_ids: Iterable[str], *, open_credits: bool = False,
               credit_ids: Iterable[tuple[str, str, str]] = (), names: bool = False, relatives: bool = False) -> Books:
    """Open invoices of these customers, and as asked: every open credit of theirs (`open_credits`), the credits
    named by (kind, id, customer id) read by Id (`credit_ids`, the ones used up or gone are absent), their names,
    every active customer (`relatives`: what `relatives_owing` reads, in the same round instead of after it)."""
    books = Books(closed_through=qbo.preferences().book_close_date)  # reused for 5 minutes (the transport's)
    tasks: list[tuple[str, list[str], object]] = []
    if relatives:
        tasks.append(("everyone", [], pool.submit(qbo.active_customers)))
    for chunk in chunks(customer_ids):
        tasks.append(("invoices", chunk, pool.submit(qbo.open_invoices_for, customer_ids=chunk)))
        if open_credits:
            tasks.append(("credits", chunk, pool.submit(qbo.open_credit_memos_for, customer_ids=chunk)))
            tasks.append(("credits", chunk, pool.submit(qbo.unapplied_payments_for, customer_ids=chunk)))
        if names:
            tasks.append(("customers", chunk, pool.submit(qbo.customers, ids=chunk)))
    by_kind: dict[str, dict[str, str]] = {}
    for kind, credit_id, customer in credit_ids:
        by_kind.setdefault(kind, {})[str(credit_id)] = str(customer)
    for kind, owners in sorted(by_kind.items()):
        for chunk in chunks(owners):
            read = partial(qbo.get_credits, kind=kind, ids=chunk)  # `kind` is also the fair queue's own argument
            tasks.append(("by_id", [owners[i] for i in chunk], pool.submit(read)))
    for what, customers, future in tasks:
        try:
            found = future.result()
        except IntegrationError as e:  # these clients are named as unreadable; the others go on
            for cid in customers:
                books.failed.setdefault(cid, f"couldn't read QuickBooks ({type(e).__name__})")
            continue
        if what == "everyone":
            books.everyone = found
        elif what == "invoices":
            books.invoices.update(found)
        elif what == "customers":
            books.customers.update(found)
        elif what == "credits":
            for cid, credits in found.items():
                books.credits.setdefault(cid, []).extend(credits)
        else:
            for credit in found.values():
                if credit.remaining > 0:
                    books.credits.setdefault(credit.customer_id, []).append(credit)
    for credits in books.credits.values():
        credits.sort(key=credit_order)
    return books


def relatives_owing(qbo, customer_ids: Iterable[str], everyone: list[Customer] | None = None) -> dict[str, str]:
    """For customers holding a credit but no open invoice: why their sub-customers' (or their parent's) invoices
    cannot take it, when those owe. One read of the active customers (per 1,000), only when asked about someone and
    not read already (`everyone`, from `read_books(relatives=True)`)."""
    wanted = list(dict.fromkeys(customer_ids))
    if not wanted:
        return {}
    everyone = {c.id: c for c in (qbo.active_customers() if everyone is None else everyone)}
    children: dict[str, list[Customer]] = {}
    for c in everyone.values():
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(c)
    notes = {}
    for cid in wanted:
        me = everyone.get(cid)
        owing = sorted((c.display_name for c in children.get(cid, []) if c.balance > 0), key=str.casefold)
        parent = everyone.get(me.parent_id) if me is not None and me.parent_id else None
        if owing and me is not None:
            shown = ", ".join(owing[:5]) + (f" and {len(owing) - 5} more" if len(owing) > 5 else "")
            notes[cid] = (f"no open invoice of its own; its sub-customer{'s' if len(owing) > 1 else ''} {shown} "
                          f"{'have' if len(owing) > 1 else 'has'} open invoices. "
                          + SAME_CUSTOMER.format(payer=me.display_name))
        elif parent is not None and parent.balance > 0:
            notes[cid] = (f"no open invoice of its own; its parent customer {parent.display_name} has open invoices. "
                          + SAME_CUSTOMER.format(payer=parent.display_name))
    return notes
