"""The k3s cluster on Nova servers: control plane, workers, the floating IP, the DNS name and the kubeconfig.

Every server boots in parallel: the join tokens and CAs come from the cluster's identity (cluster_identity.py) and
the control plane's address is on a port created beforehand (fixed on the network the program makes, Neutron's on
an existing one), so a worker's user data needs neither the control-plane server nor its boot. The control plane
boots with the identity's state volume, which holds k3s's datastore: a replaced control plane resumes the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_command as command
import pulumi_openstack as openstack
import pulumi_tls as tls

from config import HubConfig
from render import cloud_init
from render.kubeconfig import admin_kubeconfig

from .cluster_identity import ClusterIdentity

DNS_TTL_SECONDS = 300
SSH_DIAL_ATTEMPTS = 100
CLUSTER_WAIT_TIMEOUT = "40m"
# The admin client certificate cannot be revoked (k3s has no CRL): it is short-lived, and `pulumi up` issues a new
# one once the old one is within the early-renewal window, with no change to the cluster.
ADMIN_CERTIFICATE_HOURS = 90 * 24
ADMIN_CERTIFICATE_RENEWAL_HOURS = 30 * 24


@dataclass(frozen=True)
class ClusterArgs:
    config: HubConfig
    identity: ClusterIdentity
    network_id: pulumi.Input[str]
    # None: Neutron picks each port's subnet (an existing network without hub.cloud.subnetId).
    subnet_id: Optional[pulumi.Input[str]]
    cluster_security_group_id: pulumi.Input[str]
    control_plane_security_group_ids: Sequence[pulumi.Input[str]]
    # The NFS share's volume, attached to whichever server serves it: exactly when the config has hub.sharedData.
    shared_data_volume_id: Optional[pulumi.Input[str]] = None
    # Where the stack's last deployment served the share (its sharedDataServer output); None on a new stack.
    previous_shared_data_server: pulumi.Input[Optional[str]] = None

    def __post_init__(self) -> None:
        if (self.shared_data_volume_id is None) != (self.config.shared_data is None):
            raise ValueError("ClusterArgs: shared_data_volume_id is required exactly with hub.sharedData")


class Cluster(pulumi.ComponentResource):
    # None without one (floatingIp.enabled: false): the hub is reached at the control plane's own address.
    floating_ip: Optional[pulumi.Output[str]]
    # Where the hub, its API and SSH are reached: the floating IP, or the control plane's own address.
    public_address: pulumi.Output[str]
    # The control plane's SSH host key (OpenSSH public key line), which the program's SSH checks.
    host_key: pulumi.Output[str]
    control_plane_address: pulumi.Output[str]
    worker_addresses: pulumi.Output[list[str]]
    # "control-plane", "dedicated" or "none" (serving_the_share), exported for the next deployment to read back.
    shared_data_server: pulumi.Output[str]
    # With the Kubernetes layer only (hub.layers: all): the admin kubeconfig (secret), and what returns once the
    # API server is ready, for everything that talks to it to wait on.
    kubeconfig: Optional[pulumi.Output[str]]
    api_ready: Optional[pulumi.Resource]

    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:openstack:Cluster", name, None, opts)
        self._name, self._args = name, args
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        # The program's own SSH key, for its wait on the API: authorized on the control plane alone, by cloud-init.
        # Not a Nova key pair, which belongs to the user who made it (no teammate could delete it).
        ssh_key = tls.PrivateKey(f"{name}-ssh-key", algorithm="ED25519", opts=child)
        # The control plane's SSH host key: the program's SSH to it (the API wait) checks it, and admins can too
        # (the sshHostKey output). Kept across rebuilds of the server, as the server's address is.
        host_key = tls.PrivateKey(f"{name}-control-plane-host-key", algorithm="ED25519", opts=child)
        self.host_key = host_key.public_key_openssh
        identity = args.identity
        private_key = pulumi.Output.secret(ssh_key.private_key_openssh)
        # Where the share is served in this deployment: what the config says, except on the way back from a
        # dedicated server, which takes two deployments (serving_the_share).
        self.shared_data_server = pulumi.Output.from_input(args.previous_shared_data_server).apply(
            lambda previous: serving_the_share(config, previous)
        )
        serving_from_control_plane = self.shared_data_server.apply(lambda serving: serving == "control-plane")

        # Every port first: the servers' user data and metadata name each other's addresses.
        control_plane_port = self._port("control-plane", args.control_plane_security_group_ids,
                                        config.cloud.control_plane_address)
        self.control_plane_address = self._address(control_plane_port, config.cloud.control_plane_address)
        worker_ports = [self._port(f"worker-{index}", [args.cluster_security_group_id])
                        for index in range(1, config.cluster.worker_count + 1)]
        self.worker_addresses = pulumi.Output.all(*[port.all_fixed_ips[0] for port in worker_ports])
        dedicated = config.shared_data is not None and config.shared_data.server == "dedicated"
        nfs_server_port = (self._port("nfs-server", [args.cluster_security_group_id], config.cloud.nfs_server_address)
                           if dedicated else None)
        self._nfs_server = pulumi.Output.all(
            self.shared_data_server, self.control_plane_address,
            self._address(nfs_server_port, config.cloud.nfs_server_address) if nfs_server_port else None,
        ).apply(lambda values: {"control-plane": values[1], "dedicated": values[2]}.get(values[0]))
        # On an existing network the share is exported to each of the hub's servers (the control plane and the
        # workers, whose kubelets mount it), by address: others share the subnet.
        self._nfs_clients = (pulumi.Output.from_input([]) if config.cloud.makes_network else pulumi.Output.all(
            self.control_plane_address, self.worker_addresses).apply(lambda values: [values[0], *values[1]]))
        nfs = self._nfs_serve() if config.shared_data else None

        self.floating_ip = self._floating_ip()
        self.public_address = self.floating_ip or self.control_plane_address
        state = pulumi.Output.all(identity.server_token, identity.agent_token, identity.state_volume_id,
                                  identity.certificate_authorities).apply(
            lambda values: cloud_init.ClusterState(*values)
        )
        control_plane_user_data = pulumi.Output.all(
            state, self.control_plane_address, self.public_address, nfs, serving_from_control_plane,
            host_key.private_key_openssh, host_key.public_key_openssh, ssh_key.public_key_openssh,
        ).apply(
            lambda values: cloud_init.control_plane_user_data(
                config,
                state=values[0],
                private_address=values[1],
                public_address=values[2],
                nfs=values[3] if values[4] else None,
                host_key=cloud_init.HostKey(values[5], values[6]),
                program_key=values[7],
            )
        )
        # The port keeps the address, and a volume can be attached to one server only: the old server must release
        # them before a new one can take them. The shared data volume comes first: Nova reserves a boot's volumes in
        # order and does not release one when a later one fails, so a shared volume still held by another server
        # fails the boot before the state volume is left "reserved" (seen on the local cloud).
        control_plane = self._server(
            "control-plane", config.name, config.cluster.control_plane_flavor, control_plane_port,
            control_plane_user_data, pulumi.ResourceOptions(delete_before_replace=True),
            volume_ids=pulumi.Output.all(serving_from_control_plane, args.shared_data_volume_id,
                                         identity.state_volume_id).apply(
                lambda values: [values[1], values[2]] if values[0] else [values[2]]
            ),
        )
        association = None
        if self.floating_ip is not None:
            association = openstack.networking.FloatingIpAssociate(
                f"{name}-floating-ip-association", floating_ip=self.floating_ip, port_id=control_plane_port.id,
                opts=child,
            )
        if config.cloud.dns_zone_id:
            openstack.dns.RecordSet(
                f"{name}-dns-record",
                zone_id=config.cloud.dns_zone_id,
                name=f"{config.hostname}.",
                type="A",
                records=[self.public_address],
                ttl=DNS_TTL_SECONDS,
                opts=child,
            )

        worker_user_data = pulumi.Output.all(identity.agent_token, self.control_plane_address).apply(
            lambda values: cloud_init.worker_user_data(
                config, agent_token=values[0], control_plane_address=values[1]
            )
        )
        for index, (server_name, port) in enumerate(zip(cloud_init.worker_names(config), worker_ports), start=1):
            self._server(f"worker-{index}", server_name, config.cluster.worker_flavor, port, worker_user_data)

        if nfs is not None and nfs_server_port is not None:
            self._dedicated_nfs_server(nfs, nfs_server_port, control_plane)

        self.kubeconfig = self.api_ready = None
        if config.kubernetes_layer:
            self.api_ready = self._wait_for_cluster(control_plane, association, private_key)
            self.kubeconfig = self._admin_kubeconfig()
        self.register_outputs({
            "floatingIp": self.floating_ip,
            "sshHostKey": self.host_key,
            "controlPlaneAddress": self.control_plane_address,
            "workerAddresses": self.worker_addresses,
            "kubeconfig": self.kubeconfig,
        })

    def _wait_for_cluster(
        self,
        control_plane: openstack.compute.Instance,
        association: Optional[openstack.networking.FloatingIpAssociate],
        private_key: pulumi.Output[str],
    ) -> command.remote.Command:
        return command.remote.Command(
            f"{self._name}-api-ready",
            connection=command.remote.ConnectionArgs(
                host=self.public_address,
                user=self._args.config.cloud.image_user,
                private_key=private_key,
                host_key=self.host_key,
                # The server is still booting when the command starts: keep dialling until SSH answers.
                dial_error_limit=SSH_DIAL_ATTEMPTS,
            ),
            create=cloud_init.wait_for_cluster_command(),
            # Each new control plane (and address): what talks to the API waits until it answers again.
            triggers=waits_for(control_plane.id, *([association.id] if association else [])),
            # Only the command's own fixed messages reach stderr (never cloud-init's, which could quote the user
            # data): a cloud-init error that it waits past is shown in `pulumi up`.
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self,
                # cloud-init installs k3s and may wait up to 15 minutes for the shared data volume to attach.
                custom_timeouts=pulumi.CustomTimeouts(create=CLUSTER_WAIT_TIMEOUT),
            ),
        )

    def _admin_kubeconfig(self) -> pulumi.Output[str]:
        identity = self._args.identity
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{self._name}-admin-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        request = tls.CertRequest(
            f"{self._name}-admin-request",
            private_key_pem=key.private_key_pem,
            # system:masters: cluster-admin by the API server's own rule, whatever RBAC holds.
            subject=tls.CertRequestSubjectArgs(common_name="hubstack-admin", organization="system:masters"),
            opts=child,
        )
        certificate = tls.LocallySignedCert(
            f"{self._name}-admin-certificate",
            cert_request_pem=request.cert_request_pem,
            ca_cert_pem=identity.client_ca_certificate,
            ca_private_key_pem=identity.client_ca_key,
            validity_period_hours=ADMIN_CERTIFICATE_HOURS,
            early_renewal_hours=ADMIN_CERTIFICATE_RENEWAL_HOURS,
            allowed_uses=["digital_signature", "key_encipherment", "client_auth"],
            opts=child,
        )
        return pulumi.Output.secret(pulumi.Output.all(
            self.public_address, identity.server_ca_certificate, certificate.cert_pem, key.private_key_pem
        ).apply(lambda values: admin_kubeconfig(
            address=values[0], ca_certificate=values[1], client_certificate=values[2], client_key=values[3]
        )))

    def _floating_ip(self) -> Optional[pulumi.Output[str]]:
        floating_ip = self._args.config.floating_ip
        if not floating_ip.enabled:
            return None
        if floating_ip.address:
            # Adopted: the address stays the project's, outside this stack; only the association is ours.
            return pulumi.Output.from_input(floating_ip.address)
        allocated = openstack.networking.FloatingIp(
            f"{self._name}-floating-ip",
            pool=floating_ip.pool or self._args.config.cloud.external_network,
            description=f"hub {self._args.config.hostname}",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=floating_ip.keep_on_teardown),
        )
        return allocated.address

    def _nfs_serve(self) -> pulumi.Output[cloud_init.NfsServe]:
        cloud = self._args.config.cloud
        # On an existing network the export admits the serving server alone at first; export-nfs-nodes.sh adds the
        # hub's servers from its metadata (cloud_init.NfsServe).
        clients = (pulumi.Output.from_input(cloud.subnet_cidr) if cloud.makes_network
                   else self._nfs_server.apply(lambda address: f"{address}/32"))
        return pulumi.Output.all(self._args.shared_data_volume_id, clients).apply(
            lambda values: cloud_init.NfsServe(volume_id=values[0], client_cidr=values[1])
        )

    def _dedicated_nfs_server(
        self, nfs: pulumi.Output[cloud_init.NfsServe], port: openstack.networking.Port,
        control_plane: openstack.compute.Instance,
    ) -> openstack.compute.Instance:
        config = self._args.config
        assert config.shared_data and config.shared_data.server_flavor  # the model requires it for "dedicated"
        user_data = nfs.apply(lambda serve: cloud_init.nfs_server_user_data(config, nfs=serve))
        # After the control plane: when the share moves here from the control plane, the old control plane goes
        # first (delete before replace) and lets go of the volume.
        return self._server(
            "nfs-server", f"{config.name}-nfs", config.shared_data.server_flavor, port, user_data,
            pulumi.ResourceOptions(delete_before_replace=True, depends_on=[control_plane]),
            volume_ids=[self._args.shared_data_volume_id],
        )

    def _port(
        self, role: str, security_group_ids: Sequence[pulumi.Input[str]], fixed_address: Optional[str] = None
    ) -> openstack.networking.Port:
        """The server's port, which keeps its address across a rebuild of the server. On the network the program
        makes, `fixed_address` (the control plane's and the NFS server's, below the DHCP pool); on an existing
        network Neutron gives every address, since one asked for could be another project's."""
        subnet_id = self._args.subnet_id
        address = fixed_address if self._args.config.cloud.makes_network else None
        return openstack.networking.Port(
            f"{self._name}-{role}-port",
            name=f"{self._args.config.name}-{role}",
            network_id=self._args.network_id,
            fixed_ips=(None if subnet_id is None
                       else [openstack.networking.PortFixedIpArgs(subnet_id=subnet_id, ip_address=address)]),
            security_group_ids=list(security_group_ids),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _address(self, port: openstack.networking.Port, fixed_address: str) -> pulumi.Output[str]:
        """A port's private address: the fixed one, known before the port is made, or the one Neutron gave it."""
        if self._args.config.cloud.makes_network:
            return pulumi.Output.from_input(fixed_address)
        return port.all_fixed_ips[0]

    def _server(
        self,
        role: str,
        server_name: str,
        flavor: str,
        port: openstack.networking.Port,
        user_data: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
        volume_ids: pulumi.Input[Sequence[str]] = (),
    ) -> openstack.compute.Instance:
        config = self._args.config
        # The root disk: a volume of the configured size, or the flavor's own disk; the server's, and gone with it.
        boot = openstack.compute.InstanceBlockDeviceArgs(
            source_type="image",
            uuid=config.cloud.image_id,
            boot_index=0,
            delete_on_termination=True,
            **({"destination_type": "volume", "volume_size": config.cluster.root_volume_gb}
               if config.cluster.root_disk == "volume" else {"destination_type": "local"}),
        )
        # The state and shared data volumes: attached before the server boots, and detached by Nova only once the
        # server has shut down (stop_before_destroy) and gone, never under a mounted filesystem or a live export.
        block_devices = pulumi.Output.from_input(volume_ids).apply(lambda ids: [boot, *(
            openstack.compute.InstanceBlockDeviceArgs(
                source_type="volume",
                uuid=volume_id,
                destination_type="volume",
                boot_index=-1,
                delete_on_termination=False,
            ) for volume_id in ids)])
        return openstack.compute.Instance(
            f"{self._name}-{role}",
            name=server_name,
            flavor_name=flavor,
            availability_zone=config.cloud.availability_zone,
            block_devices=block_devices,
            networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
            user_data=user_data,
            # The k3s version, the admins' keys and the NFS server's address: changed in place, and brought onto the
            # server by its sync timer.
            metadata=pulumi.Output.all(self.shared_data_server, self._nfs_server, self._nfs_clients).apply(
                lambda values: cloud_init.server_metadata(
                    config, role, nfs_server=values[1],
                    nfs_clients=values[2] if _serves_the_share(role, values[0]) else (),
                )
            ),
            # A server goes by shutting down (k3s, NFS and the filesystems stop cleanly), then its volumes detach.
            stop_before_destroy=True,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts),
        )


