"""The QBO query language (spec §2): parse and validate a statement (sandbox/qbo_query_run.py executes it).

    SELECT * | count(*) FROM Entity [WHERE p op v [AND ...]] [ORDERBY p [ASC|DESC][, ...]]
        [STARTPOSITION n] [MAXRESULTS n]

Keywords are case-insensitive, entity names case-sensitive, values single-quoted with `\\'` and `\\\\`
escapes. Parse errors are 4000 "Error parsing query"; a property that is not queryable is 4001 "Invalid query",
"QueryValidationError: property 'UnappliedAmt' is not queryable" (wording from a real answer quoted in
ruckus/quickbooks-ruby #258; the code 4001 is [UNVERIFIED]: Intuit's list gives 4000-range codes to query faults).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sandbox.qbo_wire import invalid_query, parse_error

ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
COMPANY_ENTITIES = ("Preferences", "CompanyInfo")  # one object each, `SELECT * FROM Preferences` (real-world 6.1)
MAX_RESULTS, DEFAULT_RESULTS = 1000, 100
KEYWORDS = {"select", "from", "where", "and", "orderby", "order", "by", "asc", "desc", "startposition",
            "maxresults", "like", "in", "count"}

# Property -> kind. Only these are filterable/sortable; anything else (UnappliedAmt!) is 4001. Id is "filterable,
# sortable" on every entity (Intuit's API reference); CustomerRef, Balance (Invoice, CreditMemo), TxnDate, DocNumber
# are filterable there; Payment has no Balance and its UnappliedAmt is not filterable (real-world.md, month-end).
_COMMON = {"Id": "id", "MetaData.CreateTime": "datetime", "MetaData.LastUpdatedTime": "datetime"}
_TXN = {**_COMMON, "DocNumber": "str", "TxnDate": "date", "CustomerRef": "ref", "TotalAmt": "money"}
QUERYABLE: dict[str, dict[str, str]] = {
    "Customer": {**_COMMON, "DisplayName": "str", "CompanyName": "str", "GivenName": "str",
                 "FamilyName": "str", "FullyQualifiedName": "str", "Balance": "money", "Active": "bool"},
    "Invoice": {**_TXN, "Balance": "money", "DueDate": "date"},
    "CreditMemo": {**_TXN, "Balance": "money"},
    "Payment": {k: v for k, v in _TXN.items() if k != "DocNumber"},
    "Preferences": {}, "CompanyInfo": {},
}

_TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*) | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>) | (?P<punct>[*(),])
""", re.X)


@dataclass
class Cond:
    prop: str
    op: str
    values: list[str]


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[Cond] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    start: int = 1
    max: int = DEFAULT_RESULTS


@dataclass
class Tok:
    kind: str  # ident | num | str | op | punct | eof
    text: str
    col: int


def _lex(src: str) -> list[Tok]:
    toks, i, n = [], 0, len(src)
    while i < n:
        if src[i] == "'":
            j, buf = i + 1, []
            while j < n and src[j] != "'":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(src[j])
                j += 1
            if j >= n:  # reported when the parser reaches it, as JavaCC's lazy lexer does
                toks.append(Tok("lexerr", f"Lexical error at line 1, column {n + 1}.  Encountered: <EOF> "
                                          f"after : \"{src[i:]}\"", i + 1))
                return toks
            toks.append(Tok("str", "".join(buf), i + 1))
            i = j + 1
            continue
        m = _TOKEN.match(src, i)
        if not m:
            ch = src[i]
            toks.append(Tok("lexerr", f"Lexical error at line 1, column {i + 1}.  Encountered: \"{ch}\" "
                                      f"({ord(ch)}), after : \"\"", i + 1))
            return toks
        if m.lastgroup != "ws":
            toks.append(Tok(m.lastgroup, m.group(), i + 1))
        i = m.end()
    toks.append(Tok("eof", "", n + 1))
    return toks


