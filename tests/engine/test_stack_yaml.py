"""config.stack_yaml against the real Pulumi CLI: the values `pulumi config --json` reads from a stack file are the
values the offline reader gives, scalar by scalar, and a file Pulumi refuses is one the reader refuses."""

from __future__ import annotations

import json

import pytest

from config import stack_yaml
from hubctl.engine import Workspace

# Scalars where YAML 1.1 (PyYAML) and yaml.v3 differ, or where Pulumi's JSON round trip changes them.
SCALARS = """\
yesWord: yes
noWord: no
onWord: on
tilde: ~
trueWord: true
exponent: 1e3
fraction: 1.10
wholeFloat: 2.0
leadingDot: .5
octalZero: 0755
octalO: 0o17
hex: 0x1F
binary: 0b101
underscores: 1_000
plusSign: +3
sexagesimal: 1:30
date: 2025-10-20
dateTime: 2001-12-14t21:59:43.10-05:00
spacedTime: 2001-12-14 21:59:43.10
notADate: 2025-13-40
quotedDate: "2025-10-20"
version: 1.33.5
explicitString: !!str 0755
list: [yes, 1e3, "x"]
1: numericKey
true: booleanKey
"""


@pytest.fixture(scope="module")
def workspace():
    with Workspace("yaml") as workspace:
        yield workspace


def _write(workspace: Workspace, hub_yaml: str) -> None:
    # Keep what `stack init` wrote (the passphrase's salt); the config is appended as text, as an admin types it.
    kept = [line for line in workspace.stack_file.read_text().splitlines() if not line.startswith(("config", " "))]
    body = "".join(f"    {line}\n" for line in hub_yaml.splitlines())
    workspace.stack_file.write_text("\n".join(kept) + "\nconfig:\n  hubstack:hub:\n" + body)


def test_pulumi_reads_every_scalar_as_the_reader_does(workspace: Workspace):
    _write(workspace, SCALARS)
    shown = json.loads(workspace.pulumi("config", "--json", "--stack", "yaml").stdout)
    pulumi_value = json.loads(shown["hubstack:hub"]["value"])
    ours = stack_yaml.plain(stack_yaml.load(SCALARS))
    assert ours == pulumi_value
    # The differences that made this reader necessary, as Pulumi has them.
    assert pulumi_value["yesWord"] == "yes" and pulumi_value["exponent"] == 1000
    assert pulumi_value["date"] == "2025-10-20 00:00:00 +0000 UTC" and pulumi_value["octalZero"] == 493


def test_a_key_written_twice_is_refused_by_both(workspace: Workspace):
    twice = "name: first\nname: second\n"
    _write(workspace, twice)
    result = workspace.pulumi("config", "--json", "--stack", "yaml", check=False)
    assert result.returncode != 0 and "already defined" in result.stderr
    with pytest.raises(stack_yaml.StackYamlError, match="written twice"):
        stack_yaml.load(twice)


def test_flavors_written_by_pulumi_set_all_are_the_catalog_the_model_reads(workspace: Workspace):
    """`hubctl flavors --write` runs this command: what the real CLI writes is read back as the cloud's catalog."""
    from config import parse
    from config.loader import read_stack_file
    from hubctl import flavors

    from ..conftest import stack_data

    cloud = {"m3.medium": {"vcpus": 4, "ramGb": 8, "diskGb": 30, "gpus": 0},
             "odd.ram": {"vcpus": 1, "ramGb": 1.5, "diskGb": 0, "gpus": 1}}
    hub = stack_data("dev")
    _write(workspace, "\n".join(f"{key}: {json.dumps(value)}" for key, value in hub.items()))
    workspace.pulumi(*flavors.set_all_command(cloud, "yaml")[1:])
    catalog = parse(read_stack_file(workspace.stack_file), offline=True).cloud.flavor_catalog
    assert {name: catalog[name].model_dump(by_alias=True) for name in cloud} == cloud
