"""The shared data directory: a PersistentVolume on the NFS export and its claim in the hub's namespace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from config.model import SharedData as SharedDataConfig
from render import shared_data

from .kubernetes_objects import apply_object, on_cluster


@dataclass(frozen=True)
class SharedDataArgs:
    shared_data: SharedDataConfig
    kubernetes_provider: kubernetes.Provider
    hub_namespace: pulumi.Input[str]


class SharedData(pulumi.ComponentResource):
    claim_name: str
    mount_path: str

    def __init__(self, name: str, args: SharedDataArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:SharedData", name, None, opts)
        in_cluster = on_cluster(self, args.kubernetes_provider)
        volume, claim = shared_data.shared_data_objects(args.hub_namespace)
        nfs_volume = apply_object(f"{name}-volume", volume, in_cluster)
        apply_object(f"{name}-claim", claim, pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[nfs_volume])))
        self.claim_name = shared_data.SHARED_DATA_CLAIM
        self.mount_path = args.shared_data.mount_path
        self.register_outputs({"claimName": self.claim_name, "mountPath": self.mount_path})
