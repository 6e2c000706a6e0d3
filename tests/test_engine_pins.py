"""The Python SDK pins match the engine's plugins exactly: a plugin of another version than its SDK asks for
makes every real preview warn (and the CLI would look for the SDK's version first)."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.version import Version

PROJECT_DIR = Path(__file__).resolve().parent.parent
# SDK on PyPI -> its version's variable in engine/versions.env
SDK_OF = {
    "pulumi": "PULUMI_VERSION",
    "pulumi-kubernetes": "KUBERNETES_VERSION",
    "pulumi-openstack": "OPENSTACK_VERSION",
    "pulumi-command": "COMMAND_VERSION",
    "pulumi-random": "RANDOM_VERSION",
    "pulumi-tls": "TLS_VERSION",
}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#", 1)[0].strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_sdk_pins_match_engine_versions() -> None:
    engine = dict(re.findall(r"^([A-Z_]+)=(\S+)", (PROJECT_DIR / "engine" / "versions.env").read_text(), re.M))
    for pins_file in ("requirements.txt", "constraints.txt"):
        pins = _pins(PROJECT_DIR / pins_file)
        for sdk, variable in SDK_OF.items():
            # 4.25.0-alpha.1768448096 (the plugin) is 4.25.0a1768448096 (PEP 440) on PyPI.
            assert Version(pins[sdk]) == Version(engine[variable]), (
                f"{pins_file}: {sdk}=={pins[sdk]} but engine/versions.env {variable}={engine[variable]}"
            )
