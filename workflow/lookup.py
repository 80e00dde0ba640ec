"""What the picker shows: a client's credits and open invoices, read from both systems in parallel.

QuickBooks is the source of truth for amounts; ConnectBooster supplies its record ids, its (possibly
stale) copies, and whether an invoice has a portal payment waiting to sync.
"""
from __future__ import annotations

import threading
import time
import unicodedata
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

UNAPPLIED = "unapplied"                      # usable: QuickBooks still shows remaining credit
APPLIED_WAITING_SYNC = "applied_waiting_sync"  # QuickBooks used it up; ConnectBooster has not synced
NOT_IN_CONNECTBOOSTER = "not_in_connectbooster"  # new in QuickBooks since ConnectBooster's last sync
CLOSED_PERIOD = "closed_period"  # QuickBooks would refuse its application: dated in the closed books (workflow/periods)
NOT_APPLICABLE = (APPLIED_WAITING_SYNC, CLOSED_PERIOD)  # shown, never offered nor planned
MAX_SEARCH = 200
SEARCH_TTL = 30.0  # seconds an organization list is reused by the search
TYPO_FROM = 4     # queries this long (after name_key) tolerate one typo; shorter ones must match exactly


@dataclass
class CreditOption:
    key: str                      # "credit_memo:150" — stable id used by the picker
    kind: str                     # credit_memo | unapplied_payment
    qbo_id: str
    number: str
    date: str
    remaining: Decimal            # QuickBooks' remaining credit (0 when used up)
    cb_id: int | None = None
    cb_remaining: Decimal | None = None
    currency: str = "USD"
    diagnosis: str = UNAPPLIED


@dataclass
class InvoiceOption:
    qbo_id: str
    number: str
    date: str
    due_date: str | None
    total: Decimal
    balance: Decimal              # QuickBooks' balance
    currency: str = "USD"
    cb_id: int | None = None
    cb_balance: Decimal | None = None
    pending_payment: bool = False


@dataclass
class ClientView:
    org_id: int | None
    name: str
    qbo_customer_id: str
    credits: list[CreditOption] = field(default_factory=list)
    invoices: list[InvoiceOption] = field(default_factory=list)
    books_closed_through: str | None = None  # QuickBooks' BookCloseDate when the view was read

    def credit(self, key: str) -> CreditOption | None:
        return next((c for c in self.credits if c.key == key), None)

    def invoice(self, qbo_id: str) -> InvoiceOption | None:
        return next((i for i in self.invoices if i.qbo_id == qbo_id), None)

    @property
    def usable_credits(self) -> list[CreditOption]:
        return [c for c in self.credits if c.diagnosis not in NOT_APPLICABLE]

    def to_json(self) -> dict[str, Any]:
        # The options are flat dataclasses: a shallow copy each is what asdict() returns, without its deep
        # copies (13 ms of the picker's wait for a client with 500 invoices; bench/picker.py).
        return {"org_id": self.org_id, "name": self.name, "qbo_customer_id": self.qbo_customer_id,
                "credits": [dict(vars(c)) for c in self.credits], "invoices": [dict(vars(i)) for i in self.invoices],
                "books_closed_through": self.books_closed_through}

    @classmethod
    def from_json(cls, data: dict) -> ClientView:
        def money(d: dict, *names: str) -> dict:
            return {k: (Decimal(v) if k in names and v is not None else v) for k, v in d.items()}

        return cls(
            org_id=data["org_id"], name=data["name"], qbo_customer_id=data["qbo_customer_id"],
            credits=[CreditOption(**money(c, "remaining", "cb_remaining")) for c in data["credits"]],
            invoices=[InvoiceOption(**money(i, "total", "balance", "cb_balance")) for i in data["invoices"]],
            books_closed_through=data.get("books_closed_through"),
        )


def clean_query(text: str) -> str:
    """The client name as typed, trimmed and bounded (QuickBooks names are at most 500 characters)."""
    return " ".join(text.split())[:MAX_SEARCH]


def name_key(text: str) -> str:
    """What a name is matched on: lower case, accents, apostrophes of any kind, punctuation and spaces dropped.

    "O’Malley’s Marina" -> "omalleysmarina", so "omalley", "o malleys" and "O'MALLEY'S" all find it.
    """
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())


def _score(query: str, key: str) -> float:
    """0-100 (rapidfuzz): the best-matching stretch of the name, or the whole name when the query is longer."""
    if len(key) >= len(query):
        return fuzz.partial_ratio(query, key)
    return fuzz.ratio(query, key)  # a query longer than the name must be the name, give or take a typo


def _cutoff(query: str) -> float:
    """One typo (a wrong, missing, extra or swapped letter) costs at most 100/len points; short queries get none."""
    if len(query) < TYPO_FROM:
        return 100.0
    return 100.0 * (1 - 1 / len(query)) - 0.01


def rank_clients(query: str, orgs: list) -> list:
    """The organizations matching `query`, best first; the one whose name is exactly the query alone.

    Names containing the whole query (score 100) win outright: typo-level matches are only offered when
    nothing contains it, so "reel" is not ambiguous because some "Reef Co" exists.
    """
    q = name_key(query)
    if not q:
        return []
    keyed = [(o, name_key(o.name or "")) for o in orgs]
    exact = [o for o, k in keyed if k == q]
    if len(exact) == 1:
        return exact
    cutoff = _cutoff(q)
    scored = [(score, o, k) for o, k in keyed if k and (score := _score(q, k)) >= cutoff]
    if any(score >= 100 for score, _, _ in scored):
        scored = [t for t in scored if t[0] >= 100]
    # Best first: the closest stretch, then names starting with the query, then the closest whole name.
    scored.sort(key=lambda t: (-t[0], not t[2].startswith(q), -fuzz.ratio(q, t[2]), (t[1].name or "").casefold(),
                               t[1].id))
    return [o for _, o, _ in scored]


