"""`hubctl flavors`: a cloud's flavor catalog from its API, beside the stack's, and the command that writes it into
the stack (`hub.cloud.flavors`). Pure functions here; the CLI in hubctl/__main__.py reads the API."""

from __future__ import annotations

import re
from typing import Any, Mapping

from config.model import Flavor

FLAVORS_PATH = "hub.cloud.flavors"


def gpus(extra_specs: Mapping[str, str]) -> int:
    """GPUs (or slices of one) a flavor's extra specs ask Nova for: vGPU resources or PCI passthrough aliases."""
    count = 0
    for key, value in extra_specs.items():
        if key == "resources:VGPU" or (key.startswith("resources") and key.endswith(":VGPU")):
            count += int(value)
        elif key == "pci_passthrough:alias":
            # "a100:1" or "a100:1,t4:2": alias:count pairs.
            count += sum(int(pair.split(":")[1]) for pair in value.split(",") if re.fullmatch(r"[^:]+:\d+", pair))
    return count


def catalog(flavors: list[Any]) -> dict[str, dict[str, float]]:
    """Nova's flavors (openstacksdk resources) as `hub.cloud.flavors` entries, by name."""
    found = {}
    for flavor in sorted(flavors, key=lambda flavor: flavor.name):
        ram_gb = round(flavor.ram / 1024, 2)
        found[flavor.name] = {
            "vcpus": flavor.vcpus,
            "ramGb": int(ram_gb) if ram_gb.is_integer() else ram_gb,
            "diskGb": flavor.disk,
            "gpus": gpus(flavor.extra_specs or {}),
        }
    return found


def compare(cloud: Mapping[str, Mapping[str, float]], stack: Mapping[str, Flavor]) -> dict[str, str]:
    """What the stack's catalog says of each of the cloud's flavors: 'same', 'missing' or how it differs."""
    said = {}
    for name, spec in cloud.items():
        known = stack.get(name)
        if known is None:
            said[name] = "missing"
            continue
        ours = {"vcpus": known.vcpus, "ramGb": known.ram_gb, "diskGb": known.disk_gb, "gpus": known.gpus}
        differs = [f"{key} {ours[key]:g} (cloud: {spec[key]:g})" for key in ours if float(ours[key]) != float(spec[key])]
        said[name] = "differs: " + ", ".join(differs) if differs else "same"
    return said


def set_all_command(cloud: Mapping[str, Mapping[str, float]], stack: str) -> list[str]:
    """One `pulumi config set-all --path` that writes every flavor into the stack's `hub.cloud.flavors`."""
    command = ["pulumi", "config", "set-all", "--path"]
    for name, spec in cloud.items():
        for key, value in spec.items():
            command += ["--plaintext", f'{FLAVORS_PATH}["{name}"].{key}={value:g}']
    return [*command, "--stack", stack]


def render_table(cloud: Mapping[str, Mapping[str, float]], said: Mapping[str, str]) -> str:
    lines = [("FLAVOR", "VCPUS", "RAM GB", "DISK GB", "GPUS", "IN THE STACK")]
    lines += [(name, *(f"{spec[key]:g}" for key in ("vcpus", "ramGb", "diskGb", "gpus")), said[name])
              for name, spec in cloud.items()]
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]
                     for line in lines)


