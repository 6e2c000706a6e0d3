"""The corpus of bad stack files (tests/fixtures/bad-stacks/): each is a whole stack file with one mistake, and
its header says what `hubctl check` must answer, as an admin reads it:

    # problem: <key as typed> :: <words the message must hold>
    # warning: <key> :: <words>

A file with a problem exits 1 and lists exactly the keys its header names; a file with warnings only passes and
prints them. No answer may be a Python traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hubctl.__main__ import app

from .conftest import FIXTURES, PROJECT_DIR

CORPUS = sorted((FIXTURES / "bad-stacks").glob("Pulumi.*.yaml"))
EXPECTATION = re.compile(r"^# (problem|warning): (.+?) :: (.+)$", re.MULTILINE)


def _expected(path: Path) -> list[tuple[str, str, str]]:
    return EXPECTATION.findall(path.read_text())


def _check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", "--config", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_corpus_is_whole():
    assert len(CORPUS) >= 45
    assert all(_expected(path) for path in CORPUS if path.name != "Pulumi.valid.yaml")


def test_corpus_base_is_valid_and_silent():
    code, output = _check(FIXTURES / "bad-stacks" / "Pulumi.valid.yaml")
    assert code == 0, output
    assert output == "valid: valid; hub at https://corpus-hub.corpus.projects.jetstream-cloud.org\n"


@pytest.mark.parametrize("path", [pytest.param(path, id=path.name[7:-5]) for path in CORPUS
                                  if path.name != "Pulumi.valid.yaml"])
def test_bad_stack_file_gets_its_answer(path: Path):
    expected = _expected(path)
    code, output = _check(path)
    assert "Traceback" not in output
    problems = {key for kind, key, _ in expected if kind == "problem"}
    assert code == (1 if problems else 0), output
    listed = set(re.findall(r"^  - (.+?): ", output, re.MULTILINE))
    assert listed == problems, output
    for kind, key, words in expected:
        line = f"  - {key}: " if kind == "problem" else f"warning: {key}: "
        assert any(found.startswith(line) and words in found for found in output.splitlines()), output


def test_check_as_a_command_prints_no_traceback_and_exits_1():
    """The same as an admin runs it: a process of its own, the problem on stderr."""
    bad = FIXTURES / "bad-stacks" / "Pulumi.set-without-path.yaml"
    result = subprocess.run([sys.executable, "-m", "hubctl", "check", "--config", str(bad)], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "hubstack:cluster.workerCount: is ignored" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
