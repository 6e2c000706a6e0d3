"""User homes: the Cinder CSI driver with a default Retain storage class, or a claim on the NFS share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_openstack as openstack

from config import HubConfig
from config.model import CINDER_CSI_CHART, CinderHomes
from render import kubernetes as manifests
from render import storage

from . import helm
from .kubernetes_objects import apply_object, on_cluster


@dataclass(frozen=True)
class UserStorageArgs:
    config: HubConfig
    kubernetes_provider: kubernetes.Provider
    hub_namespace: pulumi.Input[str]


class UserStorage(pulumi.ComponentResource):
    # Homes on Cinder: the storage class of every user's volume; on NFS: the claim holding every home.
    storage_class: Optional[str]
    homes_claim: Optional[str]
    # The Cinder CSI driver's Helm release, on Cinder only.
    release_name: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: UserStorageArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:UserStorage", name, None, opts)
        config = args.config
        in_cluster = on_cluster(self, args.kubernetes_provider)
        self.storage_class = self.homes_claim = None
        self.release_name = None
        if isinstance(config.user_storage, CinderHomes):
            self.storage_class = config.user_storage.storage_class
            self.release_name = self._cinder_csi(name, args, in_cluster)
            storage_class = apply_object(f"{name}-storage-class", storage.storage_class(config.user_storage, config.cloud),
                                         in_cluster)
            for volume in config.user_storage.adopt:
                # Kept in the cluster when its entry goes from the config: by then a user's claim may be bound to
                # it, and deleting a bound volume's object waits for the claim (pv-protection).
                apply_object(f"{name}-adopted-{volume.volume_id}",
                             storage.adopted_volume(volume, config.user_storage, config.cloud, args.hub_namespace),
                             pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                                 depends_on=[storage_class], retain_on_delete=True)))
        else:
            self.homes_claim = storage.NFS_HOMES_CLAIM
            volume, claim = storage.nfs_homes_objects(args.hub_namespace)
            nfs_volume = apply_object(f"{name}-nfs-volume", volume, in_cluster)
            apply_object(f"{name}-nfs-claim", claim, pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[nfs_volume])))
        self.register_outputs({
            "storageClass": self.storage_class, "homesClaim": self.homes_claim, "releaseName": self.release_name,
        })

    def _cinder_csi(self, name: str, args: UserStorageArgs, in_cluster: pulumi.ResourceOptions) -> pulumi.Output[str]:
        config = args.config
        # The driver's own identity: revocable in Keystone without touching the person who ran `pulumi up`.
        credential = openstack.identity.ApplicationCredential(
            f"{name}-application-credential",
            name=f"hubstack-{config.name}-cinder-csi",
            description=f"Cinder CSI driver of the hub {config.hostname} (managed by Pulumi)",
            opts=pulumi.ResourceOptions(parent=self),
        )
        cloud_conf = pulumi.Output.all(credential.id, credential.secret).apply(
            lambda credential: storage.cloud_conf(config.cloud, *credential)
        )
        cloud_config = apply_object(
            f"{name}-cloud-config", storage.cloud_config_secret(pulumi.Output.secret(cloud_conf)), in_cluster
        )
        release = helm.release(
            f"{name}-cinder-csi", config, CINDER_CSI_CHART, storage.CINDER_CSI_REPOSITORY,
            name=storage.CINDER_CSI_RELEASE,
            namespace=manifests.SYSTEM_NAMESPACE,
            values=storage.cinder_csi_values(config),
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[cloud_config])),
        )
        return release.name