class _Parser:
    def __init__(self, src: str) -> None:
        self.toks, self.i = _lex(src), 0

    def peek(self) -> Tok:
        tok = self.toks[self.i]
        if tok.kind == "lexerr":
            raise parse_error(tok.text)
        return tok

    def next(self) -> Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, tok: Tok) -> None:
        kind = {"ident": "<IDENTIFIER>", "str": "<STRING_LITERAL>", "num": "<INTEGER>", "eof": "<EOF>"}
        shown = f'{kind.get(tok.kind, tok.text)} "{tok.text} "' if tok.kind != "eof" else "<EOF>"
        raise parse_error(f'Encountered " {shown}" at line 1, column {tok.col}.')

    def kw(self, *words: str) -> str | None:
        tok = self.peek()
        if tok.kind == "ident" and tok.text.lower() in words:
            self.i += 1
            return tok.text.lower()
        return None

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            self.fail(self.peek())

    def expect(self, kind: str, text: str | None = None) -> Tok:
        tok = self.next()
        if tok.kind != kind or (text is not None and tok.text != text):
            self.fail(tok)
        return tok

    def ident(self) -> str:
        tok = self.expect("ident")
        if tok.text.lower() in KEYWORDS:
            self.fail(tok)
        return tok.text

    def value(self) -> str:
        tok = self.next()
        if tok.kind in ("str", "num") or (tok.kind == "ident" and tok.text.lower() in ("true", "false")):
            return tok.text
        self.fail(tok)
        return ""

    def integer(self) -> int:
        tok = self.expect("num")
        if not tok.text.isdigit():
            self.fail(tok)
        return int(tok.text)

    def parse(self) -> Query:
        self.expect_kw("select")
        count = False
        if self.kw("count"):
            self.expect("punct", "("), self.expect("punct", "*"), self.expect("punct", ")")
            count = True
        else:
            self.expect("punct", "*")
        self.expect_kw("from")
        q = Query(self.ident(), count)
        if self.kw("where"):
            q.where.append(self.cond())
            while self.kw("and"):
                q.where.append(self.cond())
        if self.kw("orderby") or (self.kw("order") and not self.expect_kw("by")):
            q.order.append(self.order_item())
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.next()
                q.order.append(self.order_item())
        seen: set[str] = set()
        while (word := self.kw("startposition", "maxresults")) and word not in seen:
            seen.add(word)
            if word == "startposition":
                q.start = self.integer()
            else:
                q.max = self.integer()
        self.expect("eof")
        return q

    def cond(self) -> Cond:
        prop = self.ident()
        if self.kw("in"):
            self.expect("punct", "(")
            values = [self.value()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.next()
                values.append(self.value())
            self.expect("punct", ")")
            return Cond(prop, "in", values)
        if self.kw("like"):
            return Cond(prop, "like", [self.value()])
        op = self.expect("op").text
        return Cond(prop, op, [self.value()])

    def order_item(self) -> tuple[str, bool]:
        prop = self.ident()
        return prop, self.kw("asc", "desc") == "desc"


def _canonical(entity: str, prop: str) -> str:
    for name in QUERYABLE[entity]:
        if name.lower() == prop.lower():
            return name
    raise invalid_query(f"property '{prop}' is not queryable")


def parse(statement: str) -> Query:
    """Parse and validate a statement; raises QBOFault 4000/4001."""
    q = _Parser(statement.strip()).parse()
    if q.entity not in ENTITIES + COMPANY_ENTITIES:  # entity names are case-sensitive (spec §2); exact code unverified
        raise invalid_query(f"value '{q.entity}' is not a valid entity")
    for c in q.where:
        c.prop = _canonical(q.entity, c.prop)
        if c.op in ("!=", "<>"):  # not in Intuit's operator list; the exact fault is unverified
            raise invalid_query(f"operator '{c.op}' is not supported")
    q.order = [(_canonical(q.entity, p), d) for p, d in q.order]
    if q.start < 1:
        raise invalid_query(f"STARTPOSITION must be 1 or more, got {q.start}")
    if not 1 <= q.max <= MAX_RESULTS:  # real QBO's answer above 1000 is unverified: refuse it loudly
        raise invalid_query(f"MAXRESULTS must be between 1 and {MAX_RESULTS}, got {q.max}")
    return q
