"""Choosing the sandbox's company (SANDBOX_SEED / Sandbox(seed=...)), and the console's way out of a stuck sync."""
from __future__ import annotations

import pytest
import requests

from config import Settings
from sandbox.console.server import Console, fault_catalogue
from sandbox.run import CHANNEL, NOTIFY, REQUESTER, Sandbox, banner, start_sandbox


def test_sandbox_seed_large_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # start_sandbox starts from a fresh data/sandbox.db in the working folder
    monkeypatch.setenv("SANDBOX_SEED", "large")
    sb, settings = start_sandbox(Settings(sandbox=True), fast=True)
    try:
        assert sb.seed == "large" and sb.qbo.ledger.counts()["Invoice"] > 4_500
        sub = next(c for c in sb.qbo.ledger.list("Customer") if c["Job"])
        token = sb.qbo.mint_tokens()["access_token"]
        wire = requests.get(f"{sb.qbo.api_base}/customer/{sub['Id']}", timeout=5,
                            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}).json()
        got = wire["Customer"]
        assert (got["Job"], got["ParentRef"], got["Level"]) == (True, sub["ParentRef"], 1)
        assert got["FullyQualifiedName"].endswith(":" + got["DisplayName"]) and isinstance(got["BillWithParent"], bool)
        orgs = requests.get(f"{settings.connectbooster_base_url}/organizations", params={"search": got["DisplayName"]},
                            headers={"Authorization": f"Bearer {settings.connectbooster_api_key}"}, timeout=5).json()
        assert [o["external_refs"][0]["id"] for o in orgs["data"]] == [sub["Id"]]
        assert "the large company (SANDBOX_SEED=large)" in banner(sb)
    finally:
        sb.stop()


def test_the_default_is_the_help_articles_company(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SANDBOX_SEED", raising=False)
    sb, _ = start_sandbox(Settings(sandbox=True), fast=True)
    try:
        assert sb.seed == "default" and sb.qbo.ledger.counts()["Customer"] == 8
        assert "SANDBOX_SEED" not in banner(sb)
    finally:
        sb.stop()


def test_an_unknown_seed_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="default, large"):
        Sandbox(seed="huge")


def test_the_console_ends_a_stuck_sync():
    sb = Sandbox(fast=True)
    try:
        console = Console(sb, None, channel=CHANNEL, notify=NOTIFY, users={REQUESTER: "requester"})
        assert "end_stuck_sync" in fault_catalogue(90.0)
        console.inject("stuck_pending")
        stuck = sb.cb.start_scheduled_sync()
        answer = console.inject("end_stuck_sync")
        assert answer["ok"] and answer["ended"] and answer["message"].startswith(f"Sync {stuck['id']} ended: ")
        assert sb.cb.snapshot()["syncs"][0]["status"] == "failed"
        assert sb.cb.start_scheduled_sync()["id"] == stuck["id"] + 1  # a new run starts
        assert len(console.armed) == 1  # ending is not an armed trouble
        sb.cb.end_stuck_sync(status="finished")
        assert console.inject("end_stuck_sync")["message"].startswith("No ConnectBooster sync is pending or active")
    finally:
        sb.stop()
