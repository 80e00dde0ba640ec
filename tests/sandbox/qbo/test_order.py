"""Query order (sandbox/qbo_query_run.py): none without ORDERBY, so paging such a query skips and repeats rows;
ORDERBY sorts as documented (Id numerically, ASC/DESC, several keys)."""
from __future__ import annotations

from decimal import Decimal

from sandbox.qbo_seed import invoice_record

FIRST = 800_000


def rows(qbo, statement: str, entity: str = "Invoice") -> list[dict]:
    r = qbo.query(statement)
    assert r.status_code == 200, r.text
    return r.json(parse_float=Decimal)["QueryResponse"].get(entity, [])


def ids(qbo, statement: str, entity: str = "Invoice") -> list[str]:
    return [r["Id"] for r in rows(qbo, statement, entity)]


def add_invoices(emu, count: int, customer: str = "65") -> set[str]:
    """`count` invoices for one customer, TxnDates shared by many (ties), Ids from FIRST."""
    with emu.ledger._lock:
        for n in range(count):
            iid, day = str(FIRST + n), f"2026-06-{n % 5 + 1:02d}"
            emu.ledger._docs["Invoice"][iid] = invoice_record(iid, str(FIRST + n), customer, "Atomar's Bait Shop",
                                                              day, day, Decimal("1.00"))
    return {str(FIRST + n) for n in range(count)}


def test_no_orderby_answers_in_a_new_order_each_time(qbo):
    statement = "SELECT * FROM Customer"
    first, second, third = (ids(qbo, statement, "Customer") for _ in range(3))
    assert sorted(first) == sorted(second) == sorted(third) and len(first) == 8
    assert first != second and second != third  # never the same order twice running


def test_paging_without_orderby_skips_and_repeats_rows(emu, qbo):
    wanted = add_invoices(emu, 1_000)
    seen = []
    for start in range(1, 1_001, 100):
        seen += ids(qbo, f"SELECT * FROM Invoice WHERE CustomerRef = '65' AND Id >= '{FIRST}' "
                         f"STARTPOSITION {start} MAXRESULTS 100")
    assert len(seen) == 1_000 and len(set(seen)) < 1_000 and set(seen) < wanted


def test_paging_with_orderby_id_is_complete_each_row_once(emu, qbo):
    wanted = add_invoices(emu, 1_000)
    seen = []
    for start in range(1, 1_001, 100):
        seen += ids(qbo, f"SELECT * FROM Invoice WHERE CustomerRef = '65' AND Id >= '{FIRST}' ORDERBY Id "
                         f"STARTPOSITION {start} MAXRESULTS 100")
    assert seen == sorted(wanted, key=int)  # numerically, each once


def test_stable_order_switch_restores_id_order(emu, qbo):
    emu.stable_order = True
    assert emu.ledger.row_order.stable
    first = ids(qbo, "SELECT * FROM Customer", "Customer")
    assert first == ids(qbo, "SELECT * FROM Customer", "Customer") == [str(i) for i in range(58, 66)]
    emu.stable_order = False
    assert len({tuple(ids(qbo, "SELECT * FROM Customer", "Customer")) for _ in range(2)}) == 2


def test_orderby_id_is_numeric_and_desc_reverses(emu, qbo):
    add_invoices(emu, 3)  # 800000..800002, after 1120 and 195 numerically (not as text)
    asc = ids(qbo, "SELECT * FROM Invoice ORDERBY Id MAXRESULTS 1000")
    assert asc == sorted(asc, key=int) and asc.index("195") < asc.index("1001") < asc.index("800000")
    assert ids(qbo, "SELECT * FROM Invoice ORDERBY Id DESC MAXRESULTS 3") == ["800002", "800001", "800000"]
    assert ids(qbo, "SELECT * FROM Invoice ORDERBY Id ASC MAXRESULTS 2") == ["120", "130"]


def test_several_orderby_keys_break_ties_in_turn(emu, qbo):
    add_invoices(emu, 10)  # five dates, two invoices each
    statement = f"SELECT * FROM Invoice WHERE Id >= '{FIRST}' ORDERBY TxnDate DESC, Id"
    got = [(r["TxnDate"], r["Id"]) for r in rows(qbo, statement)]
    assert got == sorted(got, key=lambda t: (-int(t[0][-2:]), int(t[1])))
    assert got[:2] == [("2026-06-05", "800004"), ("2026-06-05", "800009")]


def test_ties_of_a_single_key_come_in_no_fixed_order(emu, qbo):
    add_invoices(emu, 50)
    statement = f"SELECT * FROM Invoice WHERE Id >= '{FIRST}' ORDERBY TxnDate"
    answers = [ids(qbo, statement) for _ in range(3)]
    dates = [[r["TxnDate"] for r in rows(qbo, statement)] for _ in range(2)]
    assert dates[0] == dates[1] == sorted(dates[0])  # the key is honoured...
    assert len({tuple(a) for a in answers}) > 1  # ...ties are not: only a total order pages safely
