"""The local cloud after its processes were killed: what a session or machine that ends under it leaves behind.

Every process group is killed at once (nothing stops cleanly, every PID file stays), then `cloud.sh start` must bring
the same cloud back: the PID files of processes that died are not taken for services dying now. The tests after this
one run on the restarted cloud.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from .conftest import CLOUD_START_TIMEOUT, cloud_dir, cloud_script


def _process_groups() -> dict[str, int]:
    return {pid_file.stem: int(pid_file.read_text()) for pid_file in (cloud_dir() / "run").glob("*.pid")}


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_cloud_whose_processes_were_killed_starts_again(local_cloud: dict[str, Any]):
    groups = _process_groups()
    assert "nova-compute" in groups and "keystone" in groups, groups
    for group in groups.values():
        os.killpg(group, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(_alive(group) for group in groups.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for name, group in groups.items() if _alive(group)]
    assert cloud_script("status", timeout=60).returncode != 0

    started = cloud_script("start", timeout=CLOUD_START_TIMEOUT)
    assert started.returncode == 0, (started.stdout + started.stderr)[-3000:]
    status = cloud_script("status", timeout=60)
    assert status.returncode == 0, status.stdout
    # The same cloud: its resources were found again, not made anew.
    assert json.loads((cloud_dir() / "cloud.json").read_text()) == local_cloud
