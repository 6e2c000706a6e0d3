"""`hubctl teardown`: what a targeted destroy of the servers takes along, read from the program's own resources, and
the command as an admin runs it (a stand-in `pulumi` on PATH that answers `stack export` and records the rest)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from hubctl import teardown
from hubctl.plan import Plan, run_program

from .conftest import PROJECT_DIR
from .variants import VARIANTS

SERVER = "openstack:compute/instance:Instance"
KEPT_TYPES = {"openstack:blockstorage/volume:Volume", "openstack:networking/floatingIp:FloatingIp",
              "openstack:networking/port:Port", "openstack:networking/network:Network",
              "openstack:networking/floatingIpAssociate:FloatingIpAssociate", "random:index/randomBytes:RandomBytes",
              "openstack:identity/applicationCredential:ApplicationCredential", "pulumi:providers:kubernetes"}


@lru_cache(maxsize=None)
def _plan(name: str) -> Plan:
    (variant,) = [variant for variant in VARIANTS if variant.name == name]
    return run_program(variant.config(), "test")


def _resources(plan: Plan) -> list[dict]:
    return plan.as_json()["resources"]


@pytest.mark.parametrize("variant", [variant.name for variant in VARIANTS])
def test_a_teardown_takes_the_servers_and_nothing_else(variant: str):
    resources = _resources(_plan(variant))
    decided = teardown.plan_teardown(resources)
    servers = sorted(resource["urn"] for resource in resources if resource["type"] == SERVER)
    assert servers and decided.servers == servers
    # Nothing depends on a server: the Kubernetes layer, the volumes, the address and the identity all stay.
    assert decided.goes == servers
    kept = {resource["type"] for resource in resources if resource["urn"] in decided.stays}
    assert {resource_type for resource_type in KEPT_TYPES
            if any(resource["type"] == resource_type for resource in resources)} <= kept
    assert {resource["type"] for resource in resources if resource["type"].startswith("kubernetes:")} <= kept


@pytest.mark.parametrize("variant", ["dev", "prod", "nfs-homes-manual-tls", "cinder-adopted-volumes"])
def test_every_kubernetes_object_is_deleted_with_its_provider_not_through_it(variant: str):
    resources = _resources(_plan(variant))
    (provider,) = [resource for resource in resources if resource["type"] == "pulumi:providers:kubernetes"]
    in_cluster = [resource for resource in resources if resource["provider"] == provider["urn"]]
    assert len(in_cluster) >= 7  # the namespace, storage, TLS and the release at least
    assert {resource["deletedWith"] for resource in in_cluster} == {provider["urn"]}
    assert not [resource["name"] for resource in resources
                if resource["deletedWith"] and resource["provider"] != provider["urn"]]


def _state(urn: str, **fields) -> dict:
    return {"urn": urn, "type": fields.pop("type", "test:index:Thing"), **fields}


def test_dependents_follow_every_edge_the_engine_counts():
    provider = "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s"
    thing = "urn:pulumi:s::p::test:index:Thing::"
    resources = [
        _state(f"{thing}server", type=SERVER),
        _state(f"{thing}by-dependency", dependencies=[f"{thing}server"]),
        _state(f"{thing}by-property", propertyDependencies={"x": [f"{thing}by-dependency"]}),
        _state(provider, type="pulumi:providers:kubernetes", dependencies=[f"{thing}by-property"]),
        # State writes a provider reference with the provider's ID after its URN.
        _state(f"{thing}by-provider", provider=f"{provider}::0c1e2f"),
        _state(f"{thing}by-deleted-with", deletedWith=f"{thing}by-provider"),
        _state(f"{thing}child", parent=f"{thing}by-deleted-with"),
        _state(f"{thing}volume", type="openstack:blockstorage/volume:Volume", id="v-1",
               inputs={"name": "hub-shared-data", "size": 50.0}),
        _state(f"{thing}unrelated", dependencies=[f"{thing}volume"]),
    ]
    decided = teardown.plan_teardown(resources)
    assert sorted(urn.rsplit("::", 1)[1] for urn in decided.goes) == sorted(
        ["server", "by-dependency", "by-property", "k8s", "by-provider", "by-deleted-with", "child"])
    assert sorted(urn.rsplit("::", 1)[1] for urn in decided.stays) == ["unrelated", "volume"]
    assert "  - volume hub-shared-data, 50 GB (id v-1)" in teardown.describe(resources, decided)


def _fake_pulumi(folder: Path, state: dict) -> dict[str, str]:
    """A `pulumi` that prints `state` for `stack export` and appends every other command line to calls.log."""
    (folder / "state.json").write_text(json.dumps(state))
    script = folder / "pulumi"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {shlex.quote(str(folder / 'calls.log'))}
if [ "$1 $2" = "stack export" ]; then cat {shlex.quote(str(folder / 'state.json'))}; fi
""")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def _hubctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubctl", "teardown", *args], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


def test_teardown_prints_what_goes_and_stays_and_runs_the_destroy_it_prints(tmp_path: Path):
    plan = _plan("prod")
    env = _fake_pulumi(tmp_path, {"version": 3, "deployment": {"resources": _resources(plan)}})
    result = _hubctl(env, "--stack", "prod", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls[0] == "stack export --stack prod"
    servers = sorted(resource.urn for resource in plan.resources if resource.type == SERVER)
    expected = ["destroy", "--stack", "prod", *[part for urn in servers for part in ("--target", urn)],
                "--target-dependents", "--yes"]
    assert calls[1:] == [" ".join(expected)]
    # The command an admin can run without hubctl, quoted for a shell, is the one that ran.
    assert f"  {shlex.join(['pulumi', *expected])}\n" in result.stdout
    assert "  - server atmos-course-worker-3 (m3.large, its 100 GB boot volume)" in result.stdout
    assert "  - volume atmos-course-shared-data" in result.stdout
    assert "the Kubernetes layer (11 resources" in result.stdout


def test_teardown_of_a_stack_without_servers_runs_nothing(tmp_path: Path):
    env = _fake_pulumi(tmp_path, {"version": 3, "deployment": {"resources": [
        resource for resource in _resources(_plan("dev")) if resource["type"] != SERVER]}})
    result = _hubctl(env, "--stack", "dev", "--yes")
    assert result.returncode == 0, result.stderr
    assert "nothing to tear down: the stack dev holds no server" in result.stdout
    assert (tmp_path / "calls.log").read_text().splitlines() == ["stack export --stack dev"]


def test_teardown_without_pulumi_says_so(tmp_path: Path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = _hubctl(env, "--stack", "dev")
    assert result.returncode == 2
    assert "hubctl: no `pulumi` on PATH" in result.stderr and "Traceback" not in result.stderr
