"""The real engine's `pulumi preview` of dev and prod against the offline plan of the same stack: the same
resources (count and types), no diagnostics at all. Runs only with a complete engine (see conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from config import read_stack_file
from hubctl.changes import steps_of
from hubctl.engine import Workspace

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def offline_plan(stack: str, out: Path) -> list[dict[str, Any]]:
    """The resources of `hubctl plan` (the program under mocks)."""
    subprocess.run(
        [sys.executable, "-m", "hubctl", "plan", "--stack", stack, "--out", str(out)],
        cwd=PROJECT_DIR, check=True, capture_output=True, text=True,
    )
    return json.loads((out / "plan.json").read_text())["resources"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_matches_offline_plan(stack: str, tmp_path: Path) -> None:
    with Workspace(stack) as workspace:
        workspace.set_config(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
        preview = workspace.preview()
    said = [f"{d.get('severity')}: {d.get('message', '').strip()}" for d in preview.get("diagnostics", [])]
    assert not said, f"preview of {stack} said:\n" + "\n".join(said)

    steps = steps_of(preview)  # the resources a provider makes: no components, no default providers
    assert {step.op for step in steps} == {"create"}, "a preview of a new stack only creates"
    real = Counter(step.type for step in steps)
    offline = Counter(resource["type"] for resource in offline_plan(stack, tmp_path) if resource["custom"])
    assert real == offline, (
        f"{stack}: preview has {sum(real.values())} resources, offline plan {sum(offline.values())}; "
        f"only in preview: {dict(real - offline)}; only in offline plan: {dict(offline - real)}"
    )
