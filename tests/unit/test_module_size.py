"""Every Python module of the project stays small enough to read in one sitting: at most 300 lines.

A module past the limit is split by concept (as bot.py's HTTP surface went to bot_http.py), not by line count."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 300


def _modules() -> list[Path]:
    """The tracked and the new (untracked, not ignored) .py files: what a commit would hold."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def test_the_module_list_covers_the_project():
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"bot.py", "bot_http.py", "workflow/machine.py", "tests/unit/test_module_size.py"} <= names
    assert not any(n.startswith(".venv/") for n in names)


def test_every_module_is_at_most_300_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert long == {}, f"split these by concept (limit {LIMIT} lines): {long}"
