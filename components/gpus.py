"""What makes GPU workers' GPUs usable (config: a worker flavor with gpus): NVIDIA's device plugin in the cluster.
The container runtime is set up on the workers by cloud-init, and the `nvidia` RuntimeClass is k3s's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from render import kubernetes as manifests

from .kubernetes_objects import apply_object, on_cluster


@dataclass(frozen=True)
class GpuDevicePluginArgs:
    kubernetes_provider: kubernetes.Provider


class GpuDevicePlugin(pulumi.ComponentResource):
    def __init__(self, name: str, args: GpuDevicePluginArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:GpuDevicePlugin", name, None, opts)
        apply_object(f"{name}-daemon-set", manifests.nvidia_device_plugin(), on_cluster(self, args.kubernetes_provider))
        self.register_outputs({})
