"""Shared test setup: the project on sys.path, stack fixtures, and the one Mocks class (hubctl.mocks.HubMocks)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UPSTREAM = PROJECT_DIR.parent / "shared" / "upstream"
sys.path.insert(0, str(PROJECT_DIR))

from config import read_stack_file  # noqa: E402
from config import errors as config_errors  # noqa: E402
from config.errors import get_path, join_path, split_path  # noqa: E402
from hubctl.engine import INCOMPLETE  # noqa: E402
from hubctl.mocks import HubMocks  # noqa: E402,F401  (the shared mocks, re-exported for tests)
from hubctl.plan import Plan, run_program  # noqa: E402


_DESELECTED = pytest.StashKey[list[str]]()


def tier_missing(check: list[str] | Path) -> str | None:
    """What a tier's check (exit 3 and one line) says is missing, else None. Any other answer (a broken check)
    leaves the tier's tests in, so they fail on it too."""
    command = [str(check), "--check"] if isinstance(check, Path) else check
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != INCOMPLETE:
        return None
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else f"{' '.join(command)}: cannot run here"


def deselect_tier(config: pytest.Config, items: list[pytest.Item], ours: list[pytest.Item], why: str) -> None:
    """Deselect (not skip) a tier's tests; the run's summary prints `why` as one line."""
    ids = {id(item) for item in ours}
    items[:] = [item for item in items if id(item) not in ids]
    config.hook.pytest_deselected(items=ours)
    config.stash.setdefault(_DESELECTED, []).append(why)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ARG001
    for line in config.stash.get(_DESELECTED, []):
        terminalreporter.write_line(line)


def stack_data(stack: str) -> dict[str, Any]:
    """The raw `hubstack:hub` value of one of the example stacks (a fresh copy)."""
    return copy.deepcopy(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))


def cilogon_auth(**users: list[str]) -> dict[str, Any]:
    """A login whose usernames are email addresses (CILogon's OpenID Connect), with these admin/allowed users."""
    return {"type": "oidc", "clientId": "cilogon:/client_id/hub", "usernameClaim": "email",
            "authorizeUrl": "https://cilogon.org/authorize", "tokenUrl": "https://cilogon.org/oauth2/token",
            "userdataUrl": "https://cilogon.org/oauth2/userinfo", **users}


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """config.errors.set_path, where `~` as value deletes the key (as in the invalid-config fixtures)."""
    if value == "~":
        *parents, last = split_path(path)
        parent = get_path(data, join_path(parents)) if parents else data
        del parent[last]
    else:
        config_errors.set_path(data, path, value)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    from config import load_stack_file

    return run_program(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"), "dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    from config import load_stack_file

    return run_program(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "prod")
