"""Shared test setup: the project on sys.path, stack fixtures, and the one Mocks class (hubctl.mocks.HubMocks)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UPSTREAM = PROJECT_DIR.parent / "shared" / "upstream"
sys.path.insert(0, str(PROJECT_DIR))

from config import read_stack_file  # noqa: E402
from config.errors import split_path  # noqa: E402
from hubctl.mocks import HubMocks  # noqa: E402,F401  (the shared mocks, re-exported for tests)
from hubctl.plan import Plan, run_program  # noqa: E402


def stack_data(stack: str) -> dict[str, Any]:
    """The raw `hubstack:hub` value of one of the example stacks (a fresh copy)."""
    return copy.deepcopy(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set `profiles[1].memory.limit` in nested dicts and lists; `~` as value deletes the key."""
    steps = split_path(path)
    target: Any = data
    for step in steps[:-1]:
        if isinstance(step, str) and step not in target:
            target[step] = {}
        target = target[step]
    if value == "~":
        del target[steps[-1]]
    else:
        target[steps[-1]] = value


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    from config import load_stack_file

    return run_program(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"), "dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    from config import load_stack_file

    return run_program(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "prod")
