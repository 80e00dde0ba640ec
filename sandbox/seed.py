"""The sandbox's data: the help-article example and the awkward cases around it.

Plain data, read by both emulators. The QuickBooks emulator builds its ledger from `CUSTOMERS`,
`INVOICES`, `CREDIT_MEMOS` and `PAYMENTS`; the ConnectBooster emulator then runs a first full sync from
that ledger (using `CB_IDS` for the record ids the article shows, 11261 among them), seeds
`CB_PENDING_PAYMENTS`, and only then are `AFTER_FIRST_SYNC` payments written to QuickBooks, so
ConnectBooster's copy lags behind QuickBooks exactly as the article describes.
"""
from __future__ import annotations

from decimal import Decimal as D

REALM_ID = "9341453050298431"
CURRENCY = "USD"

# QuickBooks customers: Id -> DisplayName.
CUSTOMERS: dict[str, str] = {
    "58": "Atomar's Best Tackle",      # the help article's client
    "59": "Blue Heron Marine",         # credit = an unapplied payment with existing lines
    "60": "Coastal Bait Co",           # 120 open invoices, a credit larger than the oldest invoice
    "61": "O\u2019Malley\u2019s Marina",  # curly apostrophes, as QuickBooks may store them
    "62": "<!channel> Holdings",       # must never ping anyone
    "63": "Pier 9 Outfitters",         # a pending ConnectBooster payment on the oldest invoice
    "64": "Reel Deal Charters",        # credit applied in QuickBooks, ConnectBooster not synced yet
    "65": "Atomar's Bait Shop",        # makes "Atomar" ambiguous; no credit
}

# Invoices: (Id, DocNumber, CustomerId, TxnDate, DueDate, TotalAmt). Balance starts at TotalAmt.
INVOICES: list[tuple[str, str, str, str, str, D]] = [
    ("120", "10031", "58", "2026-08-14", "2026-09-13", D("85.00")),   # oldest open: QuickBooks' default
    ("130", "10040", "58", "2026-09-20", "2026-10-20", D("120.00")),  # the article's invoice
    ("140", "10050", "59", "2026-09-02", "2026-10-02", D("60.00")),
    ("141", "10049", "59", "2026-08-01", "2026-08-31", D("40.00")),   # paid by payment 171 (below)
    ("160", "10061", "61", "2026-10-01", "2026-10-31", D("75.00")),
    ("170", "10071", "62", "2026-10-03", "2026-11-02", D("50.00")),
    ("180", "10081", "63", "2026-09-10", "2026-10-10", D("90.00")),   # has a pending CB payment
    ("181", "10082", "63", "2026-10-10", "2026-11-09", D("45.00")),
    ("190", "10091", "64", "2026-09-15", "2026-10-15", D("100.00")),
    ("195", "10095", "65", "2026-10-12", "2026-11-11", D("30.00")),
] + [
    # Coastal Bait Co: invoices 20001..20120, one a day from 2026-03-01, $50.00 each.
    (str(1000 + n), str(20000 + n), "60", f"2026-{3 + (n - 1) // 30:02d}-{(n - 1) % 30 + 1:02d}",
     f"2026-{4 + (n - 1) // 30:02d}-{(n - 1) % 30 + 1:02d}", D("50.00"))
    for n in range(1, 121)
]

# Credit memos: (Id, DocNumber, CustomerId, TxnDate, TotalAmt). RemainingCredit starts at TotalAmt.
CREDIT_MEMOS: list[tuple[str, str, str, str, D]] = [
    ("150", "1039", "58", "2026-10-01", D("10.00")),   # ConnectBooster credit 11261
    ("151", "1051", "60", "2026-10-05", D("175.00")),  # spreads over 4 invoices in a sweep
    ("152", "1052", "61", "2026-10-06", D("15.00")),
    ("153", "1053", "62", "2026-10-07", D("20.00")),
    ("154", "1054", "63", "2026-10-08", D("30.00")),
    ("155", "1055", "64", "2026-10-09", D("40.00")),   # applied after the first sync (below)
]

# Payments written when the ledger is built: (Id, CustomerId, TxnDate, TotalAmt, [(invoice Id, amount)]).
# Payment 171: $65 received, $40 applied to invoice 10049, $25 unapplied -> ConnectBooster credit 11262.
PAYMENTS: list[tuple[str, str, str, D, list[tuple[str, D]]]] = [
    ("171", "59", "2026-08-20", D("65.00"), [("141", D("40.00"))]),
]

# Written to QuickBooks after ConnectBooster's first sync: Reel Deal's credit memo applied in full to
# invoice 10091, so QuickBooks shows it used while ConnectBooster still lists it (resync-only case).
AFTER_FIRST_SYNC: list[dict] = [
    {"CustomerId": "64", "TxnDate": "2026-11-02", "InvoiceId": "190", "CreditMemoId": "155", "Amount": D("40.00")},
]

# ConnectBooster record ids for QuickBooks records: (QuickBooks type, Id) -> ConnectBooster id.
# Records not listed get ids from ConnectBooster's own counters.
CB_IDS: dict[tuple[str, str], int] = {
    ("Customer", "58"): 501,
    ("Customer", "59"): 502,
    ("Customer", "60"): 503,
    ("Customer", "61"): 504,
    ("Customer", "62"): 505,
    ("Customer", "63"): 506,
    ("Customer", "64"): 507,
    ("Customer", "65"): 508,
    ("CreditMemo", "150"): 11261,
    ("Payment", "171"): 11262,
    ("CreditMemo", "151"): 11263,
    ("CreditMemo", "152"): 11264,
    ("CreditMemo", "153"): 11265,
    ("CreditMemo", "154"): 11266,
    ("CreditMemo", "155"): 11267,
    ("Invoice", "120"): 9031,
    ("Invoice", "130"): 9040,
}

# Payments made in the ConnectBooster portal and not yet synced: (invoice DocNumber, amount).
CB_PENDING_PAYMENTS: list[tuple[str, D]] = [("10081", D("90.00"))]

# PSA integration shown in ConnectBooster beside QuickBooks Online (its stage runs first in every sync).
PSA_INTEGRATION = "autotask"
