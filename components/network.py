"""The hub's private network and its router to the outside (or an existing network: hub.cloud.networkId), and
least-privilege security groups.

Inbound, only: 80/443 from anywhere to the control plane (the hub's ingress), 22 and 6443 from the admin CIDRs to
the control plane (SSH, the Kubernetes API), and anything between the cluster's own servers. Outbound stays open
(OpenStack's default egress rules): servers install k3s and pull images.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_openstack as openstack

from config import HubConfig

WEB_PORTS = (80, 443)
ADMIN_PORTS = (22, 6443)
WORLD_IPV4 = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkArgs:
    config: HubConfig


class Network(pulumi.ComponentResource):
    network_id: pulumi.Output[str]
    # None on an existing network without hub.cloud.subnetId: Neutron picks the subnet of each port.
    subnet_id: Optional[pulumi.Output[str]]
    # On every server: traffic between the cluster's servers.
    cluster_security_group_id: pulumi.Output[str]
    # On the control plane only: the web and the admins.
    control_plane_security_group_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:openstack:Network", name, None, opts)
        cloud = args.config.cloud
        if cloud.makes_network:
            self.network_id, self.subnet_id = self._private_network(name, args.config)
        else:
            self.network_id = pulumi.Output.from_input(cloud.network_id)
            self.subnet_id = pulumi.Output.from_input(cloud.subnet_id) if cloud.subnet_id else None

        cluster = self._group(name, args.config.name, "cluster", "Traffic between the hub's own servers")
        self._rule(name, "cluster-from-cluster", cluster, remote_group_id=cluster.id)

        web = self._group(name, args.config.name, "web", "HTTP and HTTPS to the hub's ingress, from anywhere")
        for port in WEB_PORTS:
            self._rule(name, f"web-{port}", web, port=port, remote_ip_prefix=WORLD_IPV4)

        admin = self._group(name, args.config.name, "admin", "SSH and the Kubernetes API, from the admin CIDRs")
        for cidr in cloud.admin_cidrs:
            ethertype = "IPv4" if ipaddress.ip_network(cidr).version == 4 else "IPv6"
            for port in ADMIN_PORTS:
                self._rule(
                    name, f"admin-{port}-{_slug(cidr)}", admin, port=port, remote_ip_prefix=cidr, ethertype=ethertype
                )

        self.cluster_security_group_id = cluster.id
        self.control_plane_security_group_ids = [cluster.id, web.id, admin.id]
        self.register_outputs({"networkId": self.network_id, "subnetId": self.subnet_id})

    def _private_network(self, name: str, config: HubConfig) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        cloud = config.cloud
        child = pulumi.ResourceOptions(parent=self)
        network = openstack.networking.Network(f"{name}-network", name=f"{config.name}-network", opts=child)
        pool_start, pool_end = cloud.dhcp_pool
        subnet = openstack.networking.Subnet(
            f"{name}-subnet",
            name=f"{config.name}-subnet",
            network_id=network.id,
            cidr=cloud.subnet_cidr,
            ip_version=4,
            allocation_pools=[openstack.networking.SubnetAllocationPoolArgs(start=pool_start, end=pool_end)],
            opts=child,
        )
        router = openstack.networking.Router(
            f"{name}-router",
            name=f"{config.name}-router",
            external_network_id=cloud.external_network_id,
            opts=child,
        )
        router_interface = openstack.networking.RouterInterface(
            f"{name}-router-interface", router_id=router.id, subnet_id=subnet.id, opts=child
        )
        # The subnet as the router interface gives it back, so that every port (and with it every server and the
        # floating IP association) waits for the route out: Neutron refuses a floating IP on a subnet without one,
        # and a server that boots before it has no way to fetch k3s.
        return network.id, router_interface.subnet_id

    def _group(self, name: str, hub_name: str, role: str, description: str) -> openstack.networking.SecGroup:
        return openstack.networking.SecGroup(
            f"{name}-{role}",
            name=f"{hub_name}-{role}",
            description=description,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _rule(
        self,
        name: str,
        rule: str,
        group: openstack.networking.SecGroup,
        port: Optional[int] = None,
        ethertype: str = "IPv4",
        **remote: pulumi.Input[str],
    ) -> openstack.networking.SecGroupRule:
        ports = {"protocol": "tcp", "port_range_min": port, "port_range_max": port} if port else {}
        return openstack.networking.SecGroupRule(
            f"{name}-{rule}",
            direction="ingress",
            ethertype=ethertype,
            security_group_id=group.id,
            **ports,
            **remote,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _slug(cidr: str) -> str:
    # Resource names end up in URNs, where "::" separates parts: keep an IPv6 CIDR's colons out.
    return cidr.replace("/", "-").replace(":", "-")
