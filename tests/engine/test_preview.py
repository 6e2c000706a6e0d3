"""The real engine's `pulumi preview --json` of dev and prod against the offline plan of the same stack: the same
resources (count and types), no errors, no warnings but the expected ones. Runs only with a complete engine
(see conftest.py); each preview takes minutes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
PREVIEW = PROJECT_DIR / "engine" / "preview.sh"
PREVIEW_TIMEOUT = 1200  # seconds, per stack

# Diagnostics (severity warning, or the program's stderr) this tier accepts, as regexes. None so far.
EXPECTED_WARNINGS: list[re.Pattern[str]] = []


def offline_plan(stack: str, out: Path) -> list[dict[str, Any]]:
    """The resources of `hubctl plan` (the program under mocks)."""
    subprocess.run(
        [sys.executable, "-m", "hubctl", "plan", "--stack", stack, "--out", str(out)],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads((out / "plan.json").read_text())["resources"]


def real_preview(stack: str) -> dict[str, Any]:
    """`engine/preview.sh STACK --json`; fails the test, with what pulumi said, unless it succeeds."""
    result = subprocess.run(
        [str(PREVIEW), stack, "--json"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=PREVIEW_TIMEOUT
    )
    try:
        preview = json.loads(result.stdout)
    except json.JSONDecodeError:
        preview = None
    if result.returncode != 0 or preview is None:
        said = [d.get("message", "").strip() for d in (preview or {}).get("diagnostics", [])]
        pytest.fail(
            f"engine/preview.sh {stack} --json exited {result.returncode}\n"
            + "\n".join(said)
            + "\n--- stderr (last 40 lines) ---\n"
            + "\n".join(result.stderr.splitlines()[-40:])
        )
    return preview


def step_type_and_name(step: dict[str, Any]) -> tuple[str, str]:
    # urn:pulumi:STACK::PROJECT::ParentType$Type::name
    _, _, types, name = step["urn"].split("::", 3)
    return (step.get("newState") or {}).get("type") or types.rsplit("$", 1)[-1], name


def planned_by_engine(preview: dict[str, Any]) -> list[str]:
    """Types of the resources in the preview, less the default providers the engine adds by itself."""
    types = []
    for step in preview.get("steps", []):
        type_, name = step_type_and_name(step)
        if type_.startswith("pulumi:providers:") and name.startswith("default"):
            continue
        types.append(type_)
    return types


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_matches_offline_plan(stack: str, tmp_path: Path) -> None:
    preview = real_preview(stack)
    diagnostics = preview.get("diagnostics", [])
    errors = [d["message"] for d in diagnostics if d.get("severity") == "error"]
    assert not errors, f"preview of {stack} reported errors:\n" + "\n".join(errors)
    warnings = [
        d["message"].strip()
        for d in diagnostics
        if d.get("severity") in ("warning", "info#err")
        and not any(pattern.search(d["message"]) for pattern in EXPECTED_WARNINGS)
    ]
    assert not warnings, f"preview of {stack} gave unexpected warnings:\n" + "\n".join(warnings)

    real = Counter(planned_by_engine(preview))
    offline = Counter(resource["type"] for resource in offline_plan(stack, tmp_path))
    assert real == offline, (
        f"{stack}: preview has {sum(real.values())} resources, offline plan {sum(offline.values())}; "
        f"only in preview: {dict(real - offline)}; only in offline plan: {dict(offline - real)}"
    )
