"""The emulated company's books: customers, invoices, credit memos and payments, with QBO's derived balances.

Invariants (spec §1.1, §1.4, §7), kept on every write under one lock:
  Payment:   TotalAmt = Σ Invoice-line Amount − Σ CreditMemo-line Amount + UnappliedAmt, UnappliedAmt ≥ 0
  Invoice:   Balance = TotalAmt − Σ live payment lines linking it (never below 0)
  CreditMemo: RemainingCredit = Balance = TotalAmt − Σ live payment lines linking it (never below 0)
  Customer:  Balance = Σ invoice Balance − Σ credit-memo RemainingCredit − Σ payment UnappliedAmt
Every entity whose balance changes gets SyncToken + 1 and a new MetaData.LastUpdatedTime, and every change goes to
`listeners` (sandbox/qbo_ledger_docs.py). Writes dated on or before the closing date answer 6210; the seeded
company's closing date (Preferences BookCloseDate) is enforced from the end of seeding on.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from sandbox.qbo_company import Company
from sandbox.qbo_ledger_docs import LedgerDocuments, Listener
from sandbox.qbo_ledger_seed import LedgerSeeding
from sandbox.qbo_payments import check_fields, merged
from sandbox.qbo_query import ENTITIES, parse
from sandbox.qbo_query_run import RowOrder, execute
from sandbox.qbo_wire import business, clone, company_day, invalid_ref, name_value, not_found, required, stale, stamp

ZERO = Decimal("0")
TARGETS = ("Invoice", "CreditMemo")


def _entity(name: str) -> str:
    for e in ENTITIES:
        if e.lower() == name.lower():
            return e
    raise KeyError(f"unknown entity {name!r}; one of {ENTITIES}")


class Ledger(LedgerSeeding, LedgerDocuments):
    """Thread-safe accounting state; the HTTP layer and other sandbox tools share it."""

    def __init__(self, *, clock: Callable[[], float], seed_data: bool = True, multicurrency: bool = False,
                 today: Callable[[], str] | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        # The date a Payment without TxnDate gets ("current date on the server", real-world.md 6.3).
        self.today: Callable[[], str] = today or (lambda: company_day(self._clock()))
        self.missing_txn_date: list[str] = []  # ids of payments created without TxnDate
        self.company = Company(clock=clock)
        self._docs: dict[str, dict[str, dict]] = {e: {} for e in ENTITIES}
        self._applied: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (TxnType, Id) -> Σ lines
        self._links: dict[str, dict[str, None]] = defaultdict(dict)  # invoice Id -> payment Ids (ordered)
        self._voided: set[str] = set()
        self._next_id = 1
        self._closed_through: str | None = None  # none while seeding: the seed's history predates it
        self._after_first_sync: list[dict] | None = None
        self.version = 0
        self.tombstones: list[dict] = []  # deleted records, for CDC: {"entity", "Id", "deleted_at"}
        self.listeners: list[Listener] = []  # told of every change (sandbox/qbo_ledger_docs.Change)
        self.row_order = RowOrder()  # the order of query answers without ORDERBY (sandbox/qbo_query_run.py)
        if seed_data:
            self._seed()
        if multicurrency:
            self.enable_multicurrency(seed_cad=seed_data)
        self._closed_through = self.company.book_close_date

    # ---- reads -------------------------------------------------------------------------------------
    def list(self, entity: str) -> list[dict]:
        """Every live record of an entity, API-shaped deep copies (money as Decimal)."""
        e = _entity(entity)
        with self._lock:
            return [self._render(e, r) for r in self._docs[e].values()]

    def get(self, entity: str, id: str) -> dict | None:
        """One live record by Id, or None."""
        e = _entity(entity)
        with self._lock:
            rec = self._docs[e].get(str(id))
            return self._render(e, rec) if rec else None

    def read(self, entity: str, id: str, *, wire: bool = True) -> dict:
        """GET /{entity}/{id}: the record or 610."""
        e = _entity(entity)
        with self._lock:
            rec = self._docs[e].get(str(id))
            if rec is None:
                raise not_found("Something you're trying to use has been made inactive. Check the fields "
                                "with accounts, customers, items, vendors or employees.")
            return self._render(e, rec, wire=wire)

    def query(self, statement: str) -> dict:
        """The `QueryResponse` object for a statement (raises QBOFault 4000/4001)."""
        q = parse(statement)
        with self._lock:
            if q.entity == "Preferences":  # one object, no pagination (6.1)
                return {"Preferences": [self.company.preferences()], "startPosition": 1, "maxResults": 1}
            if q.entity == "CompanyInfo":
                return {"CompanyInfo": [self.company.company_info("")], "startPosition": 1, "maxResults": 1}
            total, page = execute(q, list(self._docs[q.entity].values()), self.row_order)
            if total is not None:
                return {"totalCount": total}
            if not page:
                return {}  # no match: the entity key is absent, not []
            return {q.entity: [self._render(q.entity, r, wire=True) for r in page],
                    "startPosition": q.start, "maxResults": len(page)}

    def _render(self, entity: str, rec: dict, *, wire: bool = False) -> dict:
        out = clone(rec)
        if entity == "Invoice":
            out["LinkedTxn"] = [{"TxnId": p, "TxnType": "Payment"} for p in self._links.get(rec["Id"], ())]
        if wire and entity == "Payment":  # undocumented LineEx on reads (§1.3): clients must strip it
            for line in out["Line"]:
                link = line["LinkedTxn"][0]
                inv = self._docs["Invoice"].get(link["TxnId"]) if link["TxnType"] == "Invoice" else None
                if inv:
                    line["LineEx"] = {"any": [name_value("txnId", inv["Id"]),
                                              name_value("txnOpenBalance", str(inv["Balance"])),
                                              name_value("txnReferenceNumber", inv["DocNumber"])]}
        return out

    # ---- writes ------------------------------------------------------------------------------------
    def create_payment(self, body: dict) -> dict:
        """POST /payment without Id: validate, write, return the new Payment."""
        return self.save_payment({k: v for k, v in body.items() if k not in ("Id", "SyncToken")})

    def save_payment(self, body: dict, *, now: float | None = None, new_id: str | None = None,
                     wire: bool = False, operation: str | None = None) -> dict:
        """POST /payment: create (no Id) or sparse/full update (Id + SyncToken); wire=True adds LineEx."""
        check_fields(body)
        with self._lock:
            now = self._clock() if now is None else now
            old = self._current(body) if body.get("Id") not in (None, "") else None
            new = merged(old, body, self.today())
            self._check_period(new["TxnDate"], old)
            unapplied = self._validate(old, new)
            cust = self._docs["Customer"][new["CustomerRef"]["value"]]
            currency, rate = self.company.payment_currency(body, cust["CurrencyRef"]["value"])
            pid = old["Id"] if old else (new_id or self._new_id())
            rec = {"Id": pid, "SyncToken": str(int(old["SyncToken"]) + 1) if old else "0", "domain": "QBO",
                   "sparse": False, "DepositToAccountRef": {"value": "4"}, "ProcessPayment": False,
                   **new, "UnappliedAmt": unapplied, "CurrencyRef": currency}
            rec.pop("ExchangeRate", None)
            if rate is not None:
                rec["ExchangeRate"] = rate
            if old is None and not body.get("TxnDate"):
                self.missing_txn_date.append(pid)
            rec["CustomerRef"] = self._customer_ref(rec["CustomerRef"]["value"])
            rec["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"] if old else stamp(now),
                               "LastUpdatedTime": stamp(now)}
            self._commit(old, rec, now, operation)
            return self._render("Payment", rec, wire=wire)

    def void_payment(self, body: dict, *, wire: bool = False) -> dict:
        """POST /payment?operation=update&include=void: amounts zeroed, PrivateNote "Voided", links dropped."""
        with self._lock:
            old = self._current(body)
            lines = [{"Amount": ZERO, "LinkedTxn": line["LinkedTxn"]} for line in old["Line"]]
            self._voided.add(old["Id"])  # before the write, so the invoice links are not re-added
            try:
                return self.save_payment({"Id": old["Id"], "SyncToken": old["SyncToken"], "sparse": True,
                                          "TotalAmt": ZERO, "Line": lines, "PrivateNote": "Voided",
                                          "CurrencyRef": old["CurrencyRef"]}, wire=wire, operation="Void")
            except Exception:
                self._voided.discard(old["Id"])
                raise

    def delete_payment(self, body: dict) -> dict:
        """POST /payment?operation=delete with {Id, SyncToken}: balances restored."""
        with self._lock:
            old = self._current(body)
            self._check_period(old["TxnDate"], old)
            now = self._clock()
            self._commit(old, None, now)
            self.tombstones.append({"entity": "Payment", "Id": old["Id"], "deleted_at": now})
            return {"status": "Deleted", "domain": "QBO", "Id": old["Id"]}

    # ---- internals ---------------------------------------------------------------------------------
    def _current(self, body: dict) -> dict:
        pid = str(body.get("Id") or "")
        if not pid:
            raise required("Id")
        old = self._docs["Payment"].get(pid)
        if old is None:
            raise not_found()
        if body.get("SyncToken") in (None, ""):
            raise required("SyncToken")
        if str(body["SyncToken"]) != old["SyncToken"]:
            raise stale("Payment")
        return old

    def _validate(self, old: dict | None, new: dict) -> Decimal:
        """Referential and accounting checks; returns the new UnappliedAmt."""
        cid = new["CustomerRef"]["value"]
        if cid not in self._docs["Customer"]:
            raise invalid_ref(f"Customer {cid} assigned to this transaction does not exist.")
        wanted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for line in new["Line"]:
            if line["Amount"] < 0:
                raise business("Line amounts must not be negative.")  # real message unknown
            for link in line["LinkedTxn"]:
                wanted[(link["TxnType"], link["TxnId"])] += line["Amount"]
        own = _contrib(old)
        net = ZERO
        for (ttype, tid), amount in wanted.items():
            doc = self._docs[ttype].get(tid) if ttype in TARGETS else None
            if doc is None:
                raise not_found(f"Something you're trying to use has been made inactive. Check the fields "
                                f"with accounts, customers, items, vendors or employees. ({ttype} {tid})")
            if doc["CustomerRef"]["value"] != cid:
                # Real message unknown (spec §7: linked txns belong to the Payment's customer).
                raise business(f"The {ttype} {tid} belongs to another customer.")
            available = doc["TotalAmt"] - (self._applied[(ttype, tid)] - own.get((ttype, tid), ZERO))
            if amount > available:
                # Invented text (real message unknown; §4.2): also how a second application of a spent credit
                # memo is refused when a repeated requestid is not replayed (a 6000-family business fault).
                what = "balance" if ttype == "Invoice" else "remaining credit"
                raise business(f"The amount applied to {ttype} {tid} ({amount}) exceeds its {what} "
                               f"({available}).")
            net += amount if ttype == "Invoice" else -amount
        unapplied = new["TotalAmt"] - net
        if unapplied < 0:
            # Real message unknown; the identity TotalAmt = Σinv − Σcm + UnappliedAmt needs UnappliedAmt ≥ 0.
            raise business(f"The payment amount {new['TotalAmt']} is less than the net amount applied ({net}).")
        return unapplied

    def _commit(self, old: dict | None, rec: dict | None, now: float, operation: str | None = None) -> None:
        """Swap a payment's contribution (old -> rec; rec None deletes), bump what changed, tell the listeners."""
        before, after = _contrib(old), _contrib(rec)
        for key in set(before) | set(after):
            self._applied[key] += after.get(key, ZERO) - before.get(key, ZERO)
        pid = (old or rec)["Id"]
        customers = {d["CustomerRef"]["value"] for d in (old, rec) if d}
        if rec is None:
            del self._docs["Payment"][pid]
            self._voided.discard(pid)
        else:
            self._docs["Payment"][pid] = rec
        self._links_rebuild(old, rec)
        self._changed("Payment", pid, operation or ("Create" if old is None else "Delete" if rec is None else "Update"),
                      now)
        for ttype, tid in sorted(set(before) | set(after)):
            doc = self._docs[ttype][tid]
            balance = doc["TotalAmt"] - self._applied[(ttype, tid)]
            if balance != doc["Balance"]:
                doc["Balance"] = balance
                if ttype == "CreditMemo":
                    doc["RemainingCredit"] = balance
                _bump(doc, now)
                self._changed(ttype, tid, "Update", now, derived=True)
        for cid in sorted(customers):
            self._refresh_customer(cid, now)
        self.version += 1

    def _links_rebuild(self, *payments: dict | None) -> None:
        for p in payments:
            if not p:
                continue
            live = self._docs["Payment"].get(p["Id"])
            for line in p["Line"]:
                for link in line["LinkedTxn"]:
                    if link["TxnType"] == "Invoice":
                        self._links[link["TxnId"]].pop(p["Id"], None)
            if live is not None and p["Id"] not in self._voided:
                for line in live["Line"]:
                    for link in line["LinkedTxn"]:
                        if link["TxnType"] == "Invoice":
                            self._links[link["TxnId"]][p["Id"]] = None

    def _new_id(self) -> str:
        pid = str(self._next_id)
        self._next_id += 1
        return pid


def _contrib(payment: dict | None) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in (payment or {}).get("Line", ()):
        for link in line["LinkedTxn"]:
            if link["TxnType"] in TARGETS:
                out[(link["TxnType"], link["TxnId"])] += line["Amount"]
    return out


def _bump(doc: dict, now: float) -> None:
    doc["SyncToken"] = str(int(doc["SyncToken"]) + 1)
    doc["MetaData"]["LastUpdatedTime"] = stamp(now)
