"""docs/architecture.md is kept current: its diagram and tables are the code's own (rows generated here)."""
from pathlib import Path

from workflow import machine, policy
from workflow.connectbooster import AutomatedConnectBooster
from workflow.guided_half import GuidedConnectBooster

DOC = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()


def moves_rows() -> list[str]:
    """The table of moves as the doc shows it: one row per state, each target with what moves the job there."""
    head = ["| from | may go to (what moves it there) |", "|---|---|"]
    return head + [f"| `{a.name}` | " + "; ".join(f"`{b.name}` ({why})" for b, why in targets.items()) + " |"
                   for a, targets in machine.MOVES.items()]


def batch_rows() -> list[str]:
    head = ["| from | may go to (what moves it there) |", "|---|---|"]
    return head + [f"| `{a.name}` | " + "; ".join(f"`{b.name}` ({why})" for b, why in targets.items()) + " |"
                   for a, targets in machine.BATCH_MOVES.items()]


def _name(fn) -> str:
    owner = getattr(fn, "__self__", None)
    return f"{type(owner).__name__}.{fn.__name__}" if owner is not None else f"{fn.__module__}.{fn.__name__}"


def step_rows() -> list[str]:
    rows = ["| half | flavour | state | step |", "|---|---|---|---|"]
    rows += [f"| QuickBooks (both modes) | {f} | `{s.name}` | `{_name(fn)}` |"
             for (f, s), fn in machine.QUICKBOOKS_STEPS.items()]
    for label, half in (("ConnectBooster, API mode", AutomatedConnectBooster(None)),
                        ("ConnectBooster, guided mode", GuidedConnectBooster())):
        rows += [f"| {label} | {f} | `{s.name}` | `{_name(fn)}` |" for (f, s), fn in half.steps.items()]
    return rows


def test_the_state_diagram_is_the_one_in_workflow_machine():
    assert machine.__doc__.split("\n\n")[1] in DOC


def test_the_table_of_moves_is_the_machines():
    assert "\n".join(moves_rows()) in DOC
    assert "\n".join(batch_rows()) in DOC


def test_every_step_is_in_the_table():
    assert "\n".join(step_rows()) in DOC


def test_the_policy_table_is_the_one_in_workflow_policy():
    for line in policy.__doc__.splitlines():
        if line.startswith("|"):
            assert line in DOC, line


def test_security_shows_the_same_policy_table():
    security = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for line in policy.__doc__.splitlines():
        if line.startswith("|"):
            assert line in security, line
