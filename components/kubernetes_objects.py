"""Apply a rendered Kubernetes object (a dict from render/) as the Pulumi resource of its kind.

The dict the tests validate is the document that is applied: its fields are the resource's inputs unchanged.

Each kind is registered as the SDK's class of that kind registers it (its type token, its aliases, its secret
outputs), without the class: importing pulumi_kubernetes.core.v1 for four of its classes loads all 1,100 of them,
0.2-0.3 s of every offline plan (helm.v3, for Release, loads requests too). tests/test_kubernetes_objects.py
proves, for every kind the program applies, that the engine gets the request the SDK's class would send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_kubernetes import _utilities


@dataclass(frozen=True)
class Kind:
    """What the SDK's class of a kind adds to the object's fields (see that class's `_internal_init`); custom
    resources add nothing."""

    aliases: tuple[str, ...] = ()  # the types this kind had in earlier API versions
    secret_fields: tuple[str, ...] = ()  # marked secret whatever their values were, in and out


KINDS: dict[tuple[str, str], Kind] = {
    ("v1", "Namespace"): Kind(),
    ("v1", "Secret"): Kind(secret_fields=("data", "stringData")),
    ("v1", "PersistentVolume"): Kind(),
    ("v1", "PersistentVolumeClaim"): Kind(),
    ("storage.k8s.io/v1", "StorageClass"): Kind(aliases=("kubernetes:storage.k8s.io/v1beta1:StorageClass",)),
    ("apps/v1", "DaemonSet"): Kind(
        aliases=("kubernetes:apps/v1beta2:DaemonSet", "kubernetes:extensions/v1beta1:DaemonSet")
    ),
}


def resource_type(api_version: str, kind: str) -> str:
    """The provider's type token of a kind: the core group is spelled `core`."""
    return f"kubernetes:{api_version if '/' in api_version else 'core/' + api_version}:{kind}"


def provider_resource(
    type_: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions, **options: Any
) -> pulumi.CustomResource:
    """A resource of the Kubernetes provider, with the options every class of its SDK adds: the provider's version
    (and plugin URL), then `options` (aliases, secret outputs)."""
    opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
    return pulumi.CustomResource(type_, name, props, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(**options)))


def on_cluster(parent: pulumi.Resource, provider: kubernetes.Provider) -> pulumi.ResourceOptions:
    """Options of every resource that lives in the cluster: made through its provider, and deleted with it.

    The objects live in k3s's datastore on the state volume, which outlives every server. The provider goes only
    when the whole Kubernetes layer does (a `pulumi destroy`, or `hub.layers: openstack`): the objects are then
    left to the datastore instead of being deleted one by one through an API whose servers are going away in the
    same run. A teardown of the servers keeps the provider, so the objects stay in the stack too (cluster.py)."""
    return pulumi.ResourceOptions(parent=parent, provider=provider, deleted_with=provider)


def apply_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The resource for `manifest`; its outputs are the object's fields as the API server returns them (plain
    dicts, e.g. `resource.metadata.apply(lambda metadata: metadata["name"])`)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    # Custom resources (cert-manager's ClusterIssuer, k3s's HelmChartConfig) are registered as the SDK's generic
    # CustomResource registers them: their fields as they are.
    known = KINDS.get((api_version, kind), Kind())
    props: dict[str, Any] = dict(manifest)
    for key in known.secret_fields:
        if props.get(key) is not None:
            props[key] = pulumi.Output.secret(props[key])
    return provider_resource(
        resource_type(api_version, kind), name, props, opts,
        aliases=[pulumi.Alias(type_=alias) for alias in known.aliases],
        additional_secret_outputs=list(known.secret_fields),
    )
