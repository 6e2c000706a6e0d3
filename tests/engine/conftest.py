"""The engine tier runs only when the engine is complete: the CLI, the Python language host and every provider.

`engine/build.sh --check` tells, building nothing and asking no network. When it says the engine is incomplete,
this tier's tests are deselected (not skipped) and the run prints one line saying why. If the engine is complete,
the tests run and a failing preview fails them. Any other answer of the check (a broken build.sh) leaves the tests
in, so they fail on it too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hubctl.engine import BUILD, INCOMPLETE

ENGINE_TESTS = Path(__file__).resolve().parent

_DESELECTED = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if ENGINE_TESTS in item.path.parents]
    if not ours:
        return
    result = subprocess.run([str(BUILD), "--check"], capture_output=True, text=True, timeout=60)
    if result.returncode != INCOMPLETE:
        return
    ids = {id(item) for item in ours}
    items[:] = [item for item in items if id(item) not in ids]
    config.hook.pytest_deselected(items=ours)
    lines = result.stdout.strip().splitlines()
    why = lines[-1] if lines else "engine incomplete"
    config.stash[_DESELECTED] = f"tests/engine: {len(ours)} tests deselected: {why}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ARG001
    line = config.stash.get(_DESELECTED, None)
    if line:
        terminalreporter.write_line(line)
