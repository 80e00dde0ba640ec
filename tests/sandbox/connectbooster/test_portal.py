"""The portal's own buttons on the emulator (what a person does in guided mode; the console offers them): they
behave as the contract's calls do (docs/connectbooster-api.md: a sync refreshes only records changed on or after
its sync_from; 409 while a run is pending or active; 422 for a date in the future; no date: one day back)."""
from __future__ import annotations

from datetime import date

import pytest

from sandbox.cb_api import ApiError
from tests.sandbox.connectbooster.test_story import apply_in_qbo, open_credit_ids


def test_resync_an_invoice_by_its_number(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")
    resync = cb.portal_resync("10040")
    assert resync["status"] == "pending" and resync["entity_id"] == 9040
    clock.advance(0.1)
    assert api("GET", "/invoices/9040").json()["balance"] == "110.00"
    assert cb.portal_resync("99999") is None  # no such invoice: the portal finds nothing


def test_sync_now_runs_from_the_date_entered(api, cb, ledger, clock):
    apply_in_qbo(ledger, "58", "130", "150", "10.00")  # changed on 2026-11-26
    clock.advance(2 * 86400)  # now 2026-11-28
    run = cb.portal_sync_now(date(2026, 11, 27))
    assert (run["trigger"], run["sync_from"], run["status"]) == ("manual", "2026-11-27", "pending")
    with pytest.raises(ApiError) as running:
        cb.portal_sync_now(date(2026, 11, 26))
    assert running.value.status == 409  # one run at a time, as the API answers
    clock.advance(1)
    assert open_credit_ids(api, 501) == [11261]  # the change is older than the date entered: not picked up
    run = cb.portal_sync_now(date(2026, 11, 26))  # covering it this time
    clock.advance(1)
    assert api("GET", f"/syncs/{run['id']}").json()["status"] == "finished"
    assert open_credit_ids(api, 501) == []


def test_sync_now_without_a_date_is_yesterday_and_a_future_date_is_refused(cb, clock):
    with pytest.raises(ApiError) as future:
        cb.portal_sync_now(date(2026, 11, 27))  # today is 2026-11-26
    assert future.value.status == 422 and future.value.details["field"] == "sync_from"
    assert cb.portal_sync_now()["sync_from"] == "2026-11-25"
