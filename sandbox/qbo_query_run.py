"""Running a parsed query (sandbox/qbo_query.py) over records: filter, order, page.

Order: Intuit documents none for a query without ORDERBY, and paging such a query "may skip or repeat rows".
QuickBooks' API reference says of every entity's Id "Sort order is ASC by default", which may mean an Id order
when nothing else is asked for; since that is not a promise about query results [UNVERIFIED either way], the
emulator takes the harsher reading: each answer without ORDERBY comes in a new order (shuffled, and never the
same order twice running for the same filter), so STARTPOSITION paging really skips and repeats rows. Ties of an
ORDERBY are in no documented order either: they are shuffled too, so only a total order (ending in Id) pages
safely. `RowOrder.stable = True` restores the old order (Id ascending) for a test that needs it.

ORDERBY as documented (Intuit "Data queries": one attribute, ASC by default, DESC on request); several keys
(`ORDERBY FamilyName, GivenName`) appear in public client code (rwestlund/quickbooks-go, employee.go) but not in
Intuit's docs [UNVERIFIED]: the emulator accepts them. Id sorts numerically (Ids are digit strings). Records
without the property sort last in either direction [UNVERIFIED].
"""
from __future__ import annotations

import random
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.qbo_query import QUERYABLE, Cond, Query
from sandbox.qbo_wire import invalid_query, to_datetime

_REMEMBERED = 64  # filters whose last order is kept, to never answer the same order twice running


class RowOrder:
    """The order of rows when a query leaves it open: shuffled per answer, or stable (Id) when asked."""

    def __init__(self, seed: int = 0) -> None:
        self.stable = False
        self._rng = random.Random(seed)  # seeded: a run's sequence of orders is reproducible, tests never flaky
        self._lock = threading.Lock()
        self._last: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()

    def arrange(self, key: tuple, rows: list[dict]) -> list[dict]:
        """`rows` in this answer's order (a new list); `key` names the filter, so repeats can be told apart."""
        if self.stable:
            return sorted(rows, key=lambda r: id_key(r["Id"]))
        out = list(rows)
        with self._lock:
            self._rng.shuffle(out)
            ids = tuple(r["Id"] for r in out)
            if len(out) > 1 and self._last.get(key) == ids:
                out = out[1:] + out[:1]  # the same order twice would hide the bug this exists to show
                ids = ids[1:] + ids[:1]
            self._last[key] = ids
            self._last.move_to_end(key)
            while len(self._last) > _REMEMBERED:
                self._last.popitem(last=False)
        return out


def id_key(v: Any) -> tuple:
    """Ids compare as numbers (non-digit ones after every number, as text)."""
    s = str(v)
    return (0, int(s), "") if s.isdigit() else (1, 0, s)


def _raw(rec: dict, prop: str) -> Any:
    if prop == "CustomerRef":
        return (rec.get("CustomerRef") or {}).get("value")
    if prop.startswith("MetaData."):
        return (rec.get("MetaData") or {}).get(prop[9:])
    return rec.get(prop)


def _coercer(kind: str) -> Callable[[Any], Any]:
    """Turns a record's value or a literal into something comparable for this property kind."""
    def money(v: Any) -> Any:
        try:
            return Decimal(str(v))
        except InvalidOperation:
            raise invalid_query(f"value '{v}' is not a number") from None

    def date_time(v: Any) -> Any:
        try:
            return to_datetime(str(v))
        except ValueError:
            raise invalid_query(f"value '{v}' is not a valid date-time") from None

    return {
        "money": money, "id": id_key, "ref": id_key, "datetime": date_time,
        "bool": lambda v: str(v).lower() == "true", "date": lambda v: str(v)[:10], "str": str,
    }[kind]


def _like(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if p == "%" else re.escape(p) for p in pattern), re.S | re.I)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "in": lambda a, b: a == b,
}


def _predicate(entity: str, c: Cond) -> Callable[[dict], bool]:
    conv = _coercer(QUERYABLE[entity][c.prop])
    if c.op == "like":
        rx = _like(c.values[0])
        return lambda r: (v := _raw(r, c.prop)) is not None and rx.fullmatch(str(v)) is not None
    wanted = [conv(v) for v in c.values]
    fn = _OPS[c.op]
    if c.op == "in":  # equality with any of them: one set lookup, not a comparison per value (100 ids a query)
        among = set(wanted)
        return lambda r: (v := _raw(r, c.prop)) is not None and conv(v) in among

    def test(rec: dict) -> bool:
        v = _raw(rec, c.prop)
        if v is None:
            return False
        v = conv(v)
        return any(fn(v, w) for w in wanted)
    return test


def _filter_key(q: Query) -> tuple:
    """What identifies "the same result set" across pages: entity, conditions and ORDERBY, not the page."""
    return (q.entity, tuple((c.prop, c.op, tuple(c.values)) for c in q.where), tuple(q.order))


def _sorted(q: Query, rows: list[dict]) -> list[dict]:
    """Stable sorts, last key first, so the first ORDERBY key decides; missing values go last."""
    for prop, desc in reversed(q.order):
        conv = _coercer(QUERYABLE[q.entity][prop])
        present = [r for r in rows if _raw(r, prop) is not None]
        missing = [r for r in rows if _raw(r, prop) is None]
        present.sort(key=lambda r: conv(_raw(r, prop)), reverse=desc)
        rows = present + missing
    return rows


def execute(q: Query, records: list[dict], order: RowOrder) -> tuple[int | None, list[dict]]:
    """Filter, order and page; returns (totalCount for count(*) else None, the page of records)."""
    preds = [_predicate(q.entity, c) for c in q.where]
    rows = [r for r in records if all(p(r) for p in preds)]
    if q.count:
        return len(rows), []
    rows = _sorted(q, order.arrange(_filter_key(q), rows))
    return None, rows[q.start - 1:q.start - 1 + q.max]
