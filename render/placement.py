"""Where pods run (DESIGN.md, The cluster): the hub's core pods and cert-manager on the control plane, user pods
on workers only.

Workers carry the label hub.jupyter.org/node-purpose=user and the taint hub.jupyter.org/dedicated=user:NoSchedule,
which z2jh's user pods tolerate by default; nothing else does, so system pods stay off the workers.
"""

from __future__ import annotations

from typing import Any

# k3s labels every server node with it ("true"); the cluster may also taint it.
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
USER_NODE_PURPOSE_LABEL = "hub.jupyter.org/node-purpose"
USER_NODE_TAINT_KEY = "hub.jupyter.org/dedicated"
# On workers of a GPU flavor (the label NVIDIA's own tools set on nodes with a GPU): the device plugin runs there,
# and servers of a profile with gpus go there.
GPU_NODE_LABEL = "nvidia.com/gpu.present"
GPU_RESOURCE = "nvidia.com/gpu"
# The RuntimeClass k3s makes at start (its manifests/runtimes.yaml) for the runtime its containerd finds on a node
# with NVIDIA's container toolkit: containers run there see the GPUs the device plugin gives them.
GPU_RUNTIME_CLASS = "nvidia"


def control_plane_node_selector() -> dict[str, str]:
    return {CONTROL_PLANE_LABEL: "true"}


def control_plane_tolerations() -> list[dict[str, Any]]:
    # Any effect: the placement holds whether the control plane is tainted NoSchedule, NoExecute or not at all.
    return [{"key": CONTROL_PLANE_LABEL, "operator": "Exists"}]


def user_node_tolerations() -> list[dict[str, Any]]:
    return [{"key": USER_NODE_TAINT_KEY, "operator": "Equal", "value": "user", "effect": "NoSchedule"}]


def on_control_plane() -> dict[str, Any]:
    """nodeSelector and tolerations, the keys most charts use for one component."""
    return {"nodeSelector": control_plane_node_selector(), "tolerations": control_plane_tolerations()}
