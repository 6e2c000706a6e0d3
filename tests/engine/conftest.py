"""The engine tier runs only when the engine is complete: the CLI, the Python language host and every provider (and
for the change table, the chart archives of `make charts`).

`engine/build.sh --check` (and `engine/charts.sh --check`) tell, building nothing and asking no network. When it says the engine is incomplete,
this tier's tests are deselected (not skipped) and the run prints one line saying why. If the engine is complete,
the tests run and a failing preview fails them. Any other answer of the check (a broken build.sh) leaves the tests
in, so they fail on it too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hubctl.engine import BUILD, CHARTS, INCOMPLETE

ENGINE_TESTS = Path(__file__).resolve().parent
CHANGE_TABLE_TESTS = "test_changes.py"

_DESELECTED = pytest.StashKey[str]()


def _missing(check: Path) -> str | None:
    """What `check --check` says is missing (its exit 3), else None."""
    result = subprocess.run([str(check), "--check"], capture_output=True, text=True, timeout=60)
    if result.returncode != INCOMPLETE:
        return None
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else f"{check.name} --check: incomplete"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if ENGINE_TESTS in item.path.parents]
    if not ours:
        return
    said = []
    why = _missing(BUILD)
    if why is None and any(item.path.name == CHANGE_TABLE_TESTS for item in ours):
        # The change table's previews load the charts from their archives.
        why_charts = _missing(CHARTS)
        if why_charts is not None:
            ours = [item for item in ours if item.path.name == CHANGE_TABLE_TESTS]
            said.append(f"tests/engine/{CHANGE_TABLE_TESTS}: {len(ours)} tests deselected: {why_charts}")
    elif why is not None:
        said.append(f"tests/engine: {len(ours)} tests deselected: {why}")
    if not said:
        return
    ids = {id(item) for item in ours}
    items[:] = [item for item in items if id(item) not in ids]
    config.hook.pytest_deselected(items=ours)
    config.stash[_DESELECTED] = said[0]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ARG001
    line = config.stash.get(_DESELECTED, None)
    if line:
        terminalreporter.write_line(line)
