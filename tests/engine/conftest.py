"""The engine tier runs only when the engine is complete: the CLI, the Python language host and every provider (and
for the change table, the chart archives of `make charts`).

`engine/build.sh --check` (and `engine/charts.sh --check`) tell, building nothing and asking no network. When one
says something is missing, the tests that need it are deselected (not skipped) and the run prints one line saying
why. Otherwise the tests run, and a failing preview fails them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hubctl.engine import BUILD, CHARTS

from ..conftest import deselect_tier, tier_missing

ENGINE_TESTS = Path(__file__).resolve().parent
CHANGE_TABLE_TESTS = "test_changes.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if ENGINE_TESTS in item.path.parents]
    if not ours:
        return
    why = tier_missing(BUILD)
    if why is not None:
        deselect_tier(config, items, ours, f"tests/engine: {len(ours)} tests deselected: {why}")
    elif any(item.path.name == CHANGE_TABLE_TESTS for item in ours):
        # The change table's previews load the charts from their archives.
        why_charts = tier_missing(CHARTS)
        if why_charts is not None:
            ours = [item for item in ours if item.path.name == CHANGE_TABLE_TESTS]
            deselect_tier(config, items, ours,
                          f"tests/engine/{CHANGE_TABLE_TESTS}: {len(ours)} tests deselected: {why_charts}")
