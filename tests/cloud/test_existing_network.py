"""A hub on a network the project has already (hub.cloud.networkId, NeCTAR's way), on the local cloud's real Neutron
and Nova: a shared network that another project (the cloud's admin) made, no router and no floating IP of the
hub's, every address Neutron's, and the share exported to the hub's servers by the addresses Neutron gave them,
which follow the workers as they come and go without replacing the server that serves the share.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from typing import Any, Iterator

import pytest

from hubctl.engine import Workspace

from ..conftest import PROJECT_DIR
from .api import Inventory, connect, inventory, purge, settled
from .conftest import Stopwatch
from .test_lifecycle import HUB, REPLACING, lab_hub

PROVIDER_NETWORK = "lab-provider"
PROVIDER_CIDR = "10.0.77.0/24"
NFS_CLIENTS = "hubstack-nfs-clients-"


@pytest.fixture(scope="module")
def provider_network(local_cloud: dict[str, Any]) -> Iterator[Any]:
    """A network shared with every project, as a cloud's provider network is (NeCTAR's Classic Provider)."""
    admin = connect(local_cloud, "adminCloud")
    member = connect(local_cloud)
    purge(member)

    def remove() -> None:
        for network in admin.network.networks(name=PROVIDER_NETWORK):
            for port in admin.network.ports(network_id=network.id):
                admin.network.delete_port(port)
            admin.network.delete_network(network)

    remove()
    network = admin.network.create_network(name=PROVIDER_NETWORK, shared=True)
    admin.network.create_subnet(name=PROVIDER_NETWORK, network_id=network.id, cidr=PROVIDER_CIDR, ip_version=4)
    yield network
    purge(member)
    remove()


@pytest.fixture(scope="module")
def stack(local_cloud: dict[str, Any], provider_network: Any) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    hub = lab_hub(local_cloud)
    for key in ("externalNetworkId", "networkCidr"):
        del hub["cloud"][key]
    hub["cloud"]["networkId"] = provider_network.id
    hub["floatingIp"] = {"enabled": False}
    credentials = {"OS_CLOUD": local_cloud["cloud"], "OS_CLIENT_CONFIG_FILE": local_cloud["cloudsYaml"]}
    with Workspace("lab-network", cloud=credentials) as workspace:
        workspace.set_config(hub)
        yield workspace, hub


def _addresses(found: Inventory) -> dict[str, str]:
    addresses = {}
    for name, server in found.servers.items():
        (port,) = [port for port in found.ports if port.device_id == server.id]
        (fixed,) = port.fixed_ips
        addresses[name] = fixed["ip_address"]
    return addresses


def _clients(server: Any) -> list[str]:
    return "".join(value for key, value in sorted(server.metadata.items()) if key.startswith(NFS_CLIENTS)).split()


def test_a_hub_on_an_existing_network_and_a_worker_added(local_cloud: dict[str, Any], provider_network: Any,
                                                           stack: tuple[Workspace, dict[str, Any]],
                                                           stopwatch: Stopwatch):
    workspace, hub = stack
    api = connect(local_cloud)
    with stopwatch("pulumi up: a hub on an existing network"):
        workspace.up()
    found = inventory(api)
    # Nothing of the network is the hub's: no network, router or floating IP in its project.
    assert (found.networks, found.routers, found.floating_ips) == ([], [], [])
    assert set(found.servers) == {HUB, f"{HUB}-worker-1"}
    addresses = _addresses(found)
    assert all(ipaddress.ip_address(address) in ipaddress.ip_network(PROVIDER_CIDR) for address in addresses.values())
    assert {port.network_id for port in found.ports} == {provider_network.id}
    outputs = workspace.outputs()
    assert outputs["controlPlaneAddress"] == addresses[HUB] and "floatingIp" not in outputs
    assert outputs["workerAddresses"] == [addresses[f"{HUB}-worker-1"]]
    control_plane = found.servers[HUB]
    assert _clients(control_plane) == [addresses[HUB], addresses[f"{HUB}-worker-1"]]
    for server in found.servers.values():
        assert server.metadata["hubstack-nfs-server"] == addresses[HUB]

    # A second worker: its address reaches the share's export list in place; the control plane stays.
    hub["cluster"]["workerCount"] = 2
    workspace.set_config(hub)
    with stopwatch("pulumi preview: a second worker on the existing network"):
        steps = workspace.preview()["steps"]
    replaced = [step["urn"] for step in steps if step["op"] in REPLACING]
    assert replaced == []
    with stopwatch("pulumi up: a second worker on the existing network"):
        workspace.up()
    found = inventory(api)
    assert found.servers[HUB].id == control_plane.id
    addresses = _addresses(found)
    assert _clients(found.servers[HUB]) == [addresses[HUB], addresses[f"{HUB}-worker-1"],
                                            addresses[f"{HUB}-worker-2"]]

    with stopwatch("hubctl teardown --all: the hub on an existing network"):
        result = subprocess.run(
            [sys.executable, "-m", "hubctl", "teardown", "--config", str(workspace.stack_file), "--all", "--yes",
             "--confirm", HUB], cwd=PROJECT_DIR, env=workspace.env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    assert settled(lambda: inventory(api).everything(), lambda left: not left, "an empty project") == {}
    # The network the hub was on is another project's, and stays.
    assert [port.device_owner for port in connect(local_cloud, "adminCloud").network.ports(
        network_id=provider_network.id) if port.device_owner != "network:dhcp"] == []
    assert api.network.get_network(provider_network.id).status == "ACTIVE"
