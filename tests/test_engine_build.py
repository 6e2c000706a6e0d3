"""engine/build.sh and engine/charts.sh without their inputs: each says what is missing, in one line each, at once,
and builds nothing; what a failed pulumi run says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from config.model import (CERT_MANAGER_CHART, CINDER_CSI_CHART, DEFAULT_CERT_MANAGER_CHART, DEFAULT_CINDER_CSI_CHART,
                          DEFAULT_JUPYTERHUB_CHART, JUPYTERHUB_CHART)
from hubctl.engine import PulumiFailed

BUILD = Path(__file__).resolve().parent.parent / "engine" / "build.sh"
SOURCE_REPOS = {"pulumi/pulumi", "pulumi/pulumi-openstack", "pulumi/pulumi-command", "pulumi/pulumi-random",
                "pulumi/pulumi-tls", "pulumi/pulumi-yaml", "pulumi/pulumi-dotnet", "hashicorp/terraform-provider-tls"}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUBSTACK_ENGINE_CACHE": str(tmp_path / "cache"), "HUBSTACK_SOURCES": str(tmp_path / "none")}
    return subprocess.run([str(BUILD), *args], env=env, capture_output=True, text=True, timeout=60)


def test_missing_snapshots_are_named_before_anything_is_built(tmp_path):
    result = _run(tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    named = {line.split("fetch github:", 1)[1].split()[0] for line in lines if line.startswith("source missing:")}
    assert named == SOURCE_REPOS
    assert len(lines) == len(SOURCE_REPOS) + 1, "one line per snapshot, then what to do"
    assert "looked for commit" in lines[0] and str(tmp_path / "none") in lines[0]
    assert not any((tmp_path / "cache").glob("pulumi*")), "nothing is built when a snapshot is missing"


def test_check_says_in_one_line_what_is_not_built(tmp_path):
    result = _run(tmp_path, "--check")
    assert result.returncode == 3
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("engine incomplete: pulumi, pulumi-language-python, pulumi-resource-kubernetes")
    assert "run make engine" in result.stdout


def test_charts_check_says_in_one_line_what_is_missing(tmp_path):
    charts = BUILD.parent / "charts.sh"
    env = {**os.environ, "HUBSTACK_CHARTS": str(tmp_path / "charts")}
    result = subprocess.run([str(charts), "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stdout.count("\n") == 1
    # The archives charts.sh builds are those of the charts the config pins by default.
    assert (f"{JUPYTERHUB_CHART}-{DEFAULT_JUPYTERHUB_CHART}.tgz {CERT_MANAGER_CHART}-{DEFAULT_CERT_MANAGER_CHART}.tgz "
            f"{CINDER_CSI_CHART}-{DEFAULT_CINDER_CSI_CHART}.tgz") in result.stdout
    assert "make charts" in result.stdout


def test_a_failed_pulumi_run_shows_its_error_lines_however_long_the_output():
    # Pulumi indents a resource's error under Diagnostics, and the outputs and the summary follow it.
    stdout = "\n".join([
        "Updating (lab):", *[f"    + openstack:networking:Port port-{index} created" for index in range(40)],
        "Diagnostics:", "  openstack:compute:Instance (control-plane):",
        "    error:   sdk-v2/provider2.go:571: Error creating OpenStack server: got 400",
        "Outputs:", *[f"    output{index}: {index}" for index in range(20)], "Resources:", "    2 errored",
    ])
    failed = PulumiFailed(["up", "--yes"], subprocess.CompletedProcess(["pulumi"], 255, stdout, ""))
    assert "Error creating OpenStack server: got 400" in str(failed)
    assert str(failed).startswith("`pulumi up --yes` exited 255:\n")
    assert str(failed).endswith("2 errored")
