"""A Helm release of a pinned chart, from its repository or, with hub.charts.archives, from a local archive."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from config import HubConfig


def release(
    resource_name: str, config: HubConfig, chart: str, repository: str, opts: pulumi.ResourceOptions, **arguments: Any
) -> kubernetes.helm.v3.Release:
    version = config.charts_in_use[chart]
    archive = config.charts.archive(chart, version)
    if archive is None:
        source: dict[str, Any] = {
            "chart": chart, "version": version,
            "repository_opts": kubernetes.helm.v3.RepositoryOptsArgs(repo=repository),
        }
    else:
        # A local archive is that version: its name says so and the config check found it.
        source = {"chart": str(archive)}
    return kubernetes.helm.v3.Release(resource_name, **source, **arguments, opts=opts)
