"""`hubctl teardown`: the cluster's servers go, everything that holds data or names the hub stays.

Pure functions over a stack's state (`pulumi stack export`, or the offline plan's plan.json: both list resources
with their URN, type, parent, dependencies, provider and deletedWith): which resources a targeted destroy of the
servers takes along, what it leaves, and the exact pulumi commands. The CLI (`__main__.py`) runs them.

What stays is decided by the program, not here: the Kubernetes layer does not depend on the servers in Pulumi's
graph (components/cluster.py, `waits_for`), so `pulumi destroy --target <servers> --target-dependents` leaves it in
the stack, as k3s's datastore on the state volume keeps it in the cluster; the network, the floating IP, the
cluster's identity and every volume do not depend on the servers either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

SERVER = "openstack:compute/instance:Instance"
VOLUME = "openstack:blockstorage/volume:Volume"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
KUBERNETES_PREFIX = "kubernetes:"


def _provider_urn(reference: str) -> str:
    # State writes a provider reference as "<urn>::<id>"; plan.json as the URN alone.
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def _depends_on(resource: Mapping[str, Any]) -> set[str]:
    """Every URN whose delete takes this resource along under --target-dependents, as the engine counts them
    (pulumi pkg/resource/graph: dependencies, property dependencies, provider, deletedWith), and its parent."""
    urns = set(resource.get("dependencies") or [])
    for dependencies in (resource.get("propertyDependencies") or {}).values():
        urns.update(dependencies)
    for key in ("provider", "deletedWith", "parent"):
        if resource.get(key):
            urns.add(_provider_urn(resource[key]) if key == "provider" else resource[key])
    return urns


def dependents(resources: Iterable[Mapping[str, Any]], roots: Iterable[str]) -> set[str]:
    """The roots and every resource that transitively depends on one of them."""
    resources = list(resources)
    gone = set(roots)
    while True:
        more = {resource["urn"] for resource in resources
                if resource["urn"] not in gone and _depends_on(resource) & gone}
        if not more:
            return gone
        gone |= more


def _short_name(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


def _kind(type_: str) -> str:
    return type_.split(":")[-1]


@dataclass(frozen=True)
class Teardown:
    servers: list[str]  # URNs, the --target list
    goes: list[str]  # every URN the destroy deletes (the servers and what depends on them)
    stays: list[str]  # every other URN of the stack

    @property
    def empty(self) -> bool:
        return not self.servers


def plan_teardown(resources: Iterable[Mapping[str, Any]]) -> Teardown:
    resources = [resource for resource in resources if resource.get("type") != "pulumi:pulumi:Stack"]
    servers = sorted(resource["urn"] for resource in resources if resource["type"] == SERVER)
    goes = dependents(resources, servers)
    return Teardown(
        servers=servers,
        goes=sorted(goes),
        stays=sorted(resource["urn"] for resource in resources if resource["urn"] not in goes),
    )


def destroy_command(stack: str, teardown: Teardown, yes: bool = False) -> list[str]:
    command = ["pulumi", "destroy", "--stack", stack]
    for urn in teardown.servers:
        command += ["--target", urn]
    return command + ["--target-dependents", *(["--yes"] if yes else [])]


def _gb(value: Any) -> Optional[int]:
    # The providers' schemas type sizes as numbers: state and plans carry 40 or 40.0.
    return int(value) if isinstance(value, (int, float)) else None


def _size(resource: Mapping[str, Any]) -> Optional[int]:
    sizes = [_gb(fields.get("size")) for fields in (resource.get("outputs") or {}, resource.get("inputs") or {})]
    return next((size for size in sizes if size is not None), None)


def _server_line(resource: Mapping[str, Any]) -> str:
    inputs = resource.get("inputs") or {}
    boot = [device for device in inputs.get("blockDevices") or [] if device.get("bootIndex") == 0]
    disk = f", its {_gb(boot[0].get('volumeSize'))} GB boot volume" if boot and _gb(boot[0].get("volumeSize")) else ""
    return f"server {inputs.get('name', _short_name(resource['urn']))} ({inputs.get('flavorName', '?')}{disk})"


def describe(resources: Iterable[Mapping[str, Any]], teardown: Teardown) -> list[str]:
    """What goes and what stays, in words an admin reads before saying yes."""
    by_urn = {resource["urn"]: resource for resource in resources}
    lines = ["goes:"]
    for urn in teardown.goes:
        resource = by_urn[urn]
        if resource["type"] == SERVER:
            lines.append(f"  - {_server_line(resource)}")
    others = [urn for urn in teardown.goes if by_urn[urn]["type"] != SERVER]
    for urn in others:
        lines.append(f"  - {_kind(by_urn[urn]['type'])} {_short_name(urn)}")
    lines.append("stays:")
    stays = [by_urn[urn] for urn in teardown.stays]
    for resource in stays:
        if resource["type"] == VOLUME:
            name = (resource.get("inputs") or {}).get("name", _short_name(resource["urn"]))
            lines.append(f"  - volume {name}, {_size(resource)} GB (id {resource.get('id', '?')})")
        elif resource["type"] == FLOATING_IP:
            lines.append(f"  - floating IP {(resource.get('outputs') or {}).get('address', '?')}")
    kubernetes = [resource for resource in stays if resource["type"].startswith(KUBERNETES_PREFIX)]
    if kubernetes:
        lines.append(f"  - the Kubernetes layer ({len(kubernetes)} resources: releases, namespaces, storage), in "
                     "the stack and in the cluster's datastore on the state volume, with every user's claim")
    rest = [resource for resource in stays if resource["type"] not in (VOLUME, FLOATING_IP)
            and not resource["type"].startswith(KUBERNETES_PREFIX) and resource.get("custom", True)]
    lines.append(f"  - {len(rest)} other resources: network, ports and their addresses, security groups, "
                 "the cluster's identity (tokens, CAs, the chart's secrets)")
    lines.append("  - users' homes on Cinder (outside the stack; `hubctl volumes` lists them)")
    return lines


def stack_volumes(resources: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, Optional[int]]]:
    """(id, name, size GB) of every Cinder volume the stack holds: the shared data and the k3s state."""
    return [(resource["id"], (resource.get("inputs") or {}).get("name", ""), _size(resource))
            for resource in resources if resource.get("type") == VOLUME and resource.get("id")]


def kept_floating_ips(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """Addresses that stay in the project when they leave the stack (floatingIp.keepOnTeardown)."""
    return [(resource.get("outputs") or {}).get("address", resource.get("id", "?")) for resource in resources
            if resource.get("type") == FLOATING_IP and resource.get("retainOnDelete")]
