"""User homes: the Cinder CSI driver with a default Retain storage class, or a claim on the NFS share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_openstack as openstack
import pulumi_random as random

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
        assert isinstance(config.user_storage, CinderHomes)
        given = config.user_storage.application_credential
        if given is not None:
            assert given.secret is not None  # the model requires it
            credential_id = pulumi.Output.from_input(given.id)
            credential_secret = pulumi.Output.secret(given.secret.get_secret_value())
        else:
            # The driver's own identity: revocable in Keystone without touching the person who ran `pulumi up`; it
            # cannot make credentials itself (unrestricted: false). Keystone cannot change a credential, so a change
            # of its arguments replaces it, new before old, and Keystone refuses a new one named as the old (409):
            # its name ends in a random part that is new whenever the arguments change (the keepers), or the hub's
            # name, or when an admin replaces it to rotate the credential.
            arguments = {"description": "Cinder CSI driver of a JupyterHub made by hubstack (managed by Pulumi)",
                         "unrestricted": False}
            credential_name = random.RandomId(
                f"{name}-application-credential-name", byte_length=4, prefix=f"hubstack-{config.name}-cinder-csi-",
                keepers={key: str(value) for key, value in arguments.items()},
                opts=pulumi.ResourceOptions(parent=self),
            )
            credential = openstack.identity.ApplicationCredential(
                f"{name}-application-credential", name=credential_name.hex, **arguments,
                opts=pulumi.ResourceOptions(parent=self),
            )
            credential_id, credential_secret = credential.id, credential.secret
        cloud_conf = pulumi.Output.all(credential_id, credential_secret).apply(
            lambda credential: storage.cloud_conf(config.cloud, *credential)
        )
        secret_name = credential_id.apply(storage.cloud_config_secret_name)
        cloud_config = apply_object(
            f"{name}-cloud-config", storage.cloud_config_secret(secret_name, pulumi.Output.secret(cloud_conf)),
            in_cluster,
        )
        release = helm.release(
            f"{name}-cinder-csi", config, CINDER_CSI_CHART, storage.CINDER_CSI_REPOSITORY,
            name=storage.CINDER_CSI_RELEASE,
            namespace=manifests.SYSTEM_NAMESPACE,
            values=storage.cinder_csi_values(config, secret_name),
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[cloud_config])),
        )
        return release.name
