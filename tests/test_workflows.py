"""The GitHub workflows: actionlint (with shellcheck on their scripts) passes on every one, and the rules a fork's
pull request must not break hold: actions pinned by commit, least permissions, no pull_request_target, a write
token only where no pull request code runs, `up` never cancelled and one stack at a time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import PROJECT_DIR

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str:
    found = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if not found or not Path(found).is_file():
        message = "actionlint is not built: `make test` builds it (or `make $HOME/.cache/hubstack-tools/...`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def test_actionlint_passes_on_every_workflow():
    result = subprocess.run([_actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert len(WORKFLOWS) == 4
    assert (result.returncode, result.stdout) == (0, "")


def test_actionlint_would_fail_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / "broken.yml"
    broken.write_text((PROJECT_DIR / ".github" / "workflows" / "hub-diff.yml").read_text().replace(
        "${{ github.event.pull_request.number }}", "${{ steps.nosuchstep.outputs.number }}").replace(
        "make setup", 'make setup; echo $UNQUOTED_$PR_NUMBER > "x"'))
    result = subprocess.run([_actionlint(), str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'property "nosuchstep" is not defined' in result.stdout and "[shellcheck]" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_by_commit_and_permissions_are_least(path: Path):
    text = path.read_text()
    uses = re.findall(r"uses:\s*(\S+)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action) for action in uses), uses
    workflow = _load(path)
    assert "pull_request_target" not in workflow["on"]
    granted = {scope: access for scope, access in workflow["permissions"].items()}
    assert "write-all" not in text and all(access in ("read", "write") for access in granted.values())
    writes = {scope for scope, access in granted.items() if access == "write"}
    if "pull_request" in workflow["on"] and writes:
        # A token that can write meets pull request code only on this repository's own branches.
        for job in workflow["jobs"].values():
            assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert writes <= {"pull-requests"}


def test_the_comment_workflow_runs_no_pull_request_code():
    workflow = _load(PROJECT_DIR / ".github" / "workflows" / "hub-diff-comment.yml")
    assert list(workflow["on"]) == ["workflow_run"] and workflow["on"]["workflow_run"]["workflows"] == ["hub diff"]
    steps = workflow["jobs"]["comment"]["steps"]
    assert not [step for step in steps if "checkout" in step.get("uses", "") or "run" in step]
    assert "conclusion == 'success'" in workflow["jobs"]["comment"]["if"]


def test_up_is_one_stack_at_a_time_behind_its_environment_and_never_cancelled():
    workflow = _load(PROJECT_DIR / ".github" / "workflows" / "hub-up.yml")
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["up"]
    assert job["strategy"]["max-parallel"] == 1 and job["environment"] == "${{ matrix.stack }}"
    assert list(workflow["on"]) == ["push", "workflow_dispatch"] and workflow["on"]["push"]["branches"] == ["main"]
