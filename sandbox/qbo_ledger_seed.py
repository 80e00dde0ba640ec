"""Seeding the emulated books (sandbox/seed.py, the large company, the multicurrency company), the after-first-sync
payments, and the in-place reads ConnectBooster's sync uses.

A mixin of Ledger. The default seed writes through the ledger's own create logic, so seeded payments obey every
invariant; the large company (sandbox/seed_large) is loaded in bulk with the same derived fields, because 20,000
writes through that path would take minutes (each write re-sums its customer).
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sandbox import seed
from sandbox.cb_records import updated_on
from sandbox.qbo_company import CAD_PAYMENT, currency_ref, multicurrency_records
from sandbox.qbo_seed import build
from sandbox.qbo_wire import clone, day_epoch

if TYPE_CHECKING:
    from sandbox.qbo_ledger import Ledger


class LedgerSeeding:
    """Seed data and the scripted 'applied in QuickBooks after the first sync' payments."""

    # Where AFTER_FIRST_SYNC, CB_IDS and CB_PENDING_PAYMENTS come from (ConnectBooster reads it too).
    seed_source: Any = seed

    def load_company(self: Ledger, company: Any) -> None:
        """Add a generated company (sandbox/seed_large) to the seeded books, in bulk: records, Σ applied, links."""
        from sandbox.seed_large.records import build as build_large

        books = build_large(company)
        with self._lock:
            if seed.CUSTOMERS.keys() - self._docs["Customer"].keys():
                # Its AFTER_FIRST_SYNC and CB_IDS name the help article's records: it extends them, never replaces.
                raise ValueError("load_company adds to the default seed: build the ledger with seed_data=True")
            for entity, docs in books.docs.items():
                self._docs[entity].update(docs)
            self._applied.update(books.applied)
            for invoice_id, payments in books.links.items():
                self._links[invoice_id].update(payments)
            self._next_id = max(self._next_id, 1 + max(int(i) for docs in books.docs.values() for i in docs))
            self.seed_source = company
            self.version = 0

    def add_records(self: Ledger, records: list[tuple[str, dict]], *, refresh: tuple[str, ...] = ()) -> None:
        """Seed records (entity, record) as they are, under the ledger's lock, before a test or a benchmark starts;
        `refresh`: customers whose Balance is recomputed from their open invoices and credits."""
        with self._lock:
            for entity, rec in records:
                self._docs[entity][rec["Id"]] = rec
            for cid in refresh:
                self._refresh_customer(cid, 0, bump=False)
            self._next_id = max(self._next_id, 1 + max((int(r["Id"]) for _, r in records), default=0))

    def changed_since(self: Ledger, entity: str, since: date | None) -> list[dict]:
        """Records of `entity` last updated on or after `since` (None: all), as shallow copies filtered in place:
        a sync of the large company would otherwise deep-copy 25,000 records to keep a handful."""
        with self._lock:
            return [dict(r) for r in self._docs[entity].values()
                    if since is None or (updated_on(r) or date.min) >= since]

    def counts(self: Ledger) -> dict[str, int]:
        """How many records of each entity, and the open credits (memos with credit left, unapplied payments)."""
        with self._lock:
            out = {entity: len(docs) for entity, docs in self._docs.items()}
            out["open_credits"] = (sum(1 for m in self._docs["CreditMemo"].values() if m["RemainingCredit"] > 0)
                                   + sum(1 for p in self._docs["Payment"].values() if p["UnappliedAmt"] > 0))
            return out

    def apply_after_first_sync(self: Ledger) -> list[dict]:
        """Write AFTER_FIRST_SYNC through create_payment (once; later calls return the same payments)."""
        with self._lock:
            if self._after_first_sync is None:
                self._after_first_sync = [self.create_payment({
                    "CustomerRef": {"value": a["CustomerId"]}, "TotalAmt": 0, "TxnDate": a["TxnDate"],
                    "CurrencyRef": dict(self._docs["Customer"][a["CustomerId"]]["CurrencyRef"]),
                    "PrivateNote": "Applied in QuickBooks after ConnectBooster's first sync",
                    "Line": [{"Amount": a["Amount"], "LinkedTxn": [{"TxnId": a["InvoiceId"], "TxnType": "Invoice"}]},
                             {"Amount": a["Amount"],
                              "LinkedTxn": [{"TxnId": a["CreditMemoId"], "TxnType": "CreditMemo"}]}],
                }) for a in self.seed_source.AFTER_FIRST_SYNC]
            return clone(self._after_first_sync)

    def earliest_txn_date(self: Ledger) -> str | None:
        """The first TxnDate of any live invoice, credit memo or payment (where ConnectBooster's first sync starts),
        read in place: list() deep-copies every record, which was most of every sandbox's start-up."""
        with self._lock:
            dates = [r.get("TxnDate") for e in ("Invoice", "CreditMemo", "Payment") for r in self._docs[e].values()]
        return min((d for d in dates if d), default=None)

    def _seed(self: Ledger) -> None:
        for entity, rec in build():
            self._docs[entity][rec["Id"]] = rec
        for cid in self._docs["Customer"]:
            self._refresh_customer(cid, 0, bump=False)
        self._next_id = max(int(i) for docs in self._docs.values() for i in docs) + 1
        for pid, cid, txn_date, total, lines in seed.PAYMENTS:
            self.save_payment({"CustomerRef": {"value": cid}, "TotalAmt": total, "TxnDate": txn_date,
                               "Line": [{"Amount": amt, "LinkedTxn": [{"TxnId": inv, "TxnType": "Invoice"}]}
                                        for inv, amt in lines]},
                              now=day_epoch(txn_date, 10), new_id=pid)
        self._next_id = max(self._next_id, *(int(p[0]) + 1 for p in seed.PAYMENTS))
        self.version = 0

    def enable_multicurrency(self: Ledger, *, seed_cad: bool = True) -> None:
        """Multicurrency on (home USD; it can never be turned off again, 6.1), plus the CAD records."""
        with self._lock:
            self.company.multicurrency = True
            if not seed_cad:
                return
            for entity, rec in multicurrency_records():
                self._docs[entity][rec["Id"]] = rec
            pid, cid, txn_date, total, rate = CAD_PAYMENT
            self._refresh_customer(cid, 0, bump=False)
            self.save_payment({"CustomerRef": {"value": cid}, "TotalAmt": total, "TxnDate": txn_date,
                               "CurrencyRef": currency_ref("CAD"), "ExchangeRate": rate},
                              now=day_epoch(txn_date, 10), new_id=pid)
            self.version = 0
