"""Fixtures for the reliability suite, and the figures file every test contributes a row to.

Rows go to $RELIABILITY_FIGURES, else <pytest basetemp>/reliability-figures.json; render the table with
`python tests/reliability/report.py <that file>` (writes docs/reliability.md).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.reliability.harness import ProcessBot

_ROWS: list[dict] = []
_PATH: list[Path] = []


class Figures:
    """Collects one row per test: what was injected, how often, and what it did to the ledger and the jobs."""

    def __init__(self, test: str) -> None:
        self.test = test

    def record(self, group: str, injected: str, *, times: int, jobs: int, payments: int, duplicates: int,
               lost: int, outcome: str = "") -> None:
        _ROWS.append({"test": self.test, "group": group, "injected": injected, "times": times, "jobs": jobs,
                      "payments": payments, "duplicates": duplicates, "lost": lost, "outcome": outcome})


@pytest.fixture
def figures(request) -> Figures:
    return Figures(request.node.nodeid.split("::", 1)[-1])


@pytest.fixture
def process_bot(tmp_path):
    made = []

    def make(**kwargs) -> ProcessBot:
        p = ProcessBot(tmp_path, **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def pytest_sessionfinish(session, exitstatus) -> None:
    # (conftest files below the root never see pytest_sessionstart, so the path is settled here)
    env = os.environ.get("RELIABILITY_FIGURES")
    path = Path(env) if env else Path(str(session.config._tmp_path_factory.getbasetemp())) / "reliability-figures.json"
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # under xdist each worker writes its own part: PATH.gw0.json …
    _PATH.append(path.with_suffix(f".{worker}.json") if worker else path)
    if _ROWS:
        _PATH[0].parent.mkdir(parents=True, exist_ok=True)
        _PATH[0].write_text(json.dumps({"rows": _ROWS}, indent=1))


def pytest_terminal_summary(terminalreporter) -> None:
    if _ROWS and _PATH:
        terminalreporter.write_line(f"reliability figures: {_PATH[0]} ({len(_ROWS)} rows)")
