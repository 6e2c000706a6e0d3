"""Apply a rendered Kubernetes object (a dict from render/) as the Pulumi resource of its kind.

The dict the tests validate is the document that is applied: its fields become the resource's inputs unchanged
(nested keys stay camelCase), only the top-level keys are spelled as the SDK's arguments.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

# The SDK's class of each kind, by its module: pulumi_kubernetes imports a module when it is first named (apps/v1
# costs 20 ms of every plan, and only hubs with GPU workers use it).
_TYPED: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "core.v1",
    ("v1", "Secret"): "core.v1",
    ("v1", "PersistentVolume"): "core.v1",
    ("v1", "PersistentVolumeClaim"): "core.v1",
    ("storage.k8s.io/v1", "StorageClass"): "storage.v1",
    ("apps/v1", "DaemonSet"): "apps.v1",
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
    module = _TYPED.get((api_version, kind))
    if module is None:
        # Custom resources (cert-manager's ClusterIssuer): the generic resource keeps apiVersion and kind.
        return kubernetes.apiextensions.CustomResource(
            name, api_version=api_version, kind=kind, opts=opts, **fields
        )
    resource_type = getattr(functools.reduce(getattr, module.split("."), kubernetes), kind)
    return resource_type(name, opts=opts, **{_argument(key): value for key, value in fields.items()})
