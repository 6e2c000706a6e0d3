"""What the local cloud's APIs say is in the hub's project, read with openstacksdk as the project's member."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import openstack
import openstack.config
from openstack.connection import Connection

POLL_SECONDS = 0.5
SETTLE_SECONDS = 120


def csi_metadata(cluster: str, claim: str, pv: str, namespace: str = "jhub") -> dict[str, str]:
    """The metadata the Cinder CSI driver sets on a volume it makes for a claim (hubctl/volumes.py says where)."""
    return {"cinder.csi.openstack.org/cluster": cluster, "csi.storage.k8s.io/pvc/name": claim,
            "csi.storage.k8s.io/pvc/namespace": namespace, "csi.storage.k8s.io/pv/name": pv}


def connect(cloud: dict[str, Any], which: str = "cloud") -> Connection:
    """A connection as the project's member (`cloud`) or the cloud's admin (`adminCloud`)."""
    config = openstack.config.OpenStackConfig(config_files=[cloud["cloudsYaml"]])
    return Connection(config=config.get_one(cloud=cloud[which]))


@dataclass
class Inventory:
    """Everything in the project, each kind by name (IDs in the values' `.id`)."""

    servers: dict[str, Any]
    volumes: list[Any]
    ports: list[Any]
    floating_ips: list[Any]
    security_groups: dict[str, Any]
    networks: list[Any]
    routers: list[Any]
    keypairs: list[Any]
    application_credentials: list[Any]

    def everything(self) -> dict[str, list[str]]:
        """What is left, by kind (the project's default security group is Neutron's, not the hub's)."""
        left = {
            "servers": sorted(self.servers),
            "volumes": sorted(f"{volume.name or '(unnamed)'} {volume.id}" for volume in self.volumes),
            "ports": sorted(f"{port.name or port.device_owner} {port.id}" for port in self.ports),
            "floating IPs": sorted(ip.floating_ip_address for ip in self.floating_ips),
            "security groups": sorted(name for name in self.security_groups if name != "default"),
            "networks": sorted(network.name for network in self.networks),
            "routers": sorted(router.name for router in self.routers),
            "key pairs": sorted(keypair.name for keypair in self.keypairs),
            "application credentials": sorted(credential.name for credential in self.application_credentials),
        }
        return {kind: names for kind, names in left.items() if names}


def inventory(api: Connection) -> Inventory:
    project = api.current_project_id
    return Inventory(
        servers={server.name: server for server in api.compute.servers(details=True)},
        volumes=list(api.block_storage.volumes(details=True)),
        ports=list(api.network.ports(project_id=project)),
        floating_ips=list(api.network.ips(project_id=project)),
        security_groups={group.name: group for group in api.network.security_groups(project_id=project)},
        networks=list(api.network.networks(project_id=project)),
        routers=list(api.network.routers(project_id=project)),
        keypairs=list(api.compute.keypairs()),
        application_credentials=list(api.identity.application_credentials(user=api.current_user_id)),
    )


def settled(read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    """Poll `read` until `done` holds (the APIs finish some work after they answer, e.g. a detach)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {SETTLE_SECONDS} s, still not {what}: {value}")
        time.sleep(POLL_SECONDS)


def purge(api: Connection) -> list[str]:
    """Delete whatever an earlier, interrupted run left in the project; what was deleted."""
    found = inventory(api)
    gone: list[str] = []
    for server in found.servers.values():
        api.compute.delete_server(server)
        gone.append(f"server {server.name}")
    for server in found.servers.values():
        api.compute.wait_for_delete(server, wait=SETTLE_SECONDS)
    for ip in found.floating_ips:
        api.network.delete_ip(ip)
        gone.append(f"floating IP {ip.floating_ip_address}")
    for router in found.routers:
        for port in api.network.ports(device_id=router.id, device_owner="network:router_interface"):
            api.network.remove_interface_from_router(router, port=port.id)
        api.network.delete_router(router)
        gone.append(f"router {router.name}")
    for port in api.network.ports(project_id=api.current_project_id):
        api.network.delete_port(port)
    for network in found.networks:
        api.network.delete_network(network)
        gone.append(f"network {network.name}")
    for name, group in found.security_groups.items():
        if name != "default":
            api.network.delete_security_group(group)
            gone.append(f"security group {name}")
    for volume in found.volumes:
        # A boot volume goes with its server; any other is detached once its server is gone.
        volume = settled(lambda: api.block_storage.find_volume(volume.id),
                         lambda v: v is None or v.status not in ("detaching", "in-use", "deleting"),
                         f"gone or detached: volume {volume.id}")
        if volume is not None:
            api.block_storage.delete_volume(volume)
            gone.append(f"volume {volume.name} {volume.id}")
    for keypair in found.keypairs:
        api.compute.delete_keypair(keypair)
        gone.append(f"key pair {keypair.name}")
    for credential in found.application_credentials:
        api.identity.delete_application_credential(api.current_user_id, credential)
        gone.append(f"application credential {credential.name}")
    settled(lambda: inventory(api).everything(), lambda left: not left, "an empty project")
    return gone