def _serves_the_share(role: str, serving: str) -> bool:
    return (role, serving) in (("control-plane", "control-plane"), ("nfs-server", "dedicated"))


def waits_for(*outputs: pulumi.Output[str]) -> pulumi.Output[list[str]]:
    """The outputs' values, known once their resources are made, without those resources as dependencies.

    What waits for the API server (and through it the Kubernetes provider and every object in the cluster) waits
    for each new control plane by its ID, but does not depend on the servers in Pulumi's graph: the cluster's
    objects live in the datastore on the state volume, not on a server. So `pulumi destroy --target <servers>
    --target-dependents` (hubctl teardown) takes the servers alone, and leaves the Kubernetes layer in the stack
    as it is left in the datastore; the next `pulumi up` boots servers that resume it and changes nothing there.
    A whole `pulumi destroy` still deletes nothing through the API while servers go: objects are deleted with
    their provider (kubernetes_objects.on_cluster)."""
    joined = pulumi.Output.all(*outputs)
    return pulumi.Output(set(), joined.future(), joined.is_known(), joined.is_secret())


def serving_the_share(config: HubConfig, previous: Optional[str]) -> str:
    """Where the share is served in this deployment: "control-plane", "dedicated", or "none" (no share, or no
    server holds it for now).

    The way back from a dedicated server takes two deployments: Pulumi deletes a removed server last, after it has
    booted the new control plane, which needs the volume the NFS server still holds. So the first deployment serves
    it from nowhere (the NFS server stops and lets go of the volume; the control plane stays as it is) and says so;
    the next one, which reads "none" back from this one's output, boots the control plane with it."""
    if config.shared_data is None:
        return "none"
    if config.shared_data.server == "control-plane" and previous == "dedicated":
        pulumi.log.warn(
            "hub.sharedData.server: the share moves back from its dedicated server in two `pulumi up`s. This one "
            f"stops and removes {config.name}-nfs, which lets go of the volume; users have no shared data until "
            "the next `pulumi up`, which boots the control plane with the volume. Run it once this one is done."
        )
        return "none"
    return config.shared_data.server
