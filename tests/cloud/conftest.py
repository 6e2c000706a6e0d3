"""The local cloud's tier: the real program, run by the real engine, against the OpenStack of `make cloud`.

It runs when the engine is built and `cloud/cloud.sh check` says the cloud can be installed here (else its tests are
deselected, with one line saying why); the whole hub's tests, when the local Kubernetes API (`make kube`) and the
charts' archives (`make charts`, run here when they are missing) are there as well. The session starts the cloud (installing it first when needed)
unless it already runs, and stops it again if it started it. Each step's wall time is printed at the end of the run
and written to build/cloud/timings.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from hubctl.engine import BUILD

from ..conftest import PROJECT_DIR, deselect_tier, tier_missing

CLOUD_TESTS = Path(__file__).resolve().parent
CLOUD_SCRIPT = PROJECT_DIR / "cloud" / "cloud.sh"
KUBE_SCRIPT = PROJECT_DIR / "kube" / "kube.sh"
CHARTS_SCRIPT = PROJECT_DIR / "engine" / "charts.sh"
WHOLE_HUB_TESTS = "test_whole_hub.py"
TIMINGS = PROJECT_DIR / "build" / "cloud" / "timings.json"
CLOUD_START_TIMEOUT = 1800  # a cold install downloads ~160 MB of Debian packages

_TIMINGS = pytest.StashKey[list[tuple[str, float]]]()


def cloud_dir() -> Path:
    return Path(os.environ.get("HUBSTACK_CLOUD_DIR", Path.home() / ".cache" / "hubstack-cloud"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if CLOUD_TESTS in item.path.parents]
    if not ours:
        return
    why = tier_missing(BUILD) or tier_missing([str(CLOUD_SCRIPT), "check"])
    if why is not None:
        deselect_tier(config, items, ours, f"tests/cloud: {len(ours)} tests deselected: {why}")
        return
    # The whole hub's Kubernetes layer needs the local Kubernetes API and the charts as local archives as well.
    whole = [item for item in ours if item.path.name == WHOLE_HUB_TESTS]
    why = whole and (tier_missing([str(KUBE_SCRIPT), "check"]) or _charts_missing())
    if why:
        deselect_tier(config, items, whole, f"tests/cloud/{WHOLE_HUB_TESTS}: {len(whole)} tests deselected: {why}")


def _charts_missing() -> str | None:
    """None once the charts' archives are there, built now when they can be (`make charts`: seconds, from the Go
    module proxy and the z2jh snapshot); else why not, in one line."""
    if tier_missing([str(CHARTS_SCRIPT), "--check"]) is None:
        return None
    built = subprocess.run([str(CHARTS_SCRIPT)], capture_output=True, text=True, timeout=600,
                           env={**os.environ, "PYTHON": sys.executable})
    if built.returncode == 0:
        return None
    lines = (built.stdout + built.stderr).strip().splitlines()
    return f"make charts failed: {lines[-1] if lines else built.returncode}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ARG001
    timings = config.stash.get(_TIMINGS, [])
    if not timings:
        return
    terminalreporter.write_line("local cloud, wall time of each step:")
    for step, seconds in timings:
        terminalreporter.write_line(f"  {seconds:7.1f} s  {step}")
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps([{"step": step, "seconds": round(seconds, 1)} for step, seconds in timings],
                                  indent=2) + "\n")


class Stopwatch:
    def __init__(self, config: pytest.Config) -> None:
        self._timings = config.stash.setdefault(_TIMINGS, [])

    def record(self, step: str, seconds: float) -> None:
        self._timings.append((step, seconds))

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self._timings.append((step, time.monotonic() - start))


@pytest.fixture(scope="session")
def stopwatch(request: pytest.FixtureRequest) -> Stopwatch:
    return Stopwatch(request.config)


def cloud_script(command: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLOUD_SCRIPT), command], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def local_cloud(stopwatch: Stopwatch) -> Iterator[dict[str, Any]]:
    """The cloud's facts (cloud/cloud.sh writes cloud.json: IDs of the external network and image, flavors, the
    clouds.yaml entries), with the cloud running."""
    was_running = cloud_script("status", timeout=60).returncode == 0
    if not was_running:
        with stopwatch("cloud.sh start (install when needed, start every service, bootstrap)"):
            started = cloud_script("start", timeout=CLOUD_START_TIMEOUT)
        if started.returncode != 0:
            pytest.fail(f"cloud/cloud.sh start failed:\n{(started.stdout + started.stderr)[-3000:]}", pytrace=False)
    yield json.loads((cloud_dir() / "cloud.json").read_text())
    if not was_running:
        with stopwatch("cloud.sh stop"):
            cloud_script("stop", timeout=300)
