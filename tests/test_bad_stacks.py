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


def test_certificate_expiring_in_ten_days_is_a_warning_of_check(tmp_path: Path):
    """Dated from today, so not a file of the corpus: the base with a certificate of its own that expires in 10
    days (and its intermediate), the key set encrypted."""
    from datetime import timedelta

    from . import certs

    host = "corpus-hub.corpus.projects.jetstream-cloud.org"
    chain = certs.chain(certs.server(host, not_after=certs.NOW + timedelta(days=10)), certs.intermediate())
    manual = "      type: manual\n      certificate: |\n" + "".join(f"        {line}\n" for line in chain.splitlines())
    manual += "      key:\n        secure: v1:a2V5\n"
    text = (FIXTURES / "bad-stacks" / "Pulumi.valid.yaml").read_text()
    text = text.replace("      type: letsencrypt\n      email: hub-admins@example.org\n", manual)
    path = tmp_path / "Pulumi.expiring.yaml"
    path.write_text(text)
    code, output = _check(path)
    assert code == 0, output
    assert re.search(r"^warning: hub.tls.certificate: .* expires on .* \((9|10) days left\): renew it", output,
                     re.MULTILINE), output


def test_check_imports_no_pulumi_sdk():
    """What keeps `hubctl check` fast: it reads and judges a stack file without the Pulumi SDK or a provider."""
    script = ("import sys; from typer.testing import CliRunner; from hubctl.__main__ import app; "
              "result = CliRunner().invoke(app, ['check', '--stack', 'prod']); "
              "print(sorted({name.split('.')[0] for name in sys.modules if name.startswith('pulumi')}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
