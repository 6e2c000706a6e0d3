"""Kubernetes objects as plain dicts: the exact documents the components apply and the tests validate.

A leaf may be a value the program knows only at run time (a Pulumi Output, such as the hub's namespace or a
secret): these functions only place values, they never look inside them.
"""

from __future__ import annotations

from typing import Any

from .cloud_init import NFS_EXPORT_PATH, NFS_SERVER_NAME
from .placement import GPU_NODE_LABEL, GPU_RESOURCE, GPU_RUNTIME_CLASS, user_node_tolerations

# One hub per cluster: the runbooks' namespace name, so their kubectl commands (`-n jhub`) keep working.
HUB_NAMESPACE = "jhub"
CERT_MANAGER_NAMESPACE = "cert-manager"
# Where cluster add-ons run; the Cinder CSI driver expects its cloud config there.
SYSTEM_NAMESPACE = "kube-system"


def metadata(name: str, namespace: Any = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({key: value for key, value in extra.items() if value})
    return meta


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name)}


def secret(name: str, namespace: Any, string_data: dict[str, Any], type_: str = "Opaque") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(name, namespace),
        "type": type_,
        "stringData": string_data,
    }


# Kubernetes neither enforces nor measures an NFS volume's size, so the share's volume and claim carry a fixed,
# nominal one: growing the share then changes no Kubernetes object. A claim's request cannot change in place
# (Kubernetes refuses, pulumi-kubernetes replaces the claim), and that delete hangs on pvc-protection while users
# run; the new claim would never bind the Released volume either.
NFS_NOMINAL_CAPACITY = "1Gi"


def nfs_share_objects(volume: str, claim: str, namespace: Any) -> list[dict[str, Any]]:
    """A PersistentVolume over the whole NFS export and the one claim it is reserved for (pods mount subPaths)."""
    return [_nfs_volume(volume, claim, namespace), _nfs_claim(claim, namespace, volume)]


def _nfs_volume(name: str, claim: str, claim_namespace: Any) -> dict[str, Any]:
    # A PV is not namespaced, its claim is.
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata(name),
        "spec": {
            "capacity": {"storage": NFS_NOMINAL_CAPACITY},
            "accessModes": ["ReadWriteMany"],
            # Deleting the Kubernetes objects must never touch the data on the share.
            "persistentVolumeReclaimPolicy": "Retain",
            # No storage class: the default class's provisioner must not take the claim.
            "storageClassName": "",
            "claimRef": {"namespace": claim_namespace, "name": claim},
            "nfs": {"server": NFS_SERVER_NAME, "path": NFS_EXPORT_PATH},
        },
    }


def _nfs_claim(name: str, namespace: Any, volume: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(name, namespace),
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": volume,
            "resources": {"requests": {"storage": NFS_NOMINAL_CAPACITY}},
        },
    }


# NVIDIA's device plugin (NVIDIA/k8s-device-plugin, deployments/static/nvidia-device-plugin.yml of this release):
# it tells each GPU node's kubelet how many nvidia.com/gpu it has. The image is pinned; a new release is a change
# here.
NVIDIA_DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"
NVIDIA_DEVICE_PLUGIN = "nvidia-device-plugin"


def nvidia_device_plugin() -> dict[str, Any]:
    """The plugin's DaemonSet as NVIDIA's static manifest has it, on the GPU workers only (their label, and the
    users' taint tolerated), in the nvidia runtime, which gives it the driver's libraries to count the GPUs."""
    labels = {"app.kubernetes.io/name": NVIDIA_DEVICE_PLUGIN}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(NVIDIA_DEVICE_PLUGIN, SYSTEM_NAMESPACE),
        "spec": {
            "selector": {"matchLabels": labels},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {GPU_NODE_LABEL: "true"},
                    "tolerations": [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},
                                    *user_node_tolerations()],
                    "priorityClassName": "system-node-critical",
                    "runtimeClassName": GPU_RUNTIME_CLASS,
                    "containers": [{
                        "name": NVIDIA_DEVICE_PLUGIN,
                        "image": NVIDIA_DEVICE_PLUGIN_IMAGE,
                        "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "device-plugins", "mountPath": "/var/lib/kubelet/device-plugins"}],
                    }],
                    "volumes": [{"name": "device-plugins",
                                 "hostPath": {"path": "/var/lib/kubelet/device-plugins", "type": "Directory"}}],
                },
            },
        },
    }
