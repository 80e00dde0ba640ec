"""The query endpoint (spec §2) over HTTP: escaping, faults, empty results, pagination, count(*)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.sandbox.qbo.helpers import fault


def rows(r, entity):
    assert r.status_code == 200, r.text
    return r.json(parse_float=Decimal)["QueryResponse"].get(entity)


@pytest.mark.parametrize("post", [False, True])
def test_escaped_apostrophe_finds_the_customer(qbo, post):
    r = qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Atomar\\'s Best Tackle'", post=post)
    [c] = rows(r, "Customer")
    assert c["Id"] == "58" and c["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    body = r.json()["QueryResponse"]
    assert body["startPosition"] == 1 and body["maxResults"] == 1 and r.json()["time"]


def test_curly_apostrophes_and_like(qbo):
    [c] = rows(qbo.query("select * from Customer where DisplayName = 'O\u2019Malley\u2019s Marina'"), "Customer")
    assert c["Id"] == "61"
    found = rows(qbo.query("SELECT * FROM Customer WHERE DisplayName LIKE 'atomar%' ORDERBY DisplayName"),
                 "Customer")
    assert [c["DisplayName"] for c in found] == ["Atomar's Bait Shop", "Atomar's Best Tackle"]
    [c] = rows(qbo.query("SELECT * FROM Customer WHERE DisplayName LIKE '%<!channel>%'"), "Customer")
    assert c["Id"] == "62"
    assert len(rows(qbo.query("SELECT * FROM Customer WHERE Id IN ('58', '59', '999')"), "Customer")) == 2


def test_unescaped_apostrophe_is_4000(qbo):
    r = qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Atomar's Best Tackle'")
    assert r.status_code == 400
    err = fault(r)
    assert err["code"] == "4000" and err["Message"] == "Error parsing query"
    assert err["Detail"].startswith("QueryParserError: Encountered") and '"s' in err["Detail"]
    assert r.json()["Fault"]["type"] == "ValidationFault"


@pytest.mark.parametrize("statement", [
    "SELECT * FROM Invoice WHERE", "SELECT Id FROM Invoice", "SELECT * FROM Invoice WHERE Balance > '0' OR Id = '1'",
    "SELECT * FROM Invoice MAXRESULTS ten", "", "SELECT * FROM Customer WHERE DisplayName = \u2019x\u2019",
    "SELECT * FROM Invoice WHERE DocNumber = '10040",
])
def test_parse_errors_are_4000(qbo, statement):
    r = qbo.query(statement)
    assert r.status_code == 400 and fault(r)["code"] == "4000"


def test_unapplied_amt_is_not_queryable(qbo):
    r = qbo.query("SELECT * FROM Payment WHERE UnappliedAmt != '0.0'")
    assert r.status_code == 400
    err = fault(r)
    assert err["code"] == "4001" and err["Message"] == "Invalid query"
    assert err["Detail"] == "QueryValidationError: property 'UnappliedAmt' is not queryable"


def test_no_match_has_no_entity_key(qbo):
    r = qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'")
    assert r.status_code == 200 and r.json()["QueryResponse"] == {}
    assert qbo.query("select * from Invoice STARTPOSITION 500").json()["QueryResponse"] == {}


def test_entity_names_are_case_sensitive_keywords_are_not(qbo):
    assert qbo.query("select * from invoice").status_code == 400
    assert rows(qbo.query("sElEcT * FrOm Invoice wHeRe DocNumber = '10040'"), "Invoice")[0]["Id"] == "130"


def test_pagination_over_coastal_bait_120_invoices(qbo):
    base = "SELECT * FROM Invoice WHERE CustomerRef = '60' AND Balance > '0' ORDERBY TxnDate"
    page1 = rows(qbo.query(base), "Invoice")
    assert len(page1) == 100  # default MAXRESULTS
    page2 = qbo.query(base + " STARTPOSITION 101 MAXRESULTS 100").json()["QueryResponse"]
    assert page2["startPosition"] == 101 and page2["maxResults"] == 20 and len(page2["Invoice"]) == 20
    docs = [i["DocNumber"] for i in page1 + page2["Invoice"]]
    assert docs == [str(20000 + n) for n in range(1, 121)]
    assert len(rows(qbo.query(base + " STARTPOSITION 1 MAXRESULTS 1000"), "Invoice")) == 120
    assert qbo.query(base + " MAXRESULTS 1001").status_code == 400
    newest = rows(qbo.query(base + " DESC MAXRESULTS 1"), "Invoice")
    assert newest[0]["DocNumber"] == "20120"


def test_count(qbo):
    r = qbo.query("SELECT count(*) FROM Invoice WHERE CustomerRef = '60'")
    assert r.json()["QueryResponse"] == {"totalCount": 120}
    assert qbo.query("SELECT COUNT(*) FROM Customer WHERE Id = '0'").json()["QueryResponse"] == {"totalCount": 0}


def test_numeric_and_date_filters(qbo, emu):
    open_58 = rows(qbo.query("SELECT * FROM Invoice WHERE CustomerRef = '58' AND Balance >= '85' "
                             "ORDERBY Balance DESC"), "Invoice")
    assert [(i["Id"], i["Balance"]) for i in open_58] == [("130", Decimal("120.00")), ("120", Decimal("85.00"))]
    # 9 < 10 numerically although "9" > "10" as text
    assert rows(qbo.query("SELECT * FROM CreditMemo WHERE Balance < '100' AND Balance > '9'"), "CreditMemo")
    sept = rows(qbo.query("SELECT * FROM Invoice WHERE TxnDate >= '2026-09-01' AND TxnDate <= '2026-09-30' "
                          "AND CustomerRef IN ('58', '59', '63', '64')"), "Invoice")
    assert {i["Id"] for i in sept} == {"130", "140", "180", "190"}
    assert rows(qbo.query("SELECT * FROM Customer WHERE Active = true"), "Customer")
    paid = rows(qbo.query("SELECT * FROM Invoice WHERE Balance = '0'"), "Invoice")
    assert [i["Id"] for i in paid] == ["141"]
    payments = rows(qbo.query("SELECT * FROM Payment WHERE CustomerRef = '59'"), "Payment")
    assert payments[0]["Id"] == "171" and payments[0]["UnappliedAmt"] == Decimal("25.00")
    last = rows(qbo.query("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-08-19'"), "Invoice")
    assert "141" in {i["Id"] for i in last} and "120" not in {i["Id"] for i in last}


def test_cdc_reports_changes_and_deletions(emu, qbo, clock):
    since = "2026-11-01T00:00:00-07:00"
    url = f"{emu.api_base}/cdc"
    params = {"entities": "Payment,Invoice,CreditMemo", "changedSince": since, "minorversion": 75}
    empty = qbo.http.get(url, params=params, headers=qbo._headers(), timeout=10)
    assert empty.status_code == 200 and empty.json()["CDCResponse"][0]["QueryResponse"] == [{}, {}, {}]
    clock.set(1_793_600_000.0)  # 2026-11-02
    qbo.token = emu.mint_tokens()["access_token"]  # a month later: the first one expired
    emu.ledger.apply_after_first_sync()
    p = emu.ledger.get("Payment", "171")
    emu.ledger.delete_payment({"Id": "171", "SyncToken": p["SyncToken"]})
    r = qbo.http.get(url, params=params, headers=qbo._headers(), timeout=10).json()
    pay, inv, cm = r["CDCResponse"][0]["QueryResponse"]
    assert {x["Id"]: x.get("status") for x in pay["Payment"]} == {
        emu.ledger.apply_after_first_sync()[0]["Id"]: None, "171": "Deleted"}
    assert {x["Id"] for x in inv["Invoice"]} == {"190", "141"} and inv["maxResults"] == 2
    assert [x["Id"] for x in cm["CreditMemo"]] == ["155"]


def test_entity_path_case_and_headers(qbo, emu):
    r = qbo.http.get(f"{emu.api_base}/Invoice/130", headers=qbo._headers(), timeout=10)
    assert r.status_code == 200 and r.headers["intuit_tid"] and r.headers["qbo-version"]
    r = qbo.http.get(f"{emu.api_base}/bill/1", headers=qbo._headers(), timeout=10)
    # real-world.md 6.4: a resource QuickBooks (here: the emulator) lacks is 400 ValidationFault code "500".
    assert r.status_code == 400 and r.headers["intuit_tid"]
    assert r.json()["Fault"]["type"] == "ValidationFault" and r.json()["Fault"]["Error"][0]["code"] == "500"
