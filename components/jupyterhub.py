"""JupyterHub: the Zero to JupyterHub release, once its storage, certificate and shared data are in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from config import HubConfig
from config.model import JUPYTERHUB_CHART, DummyAuth
from render import jupyterhub

from . import helm
from .kubernetes_objects import on_cluster
from .shared_data import SharedData
from .tls import Tls
from .user_storage import UserStorage

# Helm waits for the hub to be ready: its first start attaches a new volume and pulls the hub image.
RELEASE_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class JupyterHubArgs:
    config: HubConfig
    kubernetes_provider: kubernetes.Provider
    hub_namespace: pulumi.Input[str]
    user_storage: UserStorage
    tls: Tls
    # The chart's secrets, pinned in the cluster's identity (ClusterIdentity.hub_secrets).
    hub_secrets: pulumi.Output[dict[str, str]]
    shared_data: Optional[SharedData] = None

    def __post_init__(self) -> None:
        if (self.shared_data is None) != (self.config.shared_data is None):
            raise ValueError("JupyterHubArgs: shared_data is required exactly when the config has hub.sharedData")


class JupyterHub(pulumi.ComponentResource):
    url: pulumi.Output[str]
    release_name: pulumi.Output[str]
    release_namespace: pulumi.Output[str]

    def __init__(self, name: str, args: JupyterHubArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:JupyterHub", name, None, opts)
        config = args.config
        release = helm.release(
            f"{name}-release", config, JUPYTERHUB_CHART, jupyterhub.JUPYTERHUB_REPOSITORY,
            name=jupyterhub.JUPYTERHUB_RELEASE,
            namespace=args.hub_namespace,
            values=jupyterhub.values(config, jupyterhub.Secrets(
                auth=_auth_secret(config),
                **{secret: args.hub_secrets[secret] for secret in jupyterhub.CHART_SECRETS},
            )),
            timeout=RELEASE_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions.merge(on_cluster(self, args.kubernetes_provider), pulumi.ResourceOptions(
                # Users' volumes need the storage class and driver, the ingress its issuer or Secret, the
                # user pods the shared data claim: without them the first spawns fail.
                depends_on=[part for part in (args.user_storage, args.tls, args.shared_data) if part is not None],
            )),
        )
        self.url = pulumi.Output.from_input(config.url)
        self.release_name = release.name
        self.release_namespace = release.namespace
        self.register_outputs({
            "url": self.url, "releaseName": self.release_name, "releaseNamespace": self.release_namespace,
        })


def _auth_secret(config: HubConfig) -> Optional[pulumi.Output[str]]:
    auth = config.auth
    value = auth.password if isinstance(auth, DummyAuth) else auth.client_secret
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None
