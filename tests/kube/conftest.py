"""The local Kubernetes API's tier: kube/kube.sh's API server, controllers, scheduler and kwok, in a network
namespace of their own.

It runs when `kube/kube.sh check` says it can (root, and the binaries of `make kube` in their cache); else its tests
are deselected, with one line saying why. The session starts the API unless it already runs, and stops it again if
it started it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..conftest import PROJECT_DIR, deselect_tier, tier_missing

KUBE_TESTS = Path(__file__).resolve().parent
KUBE_SCRIPT = PROJECT_DIR / "kube" / "kube.sh"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if KUBE_TESTS in item.path.parents]
    if not ours:
        return
    why = tier_missing([str(KUBE_SCRIPT), "check"])
    if why is not None:
        deselect_tier(config, items, ours, f"tests/kube: {len(ours)} tests deselected: {why}")


def kube_script(*args: str, timeout: int = 120,
                environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(environment or {})})


class LocalKube:
    """Commands inside the API's network namespace, with its admin kubeconfig."""

    def run(self, *command: str, stdin: str | None = None, timeout: int = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KUBE_SCRIPT), "exec", "--", *command], input=stdin, capture_output=True,
                              text=True, timeout=timeout)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        result = self.run("kubectl", *args, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))


@pytest.fixture(scope="session")
def local_kube() -> Iterator[LocalKube]:
    was_running = kube_script("status").returncode == 0
    if not was_running:
        started = kube_script("start", timeout=300)
        if started.returncode != 0:
            pytest.fail(f"kube/kube.sh start failed:\n{(started.stdout + started.stderr)[-3000:]}", pytrace=False)
    yield LocalKube()
    if not was_running:
        kube_script("stop")
