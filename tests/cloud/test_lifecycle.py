"""A hub's life on a real OpenStack API, in order: `pulumi up` from nothing, everyday changes, the teardown that keeps
the data, a rebuild that gets it back, and the full teardown that leaves nothing.

The local cloud's Nova runs no guest (FakeDriver), so no server boots k3s: the stack deploys the OpenStack layer
alone (`hub.layers: openstack`, a program feature for admins who install Zero to JupyterHub themselves). Each step
asserts what the APIs hold afterwards, read as the project's member with openstacksdk.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest

from config.model import DEFAULT_K3S_VERSION
from hubctl.engine import Workspace

from ..conftest import PROJECT_DIR, set_path, stack_data
from .api import Inventory, connect, csi_metadata, inventory, purge, settled
from .conftest import Stopwatch, cloud_dir

HUB = "lab-hub"
ADMIN_CIDR = "203.0.113.0/24"
NETWORK_CIDR = "10.0.42.0/24"
SHARED_DATA_GB = 5
# The next patch release of the default: a k3s bump as admins make it.
_MINOR, _PATCH = DEFAULT_K3S_VERSION.split("+")[0].rsplit(".", 1)
NEXT_K3S_VERSION = f"{_MINOR}.{int(_PATCH) + 1}+{DEFAULT_K3S_VERSION.split('+')[1]}"
ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEQQhIfa0jnI ta@example.org"
# Preview steps that replace or delete.
REPLACING = {"replace", "create-replacement", "delete-replaced"}


class IdentityLost(AssertionError):
    """A server, port or address that an everyday change must keep was replaced."""


def lab_hub(cloud: dict[str, Any]) -> dict[str, Any]:
    """The dev stack's hub, on the local cloud's network, image and flavors."""
    hub = stack_data("dev")
    del hub["domain"]
    hub.update({
        "name": HUB,
        "fqdn": f"{HUB}.hubstack.test",
        "layers": "openstack",
        "cloud": {
            "externalNetwork": cloud["externalNetwork"],
            "externalNetworkId": cloud["externalNetworkId"],
            "imageId": cloud["imageId"],
            "imageMinDiskGb": 1,
            "availabilityZone": cloud["availabilityZone"],
            "region": cloud["region"],
            "networkCidr": NETWORK_CIDR,
            "adminCidrs": [ADMIN_CIDR],
            "flavors": {name: {"vcpus": flavor["vcpus"], "ramGb": flavor["ramMb"] / 1024, "diskGb": flavor["diskGb"]}
                        for name, flavor in cloud["flavors"].items()},
        },
        "cluster": {"controlPlaneFlavor": "local.small", "workerFlavor": "local.medium", "workerCount": 1,
                    "rootDiskGb": 10},
        "floatingIp": {"keepOnTeardown": False},
        "sharedData": {"sizeGb": SHARED_DATA_GB},
    })
    return hub


@dataclass
class Lab:
    workspace: Workspace
    api: Any
    hub: dict[str, Any]
    stopwatch: Stopwatch
    # What must outlive every everyday change, by role: OpenStack IDs as the last step left them.
    identity: dict[str, str] = field(default_factory=dict)
    shared_data_volume_id: str = ""
    state_volume_id: str = ""
    # Claim -> volume ID of the homes made as the Cinder CSI driver makes them.
    homes: dict[str, str] = field(default_factory=dict)

    def detach_requests(self) -> int:
        """Requests so far to detach the shared data volume from a running server (Nova's API log): a detach under
        the mounted, exported filesystem. A server that is deleted has it detached by Nova once it has shut down."""
        log = (cloud_dir() / "logs" / "nova-api.log").read_text(errors="replace")
        return sum(1 for line in log.splitlines()
                   if '"DELETE ' in line and f"/os-volume_attachments/{self.shared_data_volume_id} " in line)

    def change(self, changes: dict[str, Any]) -> None:
        for path, value in changes.items():
            set_path(self.hub, path, value)
        self.workspace.set_config(self.hub)

    def up(self, step: str) -> None:
        detaches = self.detach_requests()
        with self.stopwatch(f"pulumi up: {step}"):
            self.workspace.up()
        assert self.detach_requests() == detaches, f"{step}: the shared data volume was detached from a running server"

    def destroy(self, step: str, *extra: str) -> None:
        detaches = self.detach_requests()
        with self.stopwatch(f"pulumi destroy {' '.join(extra)}: {step}"):
            self.workspace.destroy(*extra)
        assert self.detach_requests() == detaches, f"{step}: the shared data volume was detached from a running server"

    def preview_ops(self, step: str) -> dict[str, str]:
        """URN -> what `pulumi preview` says it will do, for every resource it would touch."""
        with self.stopwatch(f"pulumi preview: {step}"):
            preview = self.workspace.preview()
        # A read (the stack's reference to itself) changes nothing.
        return {entry["urn"]: entry["op"] for entry in preview["steps"] if entry["op"] not in ("same", "read")}

    def now(self) -> Inventory:
        # Deletes and detaches finish after the API answers: wait for no volume in between.
        settled(lambda: inventory(self.api), lambda found: not [
            volume for volume in found.volumes if volume.status in ("detaching", "attaching", "deleting")
        ], "done attaching, detaching and deleting volumes")
        return inventory(self.api)

    def remember(self, found: Inventory) -> None:
        control_plane = found.servers[HUB]
        (address,) = found.floating_ips
        self.identity = {
            "control plane server": control_plane.id,
            "control plane port": _server_port(found, control_plane).id,
            "control plane boot volume": _boot_volume(found, control_plane).id,
            "floating IP": address.id,
            "shared data volume": self.shared_data_volume_id,
            "k3s state volume": self.state_volume_id,
            "network": found.networks[0].id,
            "router": found.routers[0].id,
            **{f"security group {name}": group.id for name, group in found.security_groups.items()},
            **{f"server {name}": server.id for name, server in found.servers.items() if name != HUB},
        }


def _server_port(found: Inventory, server: Any) -> Any:
    (port,) = [port for port in found.ports if port.device_id == server.id]
    return port


def _boot_volume(found: Inventory, server: Any) -> Any:
    (volume,) = [volume for volume in found.volumes
                 if any(attachment["server_id"] == server.id for attachment in volume.attachments)
                 and volume.is_bootable]
    return volume


def _shared_data_volume(found: Inventory, hub: str = HUB) -> Any:
    (volume,) = [volume for volume in found.volumes if volume.name == f"{hub}-shared-data"]
    return volume


def _state_volume(found: Inventory, hub: str = HUB) -> Any:
    (volume,) = [volume for volume in found.volumes if volume.name == f"{hub}-k3s-state"]
    return volume


def _attached_to(volume: Any) -> list[str]:
    return [attachment["server_id"] for attachment in volume.attachments]


@pytest.fixture(scope="module")
def lab(local_cloud: dict[str, Any], stopwatch: Stopwatch) -> Iterator[Lab]:
    api = connect(local_cloud)
    leftovers = purge(api)
    if leftovers:
        print(f"purged what an interrupted run left: {leftovers}")
    credentials = {"OS_CLOUD": local_cloud["cloud"], "OS_CLIENT_CONFIG_FILE": local_cloud["cloudsYaml"]}
    with Workspace("lab", cloud=credentials) as workspace:
        yield Lab(workspace, api, lab_hub(local_cloud), stopwatch)
    # After a failure, nothing of this run stays for the next one.
    purge(api)


# ------------------------------------------------------------------------------------------------- day 1


def test_up_from_nothing(lab: Lab):
    assert inventory(lab.api).everything() == {}
    lab.workspace.set_config(lab.hub)
    lab.up("a hub from nothing")
    outputs = lab.workspace.outputs()
    lab.shared_data_volume_id = outputs["sharedDataVolumeId"]
    lab.state_volume_id = outputs["stateVolumeId"]
    found = lab.now()
    lab.remember(found)
    assert set(found.servers) == {HUB, f"{HUB}-worker-1"}
    assert outputs["hostname"] == f"{HUB}.hubstack.test"
    assert "kubeconfig" not in outputs  # the Kubernetes layer is not deployed


def _ingress(group: Any, names: dict[str, str]) -> set[tuple]:
    return {(rule["ethertype"], rule["protocol"], rule["port_range_min"], rule["port_range_max"],
             rule["remote_ip_prefix"], names.get(rule["remote_group_id"]))
            for rule in group.security_group_rules if rule["direction"] == "ingress"}


def test_security_group_rules_are_exactly_the_designed_ones(lab: Lab):
    found = lab.now()
    groups = {name: group for name, group in found.security_groups.items() if name != "default"}
    assert set(groups) == {f"{HUB}-cluster", f"{HUB}-web", f"{HUB}-admin"}
    names = {group.id: name for name, group in groups.items()}
    assert _ingress(groups[f"{HUB}-cluster"], names) == {("IPv4", None, None, None, None, f"{HUB}-cluster")}
    assert _ingress(groups[f"{HUB}-web"], names) == {
        ("IPv4", "tcp", port, port, "0.0.0.0/0", None) for port in (80, 443)}
    assert _ingress(groups[f"{HUB}-admin"], names) == {
        ("IPv4", "tcp", port, port, ADMIN_CIDR, None) for port in (22, 6443)}
    for group in groups.values():
        # Outbound stays Neutron's default (anything, both families): the hub adds none and removes none.
        egress = {(rule["ethertype"], rule["protocol"], rule["remote_ip_prefix"])
                  for rule in group.security_group_rules if rule["direction"] == "egress"}
        assert egress == {("IPv4", None, None), ("IPv6", None, None)}


def test_servers_ports_and_boot_volumes(lab: Lab):
    found = lab.now()
    groups = {group.id: name for name, group in found.security_groups.items()}
    subnet = ipaddress.ip_network(NETWORK_CIDR)
    expected = {HUB: ("local.small", {"cluster", "web", "admin"}), f"{HUB}-worker-1": ("local.medium", {"cluster"})}
    for name, (flavor, roles) in expected.items():
        server = found.servers[name]
        assert server.status == "ACTIVE"
        assert server.flavor.name == flavor
        assert server.key_name is None  # no Nova key pair: the program's key is in the user data
        assert server.metadata["hubstack-hub"] == HUB
        port = _server_port(found, server)
        assert port.status == "ACTIVE" and port.binding_vif_type not in ("binding_failed", "unbound")
        assert {groups[group] for group in port.security_group_ids} == {f"{HUB}-{role}" for role in roles}
        (fixed,) = port.fixed_ips
        assert ipaddress.ip_address(fixed["ip_address"]) in subnet
        boot = _boot_volume(found, server)
        assert (boot.size, boot.status, boot.volume_image_metadata["image_id"]) == (
            10, "in-use", lab.hub["cloud"]["imageId"])
    control_plane_port = _server_port(found, found.servers[HUB])
    assert control_plane_port.fixed_ips[0]["ip_address"] == str(subnet[10])  # the fixed address, below DHCP
    assert found.keypairs == []


def test_floating_ip_reaches_the_control_plane(lab: Lab):
    found = lab.now()
    (address,) = found.floating_ips
    assert address.port_id == _server_port(found, found.servers[HUB]).id
    assert address.floating_ip_address == lab.workspace.outputs()["floatingIp"]
    assert address.floating_network_id == lab.hub["cloud"]["externalNetworkId"]
    (router,) = found.routers
    assert router.external_gateway_info["network_id"] == lab.hub["cloud"]["externalNetworkId"]
    # No guest answers there: a dial from this machine fails at once instead of leaving by its default route.
    route = subprocess.run(["ip", "route", "get", address.floating_ip_address], capture_output=True, text=True)
    assert route.returncode != 0 and "No route to host" in route.stderr, route.stdout + route.stderr


def test_shared_data_volume_is_attached_to_the_control_plane(lab: Lab):
    found = lab.now()
    volume = _shared_data_volume(found)
    assert volume.id == lab.shared_data_volume_id
    assert (volume.size, volume.status) == (SHARED_DATA_GB, "in-use")
    assert _attached_to(volume) == [found.servers[HUB].id]


def test_k3s_state_volume_is_attached_to_the_control_plane_at_boot(lab: Lab):
    found = lab.now()
    volume = _state_volume(found)
    assert volume.id == lab.state_volume_id
    assert (volume.status, volume.is_bootable) == ("in-use", False)
    assert _attached_to(volume) == [found.servers[HUB].id]
    # Nova's own record: a block device of the server (attached before it booted), kept when the server goes.
    (state,) = [attachment for attachment in lab.api.compute.volume_attachments(found.servers[HUB])
                if attachment.volume_id == volume.id]
    assert state.delete_on_termination is False


def test_servers_carry_the_k3s_version_in_their_metadata(lab: Lab):
    found = lab.now()
    for server in found.servers.values():
        assert server.metadata["hubstack-k3s-version"] == lab.hub["cluster"].get("k3sVersion", DEFAULT_K3S_VERSION)


def test_no_application_credential_without_the_kubernetes_layer(lab: Lab):
    # The Cinder CSI driver's own credential is made with the driver, on the Kubernetes layer.
    assert inventory(lab.api).application_credentials == []


# ------------------------------------------------------------------------------------------------- day 2


@dataclass(frozen=True)
class Change:
    name: str
    config: dict[str, Any]
    check: Callable[[Inventory], None]
    # Roles (keys of Lab.identity) that the change removes or replaces on purpose.
    removes: tuple[str, ...] = ()
    # Resources (names) that the preview may replace: the servers, which a replacement costs nothing that lasts.
    may_replace: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


def _flavor_is(server: str, flavor: str) -> Callable[[Inventory], None]:
    def check(found: Inventory) -> None:
        assert found.servers[server].flavor.name == flavor
    return check


def _workers_are(*names: str) -> Callable[[Inventory], None]:
    def check(found: Inventory) -> None:
        assert set(found.servers) - {HUB} == set(names)
        # The control plane knows its workers, to delete the Node objects of those that went.
        assert found.servers[HUB].metadata["hubstack-workers-00"] == " ".join(sorted(names))
        # A removed worker's port and boot volume go with it.
        assert len(found.ports) == len(found.servers) + 1  # + the router's interface
        assert len([volume for volume in found.volumes if volume.is_bootable]) == len(found.servers)
    return check


def _metadata_is(key: str, value: str) -> Callable[[Inventory], None]:
    def check(found: Inventory) -> None:
        assert {name: server.metadata.get(key) for name, server in found.servers.items()} == {
            name: value for name in found.servers}
    return check


def _boot_volumes_are(size: int) -> Callable[[Inventory], None]:
    def check(found: Inventory) -> None:
        assert {name: _boot_volume(found, server).size for name, server in found.servers.items()} == {
            name: size for name in found.servers}
    return check


def _shared_data_size(size: int) -> Callable[[Inventory], None]:
    def check(found: Inventory) -> None:
        assert _shared_data_volume(found).size == size
    return check


EVERYDAY_CHANGES = [
    Change("add a worker", {"cluster.workerCount": 2}, _workers_are(f"{HUB}-worker-1", f"{HUB}-worker-2")),
    Change("resize the control plane", {"cluster.controlPlaneFlavor": "local.medium"},
           _flavor_is(HUB, "local.medium")),
    Change("resize the workers", {"cluster.workerFlavor": "local.large"}, _flavor_is(f"{HUB}-worker-1", "local.large")),
    Change("grow the shared data", {"sharedData.sizeGb": SHARED_DATA_GB + 1}, _shared_data_size(SHARED_DATA_GB + 1)),
    Change("remove a worker", {"cluster.workerCount": 1}, _workers_are(f"{HUB}-worker-1"),
           removes=(f"server {HUB}-worker-2",)),
    # Server metadata, which each server's sync timer brings onto it: changed in place.
    Change("add an admin's SSH key", {"cluster.sshPublicKeys": [ADMIN_KEY]},
           _metadata_is("hubstack-ssh-keys-00", ADMIN_KEY)),
    Change("bump k3s", {"cluster.k3sVersion": NEXT_K3S_VERSION},
           _metadata_is("hubstack-k3s-version", NEXT_K3S_VERSION)),
]
# A change that replaces every server (a boot volume's size, like an image, is fixed at boot): the control plane
# comes back with the same state volume, port and address, and the data volume is attached to it again.
SERVERS = ("control plane server", "control plane boot volume", f"server {HUB}-worker-1")
REPLACING_CHANGES = [
    Change("grow the root disks", {"cluster.rootDiskGb": 11}, _boot_volumes_are(11), removes=SERVERS,
           may_replace=("hub-cluster-control-plane", "hub-cluster-worker-1")),
]


def _day_two(lab: Lab, change: Change) -> None:
    lab.change(change.config)
    ops = lab.preview_ops(change.name)
    replaced = sorted(urn.rsplit("::", 1)[1] for urn, op in ops.items() if op in REPLACING)
    replaced = [name for name in replaced if name not in change.may_replace]
    lab.up(change.name)
    found = lab.now()
    change.check(found)
    # The data first: the same volumes, whole, attached to whichever server is the control plane now.
    for volume, volume_id in ((_shared_data_volume(found), lab.shared_data_volume_id),
                              (_state_volume(found), lab.state_volume_id)):
        assert volume.id == volume_id
        assert _attached_to(volume) == [found.servers[HUB].id]
    kept = {role: found_id for role, found_id in lab.identity.items() if role not in change.removes}
    lab.remember(found)
    lost = {role: (before, lab.identity.get(role)) for role, before in kept.items() if lab.identity.get(role) != before}
    if lost or replaced:
        raise IdentityLost(f"{change.name}: the preview replaced {replaced}; IDs changed: {lost}")


@pytest.mark.parametrize("change", EVERYDAY_CHANGES, ids=str)
def test_everyday_change_keeps_every_identity_and_the_data(lab: Lab, change: Change):
    _day_two(lab, change)


@pytest.mark.parametrize("change", REPLACING_CHANGES, ids=str)
def test_change_that_replaces_the_servers_keeps_the_cluster_and_the_data(lab: Lab, change: Change):
    _day_two(lab, change)


def _shared_data_on(lab: Lab, server: str | None, address: str | None, worker_id: str) -> None:
    """The share's volume on `server` (None: available, on no server), and every k3s node pointing hubstack-nfs at
    `address` (None: no entry); the worker kept."""
    found = lab.now()
    volume = _shared_data_volume(found)
    assert _attached_to(volume) == ([found.servers[server].id] if server else [])
    assert volume.status == ("in-use" if server else "available")
    assert _attached_to(_state_volume(found)) == [found.servers[HUB].id]
    assert not [volume.name for volume in found.volumes if volume.status == "reserved"]
    # Every k3s node mounts the share by name: its metadata follows the move, the worker stays.
    worker = found.servers[f"{HUB}-worker-1"]
    assert worker.id == worker_id
    for k3s_node in (found.servers[HUB], worker):
        assert k3s_node.metadata.get("hubstack-nfs-server") == address, k3s_node.name


def test_moving_the_share_to_a_dedicated_server_and_back(lab: Lab):
    """There: one `pulumi up` (the old control plane lets go of the volume before the NFS server boots with it).
    Back: two, since Pulumi deletes a removed server only after booting the new control plane, which needs the
    volume: the first lets the NFS server go and keeps the control plane; the second boots it with the volume."""
    network = ipaddress.ip_network(NETWORK_CIDR)
    worker_id = lab.now().servers[f"{HUB}-worker-1"].id
    _shared_data_on(lab, HUB, str(network[10]), worker_id)
    lab.change({"sharedData.server": "dedicated", "sharedData.serverFlavor": "local.small"})
    lab.up("share moved to a dedicated server")
    _shared_data_on(lab, f"{HUB}-nfs", str(network[11]), worker_id)
    assert lab.workspace.outputs()["sharedDataServer"] == "dedicated"

    control_plane_id = lab.now().servers[HUB].id
    lab.change({"sharedData.server": "control-plane", "sharedData.serverFlavor": "~"})
    ops = lab.preview_ops("share moved back, first up")
    assert not {urn: op for urn, op in ops.items() if op in REPLACING}, ops
    assert sorted(urn.rsplit("::", 1)[1] for urn, op in ops.items() if op == "delete") == [
        "hub-cluster-nfs-server", "hub-cluster-nfs-server-port"]
    lab.up("share moved back, first up: the NFS server lets go of the volume")
    assert lab.workspace.outputs()["sharedDataServer"] == "none"
    assert lab.now().servers[HUB].id == control_plane_id and f"{HUB}-nfs" not in lab.now().servers
    _shared_data_on(lab, None, None, worker_id)

    lab.up("share moved back, second up: the control plane boots with it")
    assert lab.workspace.outputs()["sharedDataServer"] == "control-plane"
    _shared_data_on(lab, HUB, str(network[10]), worker_id)
    assert lab.preview_ops("share moved back: nothing left to do") == {}
    lab.remember(lab.now())


def test_renaming_the_hub_renames_it_and_keeps_the_data(lab: Lab):
    # Before resource names stopped carrying hub.name, this made a second hub with a new, blank data volume.
    renamed = f"{HUB}-2027"
    for name in (renamed, HUB):  # renamed, then back for the steps below
        lab.change({"name": name, "fqdn": f"{name}.hubstack.test"})
        lab.up(f"hub renamed to {name}")
        found = lab.now()
        for volume, volume_id in ((_shared_data_volume(found, name), lab.shared_data_volume_id),
                                  (_state_volume(found, name), lab.state_volume_id)):
            assert (volume.id, volume.status) == (volume_id, "in-use")
            assert _attached_to(volume) == [found.servers[name].id]
        assert set(found.servers) == {name, f"{name}-worker-1"}
        assert sorted(found.security_groups) == sorted(["default", *(f"{name}-{role}" for role in
                                                                     ("admin", "cluster", "web"))])
        assert [network.name for network in found.networks] == [f"{name}-network"]


# ------------------------------------------------------------------------------------------------- teardown


def _hubctl_teardown(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """`hubctl teardown` as an admin runs it: the workspace's stack file and pulumi, the cloud's credentials."""
    detaches = lab.detach_requests()
    with lab.stopwatch(f"hubctl teardown {' '.join(args)}"):
        result = subprocess.run(
            [sys.executable, "-m", "hubctl", "teardown", "--config", str(lab.workspace.stack_file), *args],
            cwd=PROJECT_DIR, env=lab.workspace.env, capture_output=True, text=True, timeout=1200)
    assert lab.detach_requests() == detaches, "the shared data volume was detached from a running server"
    return result


def test_teardown_deletes_the_servers_and_keeps_everything_else(lab: Lab):
    # Two users' homes and the hub database, as the Cinder CSI driver makes them (no cluster runs here).
    for claim in ("claim-student1", "claim-student2", "hub-db-dir"):
        pv = f"pvc-{uuid.uuid5(uuid.NAMESPACE_URL, claim)}"
        lab.homes[claim] = lab.api.block_storage.create_volume(
            name=pv, size=1, metadata=csi_metadata(HUB, claim, pv),
            availability_zone=lab.hub["cloud"]["availabilityZone"]).id
    before = lab.now()
    boot_volumes = {_boot_volume(before, server).id for server in before.servers.values()}
    result = _hubctl_teardown(lab, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    (build := PROJECT_DIR / "build" / "cloud").mkdir(parents=True, exist_ok=True)
    (build / "hubctl-teardown.txt").write_text(result.stdout)
    assert f"  - volume {HUB}-shared-data, {SHARED_DATA_GB + 1} GB (id {lab.shared_data_volume_id})" in result.stdout
    cluster = lab.hub["cluster"]
    assert f"  - server {HUB}-worker-1 ({cluster['workerFlavor']}, its {cluster['rootDiskGb']} GB boot volume)" in (
        result.stdout)
    # It printed the command it ran, one --target per server, found in the stack's state.
    (command,) = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("pulumi destroy")]
    assert command.count("--target ") == 2 and command.endswith("--target-dependents --yes")
    found = lab.now()
    expected = before.everything()
    del expected["servers"]
    expected["volumes"] = [entry for entry in expected["volumes"] if entry.split()[-1] not in boot_volumes]
    # The network, ports (with their addresses), router, floating IP, security groups, key pair and both volumes.
    assert found.everything() == expected
    kept_ids = {port.id for port in found.ports} | {ip.id for ip in found.floating_ips} | {
        network.id for network in found.networks} | {router.id for router in found.routers} | {
        group.id for group in found.security_groups.values()}
    assert {key: kept_id for key, kept_id in lab.identity.items() if kept_id not in kept_ids} == {
        key: kept_id for key, kept_id in lab.identity.items()
        if key.endswith(("server", "boot volume", "data volume", "state volume")) or key.startswith("server ")}
    for volume in (_shared_data_volume(found), _state_volume(found)):
        assert volume.status == "available"
    assert _shared_data_volume(found).size == SHARED_DATA_GB + 1
    # The stack still holds them, protected, with the rest of the cluster's identity.
    resources = lab.workspace.deployment()["deployment"]["resources"]
    for volume_id in (lab.shared_data_volume_id, lab.state_volume_id):
        (kept,) = [resource for resource in resources if resource.get("id") == volume_id]
        assert kept["protect"] is True
    identity = [resource["urn"].rsplit("::", 1)[1] for resource in resources
                if resource.get("parent", "").endswith("::hub-cluster-identity")]
    # Two tokens, five CAs and their keys, the service-account key, the state volume, the chart's three secrets.
    assert len(identity) == 17 and all(name.startswith("hub-cluster-identity-") for name in identity)
    assert {f"hub-cluster-identity-{secret}" for secret in ("cookie-secret", "proxy-token", "crypt-key")} <= set(
        identity)
    assert not [resource for resource in resources if resource["type"] == "openstack:compute/instance:Instance"]


def test_rebuild_boots_new_servers_on_the_same_ports_and_volumes(lab: Lab):
    lab.up("the rebuild after the teardown")
    found = lab.now()
    assert lab.workspace.outputs()["sharedDataVolumeId"] == lab.shared_data_volume_id
    for volume, volume_id in ((_shared_data_volume(found), lab.shared_data_volume_id),
                              (_state_volume(found), lab.state_volume_id)):
        assert (volume.id, volume.status) == (volume_id, "in-use")
        assert _attached_to(volume) == [found.servers[HUB].id]
    assert set(found.servers) == {HUB, f"{HUB}-worker-1"}
    assert _server_port(found, found.servers[HUB]).id == lab.identity["control plane port"]
    (address,) = found.floating_ips
    assert (address.id, address.port_id) == (lab.identity["floating IP"], lab.identity["control plane port"])
    assert lab.preview_ops("after the rebuild: nothing left to do") == {}
    # The homes and the hub database: untouched, waiting for the resumed cluster's claims.
    homes = {volume.id: volume.status for volume in found.volumes if volume.id in lab.homes.values()}
    assert homes == {volume_id: "available" for volume_id in lab.homes.values()}


def test_full_teardown_leaves_nothing_of_the_hub(lab: Lab):
    refused = _hubctl_teardown(lab, "--all", "--yes", "--confirm", "not-the-hub")
    assert refused.returncode == 1 and "'not-the-hub' is not 'lab-hub': nothing deleted" in refused.stderr
    assert set(lab.now().servers) == {HUB, f"{HUB}-worker-1"}

    result = _hubctl_teardown(lab, "--all", "--yes", "--confirm", HUB)
    assert result.returncode == 0, result.stdout + result.stderr
    (PROJECT_DIR / "build" / "cloud" / "hubctl-teardown-all.txt").write_text(result.stdout)
    # Each named, with its size, before anything went: the stack's two and the homes and hub database.
    for volume_id in (lab.shared_data_volume_id, lab.state_volume_id, *lab.homes.values()):
        assert volume_id in result.stdout
    left = settled(lambda: inventory(lab.api).everything(), lambda left: not left, "an empty project")
    assert left == {}
    assert not [resource for resource in lab.workspace.deployment()["deployment"].get("resources") or []
                if resource["type"] != "pulumi:pulumi:Stack"]
