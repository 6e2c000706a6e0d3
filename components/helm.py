"""A Helm release of a pinned chart, from its repository or, with hub.charts.archives, from a local archive."""

from __future__ import annotations

from typing import Any

import pulumi

from config import HubConfig

from .kubernetes_objects import provider_resource

RELEASE = "kubernetes:helm.sh/v3:Release"


def release(
    resource_name: str, config: HubConfig, chart: str, repository: str, opts: pulumi.ResourceOptions, **properties: Any
) -> pulumi.CustomResource:
    """The release, registered as the SDK's Release class registers it (without importing pulumi_kubernetes.helm,
    see kubernetes_objects). `properties` are the Release's, spelled as the provider spells them (name, namespace,
    values, timeout); its outputs include `name` and `namespace`."""
    version = config.charts_in_use[chart]
    archive = config.charts.archive(chart, version)
    if archive is None:
        source: dict[str, Any] = {"chart": chart, "version": version, "repositoryOpts": {"repo": repository}}
    else:
        # A local archive is that version: its name says so and the config check found it.
        source = {"chart": str(archive)}
    # `compat` is the SDK's constant: the provider tells v3 Release programs from older ones by it. `status` is
    # asked for as an output, as the SDK's class asks for it (the engine's request is the same).
    return provider_resource(RELEASE, resource_name, {**source, **properties, "compat": "true", "status": None}, opts)
