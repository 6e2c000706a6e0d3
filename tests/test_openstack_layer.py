"""The OpenStack layer under Pulumi's mocks, in the real program: network, security groups, the cluster's identity,
servers, floating IP, DNS name, the shared data volume and the kubeconfig, as `pulumi up` would register them."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from functools import lru_cache

import pulumi
import pytest
import yaml

from config import HubConfig, parse
from config.model import SECRET_PLACEHOLDER
from hubctl.mocks import FAKE_CERTIFICATE, computed_outputs, resource_id
from hubctl.plan import SERVER, Plan, PlannedResource, run_program
from render import cloud_init

from .conftest import set_path, stack_data
from .variants import CLASSIC_PROVIDER, VARIANTS

PORT = "openstack:networking/port:Port"
RULE = "openstack:networking/secGroupRule:SecGroupRule"
GROUP = "openstack:networking/secGroup:SecGroup"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
ASSOCIATION = "openstack:networking/floatingIpAssociate:FloatingIpAssociate"
VOLUME = "openstack:blockstorage/volume:Volume"
RECORD_SET = "openstack:dns/recordSet:RecordSet"
COMMAND = "command:remote:Command"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
IDENTITY = "hubstack:openstack:ClusterIdentity"
WORLD = {"0.0.0.0/0", "::/0"}
# Values the shared mocks give generated secrets (hubctl/mocks.py): they must never reach plan.json.
OFFLINE_FAKES = ("[offline-random-password]", "[offline-private-key]", "[offline-random-bytes]")


def _variant(name: str) -> HubConfig:
    (variant,) = [variant for variant in VARIANTS if variant.name == name]
    return variant.config()


def _changed(stack: str, **changes) -> Plan:
    data = stack_data(stack)
    for path, value in changes.items():
        set_path(data, path, value)
    return run_program(parse(data, offline=True, plaintext_secrets=True), stack)


@lru_cache(maxsize=None)
def _plan(name: str) -> Plan:
    return run_program(_variant(name), "test")


def _component(plan: Plan, type_: str) -> PlannedResource:
    (component,) = plan.by_type(type_)
    return component


def _child_types(plan: Plan, type_: str) -> list[str]:
    return sorted(child.type for child in plan.children(_component(plan, type_).urn))


def _shared_data_volume(plan: Plan) -> PlannedResource:
    (volume,) = [volume for volume in plan.by_type(VOLUME) if volume.name.endswith("-shared-data-volume-volume")]
    return volume


def _state_volume(plan: Plan) -> PlannedResource:
    (volume,) = [volume for volume in plan.by_type(VOLUME) if volume.parent == _component(plan, IDENTITY).urn]
    return volume


def _servers(plan: Plan) -> dict[str, PlannedResource]:
    return {server.inputs["name"]: server for server in plan.by_type(SERVER)}


def _port_of(plan: Plan, server: PlannedResource) -> PlannedResource:
    (network,) = server.inputs["networks"]
    (port,) = [port for port in plan.by_type(PORT) if port.urn in server.dependencies and
               network["port"] == f"{port.name}-id"]
    return port


def _groups_of(plan: Plan, port: PlannedResource) -> set[str]:
    return {group.inputs["name"] for group in plan.by_type(GROUP)
            if f"{group.name}-id" in port.inputs["securityGroupIds"]}


@pytest.mark.parametrize("name", ["dev", "prod", "dedicated-nfs-server"])
def test_resource_graph(name):
    config = _variant(name)
    plan = _plan(name)
    hub_urn = _component(plan, "hubstack:index:Hub").urn
    for component in ("Network", "ClusterIdentity", "Cluster"):
        assert _component(plan, f"hubstack:openstack:{component}").parent == hub_urn
    rules = 1 + 2 + 2 * len(config.cloud.admin_cidrs)
    assert _child_types(plan, "hubstack:openstack:Network") == sorted(
        ["openstack:networking/network:Network", "openstack:networking/subnet:Subnet",
         "openstack:networking/router:Router", "openstack:networking/routerInterface:RouterInterface"]
        + [GROUP] * 3 + [RULE] * rules
    )
    dedicated = config.shared_data is not None and config.shared_data.server == "dedicated"
    servers = 1 + config.cluster.worker_count + dedicated
    expected = [SERVER] * servers + [PORT] * servers + [
        # The program's SSH key (no Nova key pair) and the control plane's host key.
        PRIVATE_KEY, PRIVATE_KEY, FLOATING_IP, ASSOCIATION, COMMAND,
        # The admin's client certificate, for the kubeconfig.
        PRIVATE_KEY, "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert",
    ]
    assert _child_types(plan, "hubstack:openstack:Cluster") == sorted(expected)
    # Two tokens; five CAs, each with its key; the service-account key; the state volume; the chart's three secrets.
    assert _child_types(plan, IDENTITY) == sorted(
        [RANDOM_PASSWORD] * 2 + [SELF_SIGNED] * 5 + [PRIVATE_KEY] * 6 + [VOLUME] + [RANDOM_BYTES] * 3)
    volumes = plan.by_type("hubstack:openstack:SharedDataVolume")
    assert len(volumes) == (config.shared_data is not None)
    # Nothing of OpenStack outside the hub's components.
    component_urns = {resource.urn for resource in plan.resources if not resource.custom}
    openstack = [resource for resource in plan.resources if resource.type.startswith("openstack:")]
    assert openstack and all(resource.parent in component_urns - {hub_urn} for resource in openstack)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_server_names_and_hostname_come_from_config(name):
    config = _variant(name)
    plan = _plan(name)
    expected = {config.name} | {f"{config.name}-worker-{index}" for index in range(1, config.cluster.worker_count + 1)}
    assert set(_servers(plan)) == expected
    # Jetstream2 names a floating IP <server>.<project>.projects.jetstream-cloud.org: the control plane's name.
    assert config.hostname.split(".")[0] == config.name
    assert plan.outputs["hostname"] == config.hostname
    assert plan.outputs["url"] == f"https://{config.hostname}"


@pytest.mark.parametrize("name", ["dev", "prod", "dedicated-nfs-server"])
def test_servers_boot_from_volume_on_the_configured_image_and_flavors(name):
    config = _variant(name)
    plan = _plan(name)
    for server_name, server in _servers(plan).items():
        boot, *attached = server.inputs["blockDevices"]
        # The control plane boots with the cluster's state volume, the server that serves NFS with the shared data.
        state = resource_id(VOLUME, _state_volume(plan).name)
        shared = [resource_id(VOLUME, _shared_data_volume(plan).name)] if config.shared_data else []
        on_control_plane = config.shared_data is not None and config.shared_data.server == "control-plane"
        # The shared data volume first (Nova reserves in order): see components/cluster.py.
        expected = {config.name: [*(shared if on_control_plane else []), state], f"{config.name}-nfs": shared}
        assert [device["uuid"] for device in attached] == expected.get(server_name, []), server_name
        assert server.inputs["stopBeforeDestroy"] is True
        assert boot == {"sourceType": "image", "uuid": config.cloud.image_id, "destinationType": "volume",
                        "volumeSize": config.cluster.root_volume_gb, "bootIndex": 0, "deleteOnTermination": True}
        assert server.inputs["availabilityZone"] == config.cloud.availability_zone
        flavor = {config.name: config.cluster.control_plane_flavor, f"{config.name}-nfs": (
            config.shared_data.server_flavor if config.shared_data else None)}.get(
            server_name, config.cluster.worker_flavor)
        assert server.inputs["flavorName"] == flavor
        assert "keyPair" not in server.inputs  # no Nova key pair: it would belong to whoever ran `up`


def _rules(plan: Plan) -> list[dict]:
    groups = {f"{group.name}-id": group.inputs["name"] for group in plan.by_type(GROUP)}
    return [rule.inputs | {"group": groups[rule.inputs["securityGroupId"]]} for rule in plan.by_type(RULE)]


@pytest.mark.parametrize("name", ["dev", "prod", "existing-network"])
def test_every_security_group_rule(name):
    config = _variant(name)
    plan = _plan(name)
    hub = config.name
    expected = [{"group": f"{hub}-cluster", "remote": "hub-network-cluster-id", "ports": None}]
    expected += [{"group": f"{hub}-web", "remote": "0.0.0.0/0", "ports": (port, port)} for port in (80, 443)]
    expected += [{"group": f"{hub}-admin", "remote": cidr, "ports": (port, port)}
                 for cidr in config.cloud.admin_cidrs for port in (22, 6443)]
    seen = []
    for rule in _rules(plan):
        assert rule["direction"] == "ingress"
        ports = (rule["portRangeMin"], rule["portRangeMax"]) if "portRangeMin" in rule else None
        assert (rule.get("protocol") == "tcp") == (ports is not None)
        seen.append({"group": rule["group"], "remote": rule.get("remoteIpPrefix") or rule["remoteGroupId"],
                     "ports": ports})
    key = lambda rule: json.dumps(rule, sort_keys=True)  # noqa: E731
    assert sorted(seen, key=key) == sorted(expected, key=key)
    assert not [rule for rule in seen if rule["remote"] in WORLD and rule["ports"] in {(22, 22), (6443, 6443)}]


def test_admin_ports_open_to_the_world_only_with_the_opt_in():
    plan = _changed("dev", **{"cloud.adminCidrs": ["0.0.0.0/0"], "cloud.allowAdminFromAnywhere": True})
    world = {rule["portRangeMin"] for rule in _rules(plan) if rule.get("remoteIpPrefix") == "0.0.0.0/0"}
    assert world == {22, 80, 443, 6443}


@pytest.mark.parametrize("name", ["prod", "dedicated-nfs-server", "existing-network"])
def test_web_and_admin_reach_the_control_plane_only(name):
    config = _variant(name)
    plan = _plan(name)
    hub = config.name
    for server_name, server in _servers(plan).items():
        groups = _groups_of(plan, _port_of(plan, server))
        if server_name == hub:
            assert groups == {f"{hub}-cluster", f"{hub}-web", f"{hub}-admin"}
        else:
            assert groups == {f"{hub}-cluster"}, server_name


@pytest.mark.parametrize("name", ["prod", "dedicated-nfs-server"])
def test_shared_data_volume_is_protected_and_retained(name):
    config = _variant(name)
    plan = _plan(name)
    volume = _shared_data_volume(plan)
    assert volume.protect and volume.retain_on_delete
    assert volume.inputs["size"] == config.shared_data.size_gb
    volume_id = resource_id(VOLUME, volume.name)
    assert plan.outputs["sharedDataVolumeId"] == volume_id
    # The serving server boots with it, and Nova detaches it (never deletes it) once that server has shut down.
    serving = config.name if config.shared_data.server == "control-plane" else f"{config.name}-nfs"
    for server_name, server in _servers(plan).items():
        attached = [device for device in server.inputs["blockDevices"] if device.get("uuid") == volume_id]
        assert attached == ([{"sourceType": "volume", "uuid": volume_id, "destinationType": "volume", "bootIndex": -1,
                              "deleteOnTermination": False}] if server_name == serving else []), server_name
    if serving != config.name:  # moved here from the control plane: after the old control plane let go of it
        assert _servers(plan)[config.name].urn in _servers(plan)[serving].dependencies
    # Nothing else that holds data is deleted with the stack, and of the cluster only its identity is protected.
    identity = _component(plan, IDENTITY).urn
    assert {resource.name for resource in plan.resources if resource.protect} == {volume.name} | {
        resource.name for resource in plan.children(identity)}


def test_nfs_clients_find_the_serving_server_by_name_and_a_move_changes_no_kubernetes_object():
    """Kubernetes' NFS volumes mount from hubstack-nfs, which every k3s node's metadata points at the serving
    server's fixed address: moving the share updates that metadata in place and leaves the cluster's objects be."""
    for name in ("prod", "dedicated-nfs-server"):
        config = _variant(name)
        plan = _plan(name)
        address = {"control-plane": config.cloud.control_plane_address,
                   "dedicated": config.cloud.nfs_server_address}[config.shared_data.server]
        volumes = plan.by_type("kubernetes:core/v1:PersistentVolume")
        assert volumes and all(volume.inputs["spec"]["nfs"]["server"] == "hubstack-nfs" for volume in volumes)
        servers = _servers(plan)
        serving = config.name if config.shared_data.server == "control-plane" else f"{config.name}-nfs"
        assert _port_of(plan, servers[serving]).inputs["fixedIps"][0]["ipAddress"] == address
        assert servers[serving].delete_before_replace
        for server_name, server in servers.items():
            expected = None if server_name == f"{config.name}-nfs" else address
            assert server.inputs["metadata"].get("hubstack-nfs-server") == expected, server_name
    for name, moved in (("prod", "dedicated"), ("dedicated-nfs-server", "control-plane")):
        (variant,) = [variant for variant in VARIANTS if variant.name == name]
        data = variant.data()
        set_path(data, "sharedData.server", moved)
        set_path(data, "sharedData.serverFlavor", "m3.small" if moved == "dedicated" else "~")
        after = run_program(parse(data, offline=True, plaintext_secrets=True), "test")
        before_objects, after_objects = ({resource.urn: resource.inputs for resource in plan.resources
                                          if resource.type.startswith("kubernetes:")} for plan in (_plan(name), after))
        assert before_objects and before_objects == after_objects, name


@pytest.mark.parametrize("name, kept", [("dev", False), ("prod", True)])
def test_allocated_floating_ip_is_retained_when_kept(name, kept):
    config = _variant(name)
    plan = _plan(name)
    (floating_ip,) = plan.by_type(FLOATING_IP)
    assert floating_ip.retain_on_delete is kept is config.floating_ip.keep_on_teardown
    assert floating_ip.inputs["pool"] == config.cloud.external_network
    (association,) = plan.by_type(ASSOCIATION)
    assert association.inputs["floatingIp"] == "203.0.113.10" == plan.outputs["floatingIp"]
    assert association.inputs["portId"] == f"{_port_of(plan, _servers(plan)[config.name]).name}-id"


def test_an_adopted_floating_ip_is_associated_not_allocated():
    plan = _changed("prod", **{"floatingIp.address": "149.165.150.10"})
    assert plan.by_type(FLOATING_IP) == []
    (association,) = plan.by_type(ASSOCIATION)
    assert association.inputs["floatingIp"] == "149.165.150.10" == plan.outputs["floatingIp"]
    assert "149.165.150.10" in _servers(plan)["atmos-course"].revealed["userData"]  # a TLS SAN of k3s


def test_designate_record_only_when_a_zone_is_configured():
    assert _plan("dev").by_type(RECORD_SET) == []
    plan = _changed("dev", **{"cloud.dnsZoneId": "b2c8e6f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f"})
    (record,) = plan.by_type(RECORD_SET)
    assert record.inputs == {"zoneId": "b2c8e6f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "type": "A", "ttl": 300,
                             "name": "dev-hub.hubstack-dev.projects.jetstream-cloud.org.", "records": ["203.0.113.10"]}


@pytest.mark.parametrize("name", ["dev", "prod", "dedicated-nfs-server"])
def test_workers_do_not_wait_for_the_control_plane(name):
    config = _variant(name)
    plan = _plan(name)
    servers = _servers(plan)
    control_plane = servers[config.name]
    control_plane_port = _port_of(plan, control_plane)
    assert control_plane_port.inputs["fixedIps"][0]["ipAddress"] == config.cloud.control_plane_address
    assert control_plane.delete_before_replace
    workers = [server for server_name, server in servers.items() if "-worker-" in server_name]
    assert len(workers) == config.cluster.worker_count
    for server in workers:
        assert control_plane.urn not in server.dependencies and control_plane_port.urn not in server.dependencies
        assert f"https://{config.cloud.control_plane_address}:6443" in server.revealed["userData"]


def test_on_an_existing_network_neutron_addresses_the_servers_and_nothing_else_is_made():
    """NeCTAR's Classic Provider (or any network the project has): no network, subnet, router or floating IP of
    the program's; every address is Neutron's, and each server's user data and metadata name the addresses the
    ports were given (here the mocks' stand-ins)."""
    config = _variant("existing-network")
    plan = _plan("existing-network")
    assert _child_types(plan, "hubstack:openstack:Network") == sorted([GROUP] * 3 + [RULE] * (3 + 2 * len(
        config.cloud.admin_cidrs)))
    assert plan.by_type(FLOATING_IP) == [] and plan.by_type(ASSOCIATION) == []
    servers = _servers(plan)
    ports = {server_name: _port_of(plan, server) for server_name, server in servers.items()}
    for port in ports.values():
        assert port.inputs["networkId"] == config.cloud.network_id and "fixedIps" not in port.inputs
    addresses = {server_name: computed_outputs(PORT, port.name, port.inputs)["allFixedIps"][0]
                 for server_name, port in ports.items()}
    control_plane = addresses.pop(config.name)
    assert plan.outputs["controlPlaneAddress"] == control_plane and "floatingIp" not in plan.outputs
    assert plan.outputs["workerAddresses"] == list(addresses.values())

    k3s = _k3s_config(servers[config.name])
    assert k3s["node-ip"] == k3s["advertise-address"] == control_plane
    assert k3s["tls-san"] == [control_plane, config.hostname]
    assert k3s["flannel-backend"] == "wireguard-native"  # others share the network: the pod network is encrypted
    for server_name in addresses:
        assert _k3s_config(servers[server_name])["server"] == f"https://{control_plane}:6443"
    # The share: exported at boot to the control plane itself, then to each of the hub's servers from metadata.
    runcmd = yaml.safe_load(servers[config.name].revealed["userData"])["runcmd"]
    share = resource_id(VOLUME, "hub-shared-data-volume-volume")
    prepare = runcmd.index(f"{cloud_init.PREPARE_NFS_VOLUME} {share} {control_plane}/32 1000:100")
    assert runcmd[prepare + 1] == cloud_init.EXPORT_NFS_NODES
    metadata = {server_name: server.inputs["metadata"] for server_name, server in servers.items()}
    clients = "".join(value for key, value in sorted(metadata[config.name].items())
                      if key.startswith(cloud_init.NFS_CLIENTS_METADATA))
    assert clients.split() == [control_plane, *addresses.values()]
    for server_name, server_metadata in metadata.items():
        assert server_metadata[cloud_init.NFS_SERVER_METADATA] == control_plane
        if server_name != config.name:
            assert not any(key.startswith(cloud_init.NFS_CLIENTS_METADATA) for key in server_metadata)
    # The API wait, the kubeconfig and SSH reach the control plane's own address.
    (api_ready,) = plan.by_type(COMMAND)
    assert api_ready.revealed["connection"]["host"] == control_plane
    assert api_ready.inputs["triggers"] == [f"{servers[config.name].name}-id"]
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    (cluster,) = yaml.safe_load(provider.revealed["kubeconfig"])["clusters"]
    assert cluster["cluster"]["server"] == f"https://{control_plane}:6443"


def test_an_existing_networks_subnet_and_dns_record():
    plan = _changed("prod", **{"cloud.externalNetworkId": "~", "cloud.networkId": CLASSIC_PROVIDER,
                               "cloud.subnetId": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", "floatingIp": {"enabled": False},
                               "cloud.dnsZoneId": "b2c8e6f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f"})
    for port in plan.by_type(PORT):
        assert port.inputs["fixedIps"] == [{"subnetId": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"}]
    (record,) = plan.by_type(RECORD_SET)
    assert record.inputs["records"] == [plan.outputs["controlPlaneAddress"]]
    # With a floating IP (a project network behind the admin's own router), the address is the floating IP's.
    plan = _changed("prod", **{"cloud.externalNetworkId": "~", "cloud.networkId": CLASSIC_PROVIDER})
    (association,) = plan.by_type(ASSOCIATION)
    assert plan.outputs["floatingIp"] == "203.0.113.10"
    assert _k3s_config(_servers(plan)["atmos-course"])["tls-san"][0] == "203.0.113.10"


def _k3s_config(server: PlannedResource) -> dict:
    files = yaml.safe_load(server.revealed["userData"])["write_files"]
    (k3s,) = [entry for entry in files if entry["path"] == cloud_init.K3S_CONFIG_PATH]
    return yaml.safe_load(k3s["content"])


def test_fixed_addresses_are_outside_the_dhcp_pool():
    config = _variant("dedicated-nfs-server")
    (subnet,) = _plan("dedicated-nfs-server").by_type("openstack:networking/subnet:Subnet")
    (pool,) = subnet.inputs["allocationPools"]
    start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
    for fixed in (config.cloud.control_plane_address, config.cloud.nfs_server_address):
        assert not start <= ipaddress.ip_address(fixed) <= end
    assert ipaddress.ip_address(pool["start"]) in ipaddress.ip_network(config.cloud.subnet_cidr)


def test_kubeconfig_is_composed_and_the_provider_waits_for_the_api():
    config = _variant("dev")
    plan = _plan("dev")
    (api_ready,) = plan.by_type(COMMAND)
    servers = _servers(plan)
    (association,) = plan.by_type(ASSOCIATION)
    # It runs once the control plane and its address exist (their IDs are its triggers: a new one runs it again),
    # but is no dependent of theirs: a teardown of the servers leaves it, and the cluster's objects, in the stack.
    assert api_ready.inputs["triggers"] == [f"{servers[config.name].name}-id", f"{association.name}-id"]
    assert not {server.urn for server in servers.values()} & set(api_ready.dependencies)
    # The connection carries the private key, so all of it is secret.
    assert api_ready.inputs["connection"] == SECRET_PLACEHOLDER
    connection = api_ready.revealed["connection"]
    assert (connection["host"], connection["user"]) == ("203.0.113.10", config.cloud.image_user)
    assert connection["privateKey"] == "[offline-private-key]"
    # The control plane's host key is Pulumi's, in its user data, and the only one the SSH accepts.
    (host_key,) = [key for key in plan.by_type(PRIVATE_KEY) if key.name.endswith("-control-plane-host-key")]
    public = computed_outputs(PRIVATE_KEY, host_key.name, host_key.inputs)["publicKeyOpenssh"]
    assert host_key.inputs["algorithm"] == "ED25519" and connection["hostKey"] == public
    user_data = yaml.safe_load(servers[config.name].revealed["userData"])
    assert user_data["ssh_keys"] == {"ed25519_private": "[offline-private-key]", "ed25519_public": public}
    assert servers[config.name].inputs["userData"] == SECRET_PLACEHOLDER
    assert plan.outputs["sshHostKey"] == public
    assert api_ready.inputs["logging"] == "stderr"  # the command's own messages, never cloud-init's
    assert plan.outputs["kubeconfig"] == SECRET_PLACEHOLDER
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert api_ready.urn in provider.dependencies
    assert provider.inputs["kubeconfig"] == SECRET_PLACEHOLDER
    kubeconfig = yaml.safe_load(provider.revealed["kubeconfig"])
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"] == "https://203.0.113.10:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode() == FAKE_CERTIFICATE
    (user,) = kubeconfig["users"]
    assert base64.b64decode(user["user"]["client-key-data"]).decode() == "[offline-private-key]"
    # Identified by its server CA: a new control plane or admin certificate updates the provider in place.
    assert provider.inputs["clusterIdentifier"] == (
        "k3s-server-ca-sha256:" + hashlib.sha256(FAKE_CERTIFICATE.encode()).hexdigest())


def test_admin_certificate_is_short_lived_and_renewed_by_pulumi_up():
    plan = _plan("dev")
    (certificate,) = plan.by_type("tls:index/locallySignedCert:LocallySignedCert")
    (request,) = plan.by_type("tls:index/certRequest:CertRequest")
    assert request.inputs["subject"] == {"commonName": "hubstack-admin", "organization": "system:masters"}
    assert certificate.inputs["validityPeriodHours"] == 90 * 24
    assert certificate.inputs["earlyRenewalHours"] == 30 * 24
    assert certificate.inputs["allowedUses"] == ["digital_signature", "key_encipherment", "client_auth"]
    client_ca = [ca for ca in plan.by_type(SELF_SIGNED) if ca.name.endswith("-client-ca")]
    assert certificate.inputs["caPrivateKeyPem"] == SECRET_PLACEHOLDER and len(client_ca) == 1
    assert certificate.revealed["caCertPem"] == FAKE_CERTIFICATE


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_cluster_identity_takes_nothing_an_admin_changes(name):
    """Protected resources cannot be replaced: an input that follows the config would make that config change fail.
    Only the state volume's name and description (updated in place) follow the hub's name."""
    base = _changed(name)
    changed = _changed(name, **{"name": "renamed-hub", "cluster.k3sVersion": "v1.34.1+k3s1", "cluster.workerCount": 4,
                                "cluster.controlPlaneFlavor": "m3.xl", "cluster.rootDiskGb": 200})
    identity = _component(base, IDENTITY).urn
    before = {resource.urn: resource.inputs for resource in base.children(identity)}
    after = {resource.urn: resource.inputs for resource in changed.children(_component(changed, IDENTITY).urn)}
    assert before.keys() == after.keys()
    differ = {urn.rsplit("::", 1)[1]: sorted(key for key in before[urn] if before[urn][key] != after[urn].get(key))
              for urn in before if before[urn] != after[urn]}
    assert differ == {"hub-cluster-identity-state-volume": ["description", "name"]}
    for ca in base.by_type(SELF_SIGNED):
        assert ca.inputs["isCaCertificate"] is True and ca.inputs["validityPeriodHours"] == 10 * 365 * 24


@pytest.mark.parametrize("name", ["dev", "prod", "dedicated-nfs-server"])
def test_generated_secrets_are_marked_secret(name):
    plan = _plan(name)
    text = json.dumps(plan.as_json())
    assert not [fake for fake in OFFLINE_FAKES if fake in text]
    # The token is in the k3s servers' user data, so the user data is a secret as a whole.
    for server_name, server in _servers(plan).items():
        if not server_name.endswith("-nfs"):
            assert server.inputs["userData"] == SECRET_PLACEHOLDER
            assert "[offline-random-password]" in server.revealed["userData"]


def test_outputs_name_the_addresses_an_admin_needs():
    config = _variant("prod")
    outputs = _plan("prod").outputs
    assert outputs["controlPlaneAddress"] == config.cloud.control_plane_address
    assert len(outputs["workerAddresses"]) == config.cluster.worker_count
    assert set(outputs) >= {"hostname", "url", "floatingIp", "controlPlaneAddress", "workerAddresses",
                            "sharedDataVolumeId", "kubeconfig"}


def test_cluster_args_say_when_the_shared_data_volume_is_needed():
    from components.cluster import ClusterArgs

    common = {"network_id": "n", "subnet_id": "s", "cluster_security_group_id": "g",
              "control_plane_security_group_ids": ["g"], "identity": None}
    with pytest.raises(ValueError, match="shared_data_volume_id is required exactly with hub.sharedData"):
        ClusterArgs(config=_variant("prod"), **common)
    with pytest.raises(ValueError, match="shared_data_volume_id is required exactly with hub.sharedData"):
        ClusterArgs(config=_variant("dev"), shared_data_volume_id="v", **common)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_openstack_layer_alone_is_the_full_hubs_openstack_layer(stack):
    full = run_program(parse(stack_data(stack), offline=True, plaintext_secrets=True), stack)
    alone = _changed(stack, layers="openstack", **{"charts.archives": "/nonexistent"})
    openstack_only = {resource.urn: resource.inputs for resource in alone.resources}
    # Same URNs and inputs, so switching layers on a running hub changes nothing that is already there.
    assert openstack_only == {resource.urn: resource.inputs for resource in full.resources
                              if resource.urn in openstack_only}
    left_out = {resource.type for resource in full.resources if resource.urn not in openstack_only}
    # Of OpenStack's, only the Cinder CSI driver's own credential, which lives and goes with the driver.
    assert {type_ for type_ in left_out if type_.startswith("openstack:")} == {
        "openstack:identity/applicationCredential:ApplicationCredential"}
    assert {COMMAND, "pulumi:providers:kubernetes", "hubstack:kubernetes:UserStorage"} <= left_out
    assert not [resource for resource in alone.resources
                if resource.type.startswith(("kubernetes:", "command:", "pulumi:providers:kubernetes"))]
    assert set(alone.outputs) == set(full.outputs) - {
        "url", "kubeconfig", "jupyterhubRelease", "jupyterhubNamespace", "certManagerRelease", "certManagerNamespace"}


@pytest.mark.parametrize("name", ["dev", "prod", "dedicated-nfs-server"])
def test_every_port_waits_for_the_route_out(name):
    # Without it, Neutron refuses the floating IP ("External network ... is not reachable from subnet"): found on
    # the local cloud's first `pulumi up`.
    plan = _plan(name)
    (router_interface,) = plan.by_type("openstack:networking/routerInterface:RouterInterface")
    ports = plan.by_type(PORT)
    assert len(ports) == len(_servers(plan))
    for port in ports:
        assert router_interface.urn in port.dependencies, port.name


def test_renaming_the_hub_keeps_every_resource_name():
    # URNs come from resource names: a renamed hub is the same hub, renamed, not a new one beside the old.
    renamed = _changed("prod", name="atmos-course-2027")
    assert [resource.urn for resource in renamed.resources] == [resource.urn for resource in _changed("prod").resources]
    assert _shared_data_volume(renamed).inputs["name"] == "atmos-course-2027-shared-data"
    assert _state_volume(renamed).inputs["name"] == "atmos-course-2027-k3s-state"


def test_moving_the_share_back_from_its_dedicated_server_takes_two_deployments():
    """Back to the control plane in one `pulumi up`, Pulumi would boot the new control plane (which needs the volume)
    before deleting the NFS server. The first deployment after the change (its last one served from the dedicated
    server) lets the NFS server go and leaves the control plane as it is; the next one boots it with the volume."""
    (variant,) = [variant for variant in VARIANTS if variant.name == "dedicated-nfs-server"]
    there = run_program(variant.config(), "test", previous_outputs={"sharedDataServer": "control-plane"})
    assert there.outputs["sharedDataServer"] == "dedicated"
    data = variant.data()
    set_path(data, "sharedData.server", "control-plane")
    set_path(data, "sharedData.serverFlavor", "~")
    back = parse(data, offline=True, plaintext_secrets=True)
    first = run_program(back, "test", previous_outputs={"sharedDataServer": "dedicated"})
    second = run_program(back, "test", previous_outputs={"sharedDataServer": first.outputs["sharedDataServer"]})
    assert (first.outputs["sharedDataServer"], second.outputs["sharedDataServer"]) == ("none", "control-plane")
    volume_id = resource_id(VOLUME, _shared_data_volume(first).name)
    before, during, after = (_servers(plan)[back.name] for plan in (there, first, second))
    # The first: no NFS server; the control plane exactly as it was (no replacement), the volume on no server.
    assert f"{back.name}-nfs" not in _servers(first)
    assert during.inputs["blockDevices"] == before.inputs["blockDevices"]
    assert during.revealed["userData"] == before.revealed["userData"]
    assert all(device.get("uuid") != volume_id for server in _servers(first).values()
               for device in server.inputs["blockDevices"])
    assert all("hubstack-nfs-server" not in server.inputs["metadata"] for server in _servers(first).values())
    # The second: the control plane boots with it and serves it (its user data exports the volume).
    assert [device.get("uuid") for device in after.inputs["blockDevices"]][1] == volume_id
    assert volume_id in after.revealed["userData"] and volume_id not in during.revealed["userData"]
    assert after.inputs["metadata"]["hubstack-nfs-server"] == back.cloud.control_plane_address
    # A new stack, or any other way, is one deployment.
    assert run_program(back, "test").outputs["sharedDataServer"] == "control-plane"


def test_root_disk_on_the_flavors_own_disk():
    """cluster.rootDisk: local boots every server from the image onto the flavor's disk: no root volume (the
    volume quota stays for homes), the state and shared data volumes attached as ever."""
    data = stack_data("prod")
    set_path(data, "cluster.rootDisk", "local")
    set_path(data, "cluster.rootDiskGb", "~")
    plan = run_program(parse(data, offline=True, plaintext_secrets=True), "prod")
    servers = plan.by_type(SERVER)
    assert servers
    for server in servers:
        boot, *attached = server.inputs["blockDevices"]
        assert boot == {"sourceType": "image", "uuid": data["cloud"]["imageId"], "destinationType": "local",
                        "bootIndex": 0, "deleteOnTermination": True}
        assert all(device["destinationType"] == "volume" for device in attached)
    assert any(server.inputs["blockDevices"][1:] for server in servers)  # the state volume, at least
