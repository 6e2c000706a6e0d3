"""`hubctl flavors`: a cloud's catalog from Nova's answer (real openstacksdk resources), compared with the stack's,
and written with one `pulumi config set-all --path` whose result the model reads as that catalog."""

from __future__ import annotations

import json
import re

import pytest
from openstack.compute.v2.flavor import Flavor
from typer.testing import CliRunner

from config import parse
from hubctl import __main__ as cli
from hubctl import flavors, volumes

from .conftest import stack_data

NOVA = [
    Flavor(name="m3.medium", vcpus=4, ram=8192, disk=30, extra_specs={}),
    Flavor(name="m3.large", vcpus=8, ram=16384, disk=30, extra_specs={}),
    Flavor(name="g3.small", vcpus=4, ram=15360, disk=60, extra_specs={"resources:VGPU": "1"}),
    Flavor(name="gpu.2xa100", vcpus=16, ram=122880, disk=60, extra_specs={"pci_passthrough:alias": "a100:2"}),
    Flavor(name="odd.ram", vcpus=1, ram=1536, disk=0, extra_specs=None),
]


def test_catalog_reads_sizes_and_gpus_from_nova():
    assert flavors.catalog(NOVA) == {
        "g3.small": {"vcpus": 4, "ramGb": 15, "diskGb": 60, "gpus": 1},
        "gpu.2xa100": {"vcpus": 16, "ramGb": 120, "diskGb": 60, "gpus": 2},
        "m3.large": {"vcpus": 8, "ramGb": 16, "diskGb": 30, "gpus": 0},
        "m3.medium": {"vcpus": 4, "ramGb": 8, "diskGb": 30, "gpus": 0},
        "odd.ram": {"vcpus": 1, "ramGb": 1.5, "diskGb": 0, "gpus": 0},
    }


def test_compare_finds_a_preset_that_is_another_clouds():
    """Jetstream2's m3.medium is 8 vCPUs and 30 GB; a cloud whose m3.medium is 4 and 8 is told apart."""
    said = flavors.compare(flavors.catalog(NOVA), parse(stack_data("dev"), offline=True).cloud.flavor_catalog)
    assert said["m3.medium"] == "differs: vcpus 8 (cloud: 4), ramGb 30 (cloud: 8), diskGb 60 (cloud: 30)"
    assert said["gpu.2xa100"] == "missing"
    assert said["g3.small"] == "same"


@pytest.fixture
def nova(monkeypatch: pytest.MonkeyPatch):
    class Compute:
        def flavors(self, details: bool, get_extra_specs: bool, is_public):
            assert details and get_extra_specs and is_public is None
            return iter(NOVA)

    api = type("Api", (), {"compute": Compute()})()
    monkeypatch.setattr(volumes, "connect", lambda: api)


def test_cli_table_and_json(nova):
    result = CliRunner().invoke(cli.app, ["flavors", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^m3\.medium +4 +8 +30 +0 +differs: vcpus 8 \(cloud: 4\)", result.output, re.MULTILINE)
    assert "`hubctl flavors --write` writes them all" in result.output
    document = json.loads(CliRunner().invoke(cli.app, ["flavors", "--stack", "dev", "--json"]).stdout)
    assert document["flavors"]["gpu.2xa100"]["gpus"] == 2 and document["inTheStack"]["odd.ram"] == "missing"


def test_cli_write_sets_every_flavor_in_one_command_the_model_reads(nova, tmp_path, monkeypatch):
    calls = tmp_path / "calls.json"
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/usr/bin/env python3\nimport json, sys\nopen("{calls}", "w").write(json.dumps(sys.argv[1:]))\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    result = CliRunner().invoke(cli.app, ["flavors", "--stack", "dev", "--write"])
    assert result.exit_code == 0, result.output
    call = json.loads(calls.read_text())
    assert call[:3] == ["config", "set-all", "--path"] and call[-2:] == ["--stack", "dev"]
    # What Pulumi makes of them (tests/engine/test_stack_yaml.py runs the real command): strings, read as numbers.
    hub = stack_data("dev")
    for assignment in call[4:-2:2]:
        name, key, value = re.fullmatch(r'hub\.cloud\.flavors\["([^"]+)"\]\.(\w+)=(.+)', assignment).groups()
        hub["cloud"].setdefault("flavors", {}).setdefault(name, {})[key] = value
    catalog = parse(hub, offline=True).cloud.flavor_catalog
    assert (catalog["m3.medium"].vcpus, catalog["m3.medium"].ram_gb) == (4, 8)
    assert catalog["odd.ram"].ram_gb == 1.5 and catalog["gpu.2xa100"].gpus == 2
