"""The hub: one ComponentResource that wires every part of one JupyterHub together.

OpenStack first (network, the cluster's identity, the shared data volume, the cluster), then everything on the
cluster through one Kubernetes provider built from the kubeconfig the program composes; with `hub.layers:
openstack`, the OpenStack layer alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from config import HubConfig

from .cluster import Cluster, ClusterArgs
from .cluster_identity import ClusterIdentity, ClusterIdentityArgs
from .gpus import GpuDevicePlugin, GpuDevicePluginArgs
from .hub_namespace import HubNamespace, HubNamespaceArgs
from .jupyterhub import JupyterHub, JupyterHubArgs
from .network import Network, NetworkArgs
from .shared_data import SharedData, SharedDataArgs
from .shared_data_volume import SharedDataVolume, SharedDataVolumeArgs
from .tls import Tls, TlsArgs
from .user_storage import UserStorage, UserStorageArgs


# The hub's logical name in every stack: resource names (and so URNs) never carry hub.name.
HUB = "hub"
# The stack output that says where the share is served; the next deployment reads it back.
SHARED_DATA_SERVER_OUTPUT = "sharedDataServer"


@dataclass(frozen=True)
class HubArgs:
    config: HubConfig


class Hub(pulumi.ComponentResource):
    hostname: pulumi.Output[str]
    floating_ip: Optional[pulumi.Output[str]]  # None with floatingIp.enabled: false
    control_plane_address: pulumi.Output[str]
    ssh_host_key: pulumi.Output[str]
    worker_addresses: pulumi.Output[list[str]]
    shared_data_volume_id: Optional[pulumi.Output[str]]
    # "control-plane", "dedicated" or "none": read back by the next deployment (the way back from a dedicated
    # server takes two).
    shared_data_server: pulumi.Output[str]
    state_volume_id: pulumi.Output[str]
    # The Kubernetes layer's, None with hub.layers: openstack.
    url: Optional[pulumi.Output[str]]
    kubeconfig: Optional[pulumi.Output[str]]  # secret
    jupyterhub_release: Optional[pulumi.Output[str]]
    jupyterhub_namespace: Optional[pulumi.Output[str]]
    cert_manager_release: Optional[pulumi.Output[str]]
    cert_manager_namespace: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: HubArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:index:Hub", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        network = Network(f"{name}-network", NetworkArgs(config=config), child)
        identity = ClusterIdentity(f"{name}-cluster-identity",
                                   ClusterIdentityArgs(hub_name=config.name, cloud=config.cloud), child)
        volume_id = None
        if config.shared_data:
            volume_id = SharedDataVolume(
                f"{name}-shared-data-volume",
                SharedDataVolumeArgs(hub_name=config.name, shared_data=config.shared_data, cloud=config.cloud),
                child,
            ).volume_id
        # This stack's outputs as its last deployment left them (none on a new stack): a change that takes two
        # deployments knows which one this is.
        previous = pulumi.StackReference(
            f"{name}-previous-deployment",
            stack_name=f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}",
            opts=child,
        )
        cluster = Cluster(f"{name}-cluster", ClusterArgs(
            config=config,
            identity=identity,
            network_id=network.network_id,
            subnet_id=network.subnet_id,
            cluster_security_group_id=network.cluster_security_group_id,
            control_plane_security_group_ids=network.control_plane_security_group_ids,
            shared_data_volume_id=volume_id,
            previous_shared_data_server=previous.get_output(SHARED_DATA_SERVER_OUTPUT),
        ), child)

        self.hostname = pulumi.Output.from_input(config.hostname)
        self.floating_ip = cluster.floating_ip
        self.control_plane_address = cluster.control_plane_address
        self.ssh_host_key = cluster.host_key
        self.worker_addresses = cluster.worker_addresses
        self.shared_data_volume_id = volume_id
        self.shared_data_server = cluster.shared_data_server
        self.kubeconfig = cluster.kubeconfig
        self.url = self.jupyterhub_release = self.jupyterhub_namespace = None
        self.cert_manager_release = self.cert_manager_namespace = None
        self.state_volume_id = identity.state_volume_id
        if cluster.kubeconfig is not None:
            self._kubernetes_layer(name, config, cluster, identity)
        self.register_outputs({"hostname": self.hostname, "url": self.url, "floatingIp": self.floating_ip})

    def _kubernetes_layer(self, name: str, config: HubConfig, cluster: Cluster, identity: ClusterIdentity) -> None:
        child = pulumi.ResourceOptions(parent=self)
        assert cluster.kubeconfig is not None and cluster.api_ready is not None  # the Kubernetes layer's
        provider = kubernetes.Provider(
            f"{name}-kubernetes",
            kubeconfig=cluster.kubeconfig,
            # The cluster is its server CA: the provider (and with it every Kubernetes resource) is replaced only
            # if that changes, never for a new control plane, address or admin certificate.
            cluster_identifier=identity.server_ca_certificate.apply(
                lambda pem: "k3s-server-ca-sha256:" + hashlib.sha256(pem.encode()).hexdigest()
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster.api_ready]),
        )
        namespace = HubNamespace(f"{name}-hub-namespace", HubNamespaceArgs(kubernetes_provider=provider), child)
        user_storage = UserStorage(f"{name}-user-storage", UserStorageArgs(
            config=config, kubernetes_provider=provider, hub_namespace=namespace.name,
        ), child)
        tls = Tls(f"{name}-tls", TlsArgs(config=config, kubernetes_provider=provider, hub_namespace=namespace.name),
                  child)
        shared_data = None
        if config.shared_data:
            shared_data = SharedData(f"{name}-shared-data", SharedDataArgs(
                shared_data=config.shared_data, kubernetes_provider=provider, hub_namespace=namespace.name,
            ), child)
        jupyterhub = JupyterHub(f"{name}-jupyterhub", JupyterHubArgs(
            config=config, kubernetes_provider=provider, hub_namespace=namespace.name,
            user_storage=user_storage, tls=tls, hub_secrets=identity.hub_secrets, shared_data=shared_data,
        ), child)
        if config.gpu_workers:
            GpuDevicePlugin(f"{name}-gpu-device-plugin", GpuDevicePluginArgs(kubernetes_provider=provider), child)
        self.url = jupyterhub.url
        self.jupyterhub_release = jupyterhub.release_name
        self.jupyterhub_namespace = jupyterhub.release_namespace
        self.cert_manager_release = tls.cert_manager_release_name
        self.cert_manager_namespace = tls.cert_manager_namespace
