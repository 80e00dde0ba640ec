"""docs/architecture.md is kept current: its diagram and tables are the code's own."""
from pathlib import Path

from workflow import machine, policy

DOC = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()


def test_the_state_diagram_is_the_one_in_workflow_machine():
    assert machine.__doc__.split("\n\n")[1] in DOC


def test_every_registered_step_is_in_the_table():
    for (flavor, state), fn in machine.table().items():
        assert f"| {flavor} | `{state.name}` ({state.value}) | `{fn.__module__}.{fn.__name__}` |" in DOC


def test_the_policy_table_is_the_one_in_workflow_policy():
    for line in policy.__doc__.splitlines():
        if line.startswith("|"):
            assert line in DOC, line
