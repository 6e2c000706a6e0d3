"""The namespace of the hub: created first, since storage, the certificate and shared data put objects there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from render import kubernetes as manifests

from .kubernetes_objects import apply_object, on_cluster


@dataclass(frozen=True)
class HubNamespaceArgs:
    kubernetes_provider: kubernetes.Provider


class HubNamespace(pulumi.ComponentResource):
    # The namespace's name, read from the created object: whatever takes it waits for the namespace.
    name: pulumi.Output[str]

    def __init__(self, name: str, args: HubNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:HubNamespace", name, None, opts)
        namespace = apply_object(
            f"{name}-namespace",
            manifests.namespace(manifests.HUB_NAMESPACE),
            on_cluster(self, args.kubernetes_provider),
        )
        self.name = namespace.metadata.apply(lambda metadata: metadata["name"])
        self.register_outputs({"name": self.name})