class OrgDirectory:
    """ConnectBooster's organization list, read whole and reused briefly, so that search can be forgiving.

    The contract's `GET /organizations?search=` is a server-side substring match: it cannot find "omalley" in
    "O’Malley’s Marina" nor forgive a typo. So the search reads every organization (one request per 100, pages
    in parallel) and matches locally with rapidfuzz. The list is reused for `ttl` seconds, so a person refining
    a search costs no request; a search that finds nothing in a reused list reads it once more (a client added
    a moment ago), so at most two list reads per search and usually none.
    """

    def __init__(self, cb: Any, *, ttl: float = SEARCH_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.cb = cb
        self.ttl = ttl
        self.clock = clock
        self._orgs: list | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def orgs(self, *, fresh: bool = False) -> tuple[list, bool]:
        """(every organization, whether it was read just now)."""
        with self._lock:
            if not fresh and self._orgs is not None and self.clock() - self._read_at < self.ttl:
                return self._orgs, False
            self._orgs = self.cb.search_organizations(text="")  # an empty search matches every name
            self._read_at = self.clock()
            return self._orgs, True

    def search(self, text: str) -> list:
        """Organizations matching the text, best first (see rank_clients)."""
        orgs, read_now = self.orgs()
        found = rank_clients(clean_query(text), orgs)
        if not found and not read_now:
            found = rank_clients(clean_query(text), self.orgs(fresh=True)[0])
        return found


_DIRECTORIES: weakref.WeakKeyDictionary[Any, OrgDirectory] = weakref.WeakKeyDictionary()
_DIRECTORIES_LOCK = threading.Lock()


def directory_for(cb: Any) -> OrgDirectory:
    """The shared directory of one ConnectBooster client (one per client object, gone with it)."""
    with _DIRECTORIES_LOCK:
        found = _DIRECTORIES.get(cb)
        if found is None:
            found = _DIRECTORIES[cb] = OrgDirectory(cb)
        return found


def search_clients(cb, text: str, *, directory: OrgDirectory | None = None) -> list:
    """ConnectBooster organizations matching the text the way people type it, best first (see OrgDirectory)."""
    return (directory or directory_for(cb)).search(text)


def load_client(*, qbo, cb, org, pool: ThreadPoolExecutor) -> ClientView:
    """Read credits and invoices from both systems at once and join them by QuickBooks id."""
    if not org.qbo_customer_id:
        raise LookupError(f"{org.name} is not linked to a QuickBooks customer in ConnectBooster.")
    customer = org.qbo_customer_id
    futures = {
        "cb_credits": pool.submit(cb.list_credits, org_id=org.id, status="open"),
        # The organization's own count lets every page of a long invoice list be read at once.
        "cb_invoices": pool.submit(cb.list_invoices, org_id=org.id, status="open",
                                   expected=(getattr(org, "balance", None) or {}).get("open_invoice_count")),
        "qbo_credits": pool.submit(qbo.list_credits, customer_id=customer),
        "qbo_invoices": pool.submit(qbo.list_open_invoices, customer_id=customer),
    }
    got = {name: f.result() for name, f in futures.items()}
    return join_client(org, customer, **got)


def cb_credit_ref(credit) -> tuple[str, str]:
    """(kind, QuickBooks id) of a ConnectBooster credit: what its external reference names in QuickBooks."""
    kind = {"CreditMemo": "credit_memo", "Payment": "unapplied_payment"}.get(credit.qbo_type or "", credit.kind)
    return kind, credit.qbo_id or ""


def join_client(org, customer: str, *, cb_credits, cb_invoices, qbo_credits, qbo_invoices) -> ClientView:
    """Pure join of the four reads (tested without any service)."""
    qbo_by_key = {f"{c.kind}:{c.id}": c for c in qbo_credits}
    credits: list[CreditOption] = []
    for c in cb_credits:
        kind = cb_credit_ref(c)[0]
        key = f"{kind}:{c.qbo_id}"
        q = qbo_by_key.pop(key, None)
        credits.append(CreditOption(
            key=key, kind=kind, qbo_id=c.qbo_id or "", number=c.number, date=c.date,
            remaining=q.remaining if q else Decimal("0.00"), cb_id=c.id, cb_remaining=c.remaining_amount,
            currency=c.currency, diagnosis=UNAPPLIED if q else APPLIED_WAITING_SYNC,
        ))
    for key, q in qbo_by_key.items():
        credits.append(CreditOption(
            key=key, kind=q.kind, qbo_id=q.id, number=q.number, date=q.txn_date, remaining=q.remaining,
            currency=q.currency, diagnosis=NOT_IN_CONNECTBOOSTER,
        ))
    cb_by_qbo = {i.qbo_id: i for i in cb_invoices if i.qbo_id}
    invoices = []
    for inv in qbo_invoices:
        cbi = cb_by_qbo.get(inv.id)
        invoices.append(InvoiceOption(
            qbo_id=inv.id, number=inv.number, date=inv.txn_date, due_date=inv.due_date, total=inv.total,
            balance=inv.balance, currency=inv.currency, cb_id=cbi.id if cbi else None,
            cb_balance=cbi.balance if cbi else None, pending_payment=bool(cbi and cbi.pending_payment),
        ))
    return ClientView(org_id=org.id, name=org.name, qbo_customer_id=customer, credits=credits, invoices=invoices)


def default_amount(credit: CreditOption, invoice: InvoiceOption) -> Decimal:
    """What QuickBooks' Receive Payment would apply: the smaller of the credit and the invoice balance."""
    return min(credit.remaining, invoice.balance)
