"""Apply a rendered Kubernetes object (a dict from render/) as the Pulumi resource of its kind.

The dict the tests validate is the document that is applied: its fields become the resource's inputs unchanged
(nested keys stay camelCase), only the top-level keys are spelled as the SDK's arguments.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

_TYPED: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): kubernetes.core.v1.Namespace,
    ("v1", "Secret"): kubernetes.core.v1.Secret,
    ("v1", "PersistentVolume"): kubernetes.core.v1.PersistentVolume,
    ("v1", "PersistentVolumeClaim"): kubernetes.core.v1.PersistentVolumeClaim,
    ("storage.k8s.io/v1", "StorageClass"): kubernetes.storage.v1.StorageClass,
    ("apps/v1", "DaemonSet"): kubernetes.apps.v1.DaemonSet,
}


def on_cluster(parent: pulumi.Resource, provider: kubernetes.Provider) -> pulumi.ResourceOptions:
    """Options of every resource that lives in the cluster: made through its provider, and deleted with it.

    The objects live in k3s's datastore on the state volume, which outlives every server. The provider goes only
    when the whole Kubernetes layer does (a `pulumi destroy`, or `hub.layers: openstack`): the objects are then
    left to the datastore instead of being deleted one by one through an API whose servers are going away in the
    same run. A teardown of the servers keeps the provider, so the objects stay in the stack too (cluster.py)."""
    return pulumi.ResourceOptions(parent=parent, provider=provider, deleted_with=provider)


def _argument(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def apply_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The resource for `manifest` (the SDK's Secret marks its data secret, whatever the values were)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    fields = {key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
    resource_type = _TYPED.get((api_version, kind))
    if resource_type is None:
        # Custom resources (cert-manager's ClusterIssuer): the generic resource keeps apiVersion and kind.
        return kubernetes.apiextensions.CustomResource(
            name, api_version=api_version, kind=kind, opts=opts, **fields
        )
    return resource_type(name, opts=opts, **{_argument(key): value for key, value in fields.items()})
