"""The Makefile a newcomer meets: `make help` documents every target, and a stack file given with CONFIG is the
only one a command names."""

from __future__ import annotations

import re
import subprocess

from .conftest import PROJECT_DIR


def _make(*args: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=PROJECT_DIR, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_lists_every_target_with_what_it_does():
    listed = dict(re.findall(r"^  make (\S+) +(.+)$", _make("help"), re.MULTILINE))
    makefiles = [PROJECT_DIR / "Makefile", PROJECT_DIR / "engine" / "engine.mk", PROJECT_DIR / "cloud" / "cloud.mk"]
    phony = {target for path in makefiles for line in path.read_text().splitlines()
             if line.startswith(".PHONY:") for target in line.split(":", 1)[1].split()}
    assert phony <= set(listed), phony - set(listed)
    assert all(len(text) > 10 for text in listed.values())
    assert _make() == _make("help")  # plain `make` helps, too


def test_config_is_the_only_stack_a_command_names():
    for target in ("plan", "check"):
        command = _make("-n", target, "CONFIG=elsewhere/Pulumi.x.yaml").strip().splitlines()[-1]
        assert "--config elsewhere/Pulumi.x.yaml" in command and "--stack" not in command, command
        assert "--stack prod" in _make("-n", target, "STACK=prod").strip().splitlines()[-1]
