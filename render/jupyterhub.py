"""Zero to JupyterHub values (chart 4.x) from the hub config."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Optional

from config import HubConfig
from config.model import (
    USER_GID,
    USER_UID,
    AcmeIssuer,
    AuthBase,
    AzureAdAuth,
    CpuResources,
    DummyAuth,
    GitHubAuth,
    GitPuller,
    GlobusAuth,
    Image,
    ManualTls,
    MemoryResources,
    OidcAuth,
)

from . import certificates, placement, shared_data, storage
from .cloud_init import K3S_LOCAL_STORAGE_CLASS
from .placement import GPU_NODE_LABEL, GPU_RESOURCE, GPU_RUNTIME_CLASS

JUPYTERHUB_REPOSITORY = "https://hub.jupyter.org/helm-chart/"
JUPYTERHUB_RELEASE = "jhub"

# JupyterHub's authenticator entry point -> the class whose traits go under hub.config.
AUTHENTICATORS: dict[type[AuthBase], tuple[str, str]] = {
    GitHubAuth: ("github", "GitHubOAuthenticator"),
    GlobusAuth: ("globus", "GlobusOAuthenticator"),
    AzureAdAuth: ("azuread", "AzureAdOAuthenticator"),
    OidcAuth: ("generic-oauth", "GenericOAuthenticator"),
    DummyAuth: ("dummy", "DummyAuthenticator"),
}


@dataclass(frozen=True)
class Secrets:
    """Secret values as the program holds them (Pulumi Outputs marked secret; placeholders in tests)."""

    auth: Any = None  # the OAuth client secret, or the dummy authenticator's shared password
    # The chart's own secrets, pinned by the program (components/cluster_identity.py) so that a rebuilt cluster
    # keeps them: the cookie secret, the proxy's auth token and the key of users' encrypted auth state.
    cookie_secret: Any = None
    proxy_token: Any = None
    crypt_key: Any = None


# The fields of Secrets that the program generates (components/cluster_identity.py).
CHART_SECRETS = ("cookie_secret", "proxy_token", "crypt_key")


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _image(image: Image) -> str:
    return f"{image.name}:{image.tag}"


def _authenticator_settings(config: HubConfig, secret: Any) -> dict[str, Any]:
    auth = config.auth
    settings: dict[str, Any] = {}
    if not isinstance(auth, DummyAuth):
        settings = {
            "client_id": auth.client_id,
            "client_secret": secret,
            "oauth_callback_url": config.oauth_callback_url,
        }
    if isinstance(auth, GitHubAuth) and auth.allowed_organizations:
        # Membership of an organization is private unless the token may read it.
        settings.update(allowed_organizations=list(auth.allowed_organizations), scope=["read:org"])
    elif isinstance(auth, GlobusAuth) and auth.identity_provider:
        settings["identity_provider"] = auth.identity_provider
    elif isinstance(auth, AzureAdAuth):
        settings.update(tenant_id=auth.tenant_id, username_claim=auth.username_claim)
    elif isinstance(auth, OidcAuth):
        settings.update(
            login_service=auth.login_service,
            authorize_url=auth.authorize_url,
            token_url=auth.token_url,
            userdata_url=auth.userdata_url,
            username_claim=auth.username_claim,
            scope=list(auth.scope),
        )
    elif isinstance(auth, DummyAuth) and auth.password is not None:
        settings["password"] = secret
    return settings


def hub_config(config: HubConfig, secrets: Secrets) -> dict[str, Any]:
    """hub.config: traitlets settings by class (z2jh 4 rejects the chart-0.9 `auth:` key), and the chart's secrets
    where it reads them before it would generate its own (templates/hub/_helpers-passwords.tpl)."""
    auth = config.auth
    entry_point, authenticator_class = AUTHENTICATORS[type(auth)]
    who: dict[str, Any] = {"admin_users": list(auth.admin_users)}
    if auth.allowed_users:
        who["allowed_users"] = list(auth.allowed_users)
    if auth.allow_all:
        who["allow_all"] = True
    settings: dict[str, Any] = {
        "JupyterHub": {"authenticator_class": entry_point},
        "Authenticator": who,
        authenticator_class: _authenticator_settings(config, secrets.auth),
    }
    if secrets.cookie_secret is not None:
        settings["JupyterHub"]["cookie_secret"] = secrets.cookie_secret
    if secrets.proxy_token is not None:
        settings["ConfigurableHTTPProxy"] = {"auth_token": secrets.proxy_token}
    if secrets.crypt_key is not None:
        settings["CryptKeeper"] = {"keys": [secrets.crypt_key]}
    return settings


def _cpu(cpu: CpuResources) -> dict[str, float | int]:
    return {key: _number(value) for key, value in (("guarantee", cpu.guarantee), ("limit", cpu.limit)) if value}


def _memory(memory: MemoryResources) -> dict[str, str]:
    return {key: value for key, value in (("guarantee", memory.guarantee), ("limit", memory.limit)) if value}


USER_EGRESS = {
    "cloudMetadataServer": False,
    "dnsPortsCloudMetadataServer": True,
    "dnsPortsKubeSystemNamespace": True,
    "dnsPortsPrivateIPs": True,
    "nonPrivateIPs": True,
    "privateIPs": False,
}


def profile_list(config: HubConfig) -> list[dict[str, Any]]:
    """Profiles as KubeSpawner reads them: its own trait names in kubespawner_override, not the chart's keys."""
    profiles = []
    for profile in config.profiles:
        override: dict[str, Any] = {}
        if profile.cpu:
            override.update({f"cpu_{key}": value for key, value in _cpu(profile.cpu).items()})
        if profile.memory:
            override.update({f"mem_{key}": value for key, value in _memory(profile.memory).items()})
        if profile.image:
            override["image"] = _image(profile.image)
        if profile.gpus:
            override.update({
                "extra_resource_limits": {GPU_RESOURCE: str(profile.gpus)},
                "node_selector": {GPU_NODE_LABEL: "true"},
                "extra_pod_config": {"runtimeClassName": GPU_RUNTIME_CLASS},
            })
        hooks = _lifecycle_hooks(profile.puller(config.singleuser.git_puller), config.singleuser.post_start)
        if hooks != _lifecycle_hooks(config.singleuser.git_puller, config.singleuser.post_start):
            override["lifecycle_hooks"] = hooks or {}
        entry: dict[str, Any] = {"display_name": profile.display_name, "description": profile.description}
        if profile.default:
            entry["default"] = True
        if override:
            entry["kubespawner_override"] = override
        profiles.append(entry)
    return profiles


def _post_start_script(puller: Optional[GitPuller], commands: list[str]) -> Optional[str]:
    lines = [shlex.join(["gitpuller", puller.repository, puller.branch, puller.directory])] if puller else []
    lines += commands
    # One command a line, as the runbooks' `sh -c` with ';': each runs even if one before it failed.
    return "\n".join(lines) if lines else None


def _lifecycle_hooks(puller: Optional[GitPuller], commands: list[str]) -> Optional[dict[str, Any]]:
    script = _post_start_script(puller, commands)
    return {"postStart": {"exec": {"command": ["sh", "-c", script]}}} if script else None


def singleuser(config: HubConfig) -> dict[str, Any]:
    settings = config.singleuser
    values: dict[str, Any] = {
        "image": {"name": settings.image.name, "tag": settings.image.tag},
        "defaultUrl": settings.default_url,
        "startTimeout": settings.start_timeout,
        "cpu": _cpu(settings.cpu),
        "memory": _memory(settings.memory),
        "uid": USER_UID,
        "fsGid": USER_GID,
        # Users' egress, z2jh's defaults written out so that a chart release that changed them would change nothing
        # here: the internet and DNS, never the cloud's metadata service or private addresses (the hub's nodes,
        # other projects' servers on a shared network). An admin may open more (hub.jupyterhubValues); NFS and the
        # metadata service stay out of reach at the nodes whatever is opened (render/scripts/block-pod-access.sh).
        "networkPolicy": {"enabled": True, "egressAllowRules": USER_EGRESS},
        "cloudMetadata": {"blockWithIptables": True},
    }
    if settings.extra_env:
        values["extraEnv"] = dict(settings.extra_env)
    hooks = _lifecycle_hooks(settings.git_puller, settings.post_start)
    if hooks:
        values["lifecycleHooks"] = hooks
    if config.profiles:
        values["profileList"] = profile_list(config)

    # On NFS, every directory is the users' without a root init container: the export maps every client to their
    # uid (all_squash), and the NFS server makes home/ and data/ theirs at each boot (prepare-nfs-volume.sh).
    if config.homes_on_nfs:
        values["storage"] = {
            "type": "static",
            "static": {"pvcName": storage.NFS_HOMES_CLAIM, "subPath": storage.NFS_HOMES_SUBPATH},
        }
    else:
        homes = config.user_storage
        values["storage"] = {
            "type": "dynamic",
            "capacity": homes.capacity,
            "dynamic": {"storageClass": homes.storage_class},
        }
    if config.shared_data:
        data = config.shared_data
        values["storage"]["extraVolumes"] = [
            {"name": shared_data.POD_VOLUME, "persistentVolumeClaim": {"claimName": shared_data.SHARED_DATA_CLAIM}}
        ]
        values["storage"]["extraVolumeMounts"] = [
            {
                "name": shared_data.POD_VOLUME,
                "mountPath": data.mount_path,
                "subPath": shared_data.SHARED_DATA_SUBPATH,
                "readOnly": data.read_only,
            }
        ]
    return values


def ingress(config: HubConfig) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enabled": True,
        "ingressClassName": certificates.INGRESS_CLASS,
        "hosts": [config.hostname],
    }
    if isinstance(config.tls, AcmeIssuer):
        values["annotations"] = {"cert-manager.io/cluster-issuer": config.tls.issuer_name}
    if isinstance(config.tls, (AcmeIssuer, ManualTls)):
        values["tls"] = [{"hosts": [config.hostname], "secretName": certificates.TLS_SECRET}]
    return values


def merge_values(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base` as Helm coalesces values: mappings merge key by key, anything else replaces. A null
    stays, so that Helm drops the chart's default there."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def values(config: HubConfig, secrets: Secrets = Secrets()) -> dict[str, Any]:
    """The chart's values: what the program derives from the hub's settings, then hub.jupyterhubValues over it."""
    return merge_values(_program_values(config, secrets), config.jupyterhub_values)


def _program_values(config: HubConfig, secrets: Secrets) -> dict[str, Any]:
    hub: dict[str, Any] = {"config": hub_config(config, secrets), **placement.on_control_plane()}
    # The hub database's claim names its class, whatever the cluster's default: with Cinder homes a Cinder volume
    # like theirs (an adopted one, hub.userStorage.adopt, binds only to a claim of its class); with homes on NFS
    # k3s's local-path, on the state volume.
    db_class = K3S_LOCAL_STORAGE_CLASS if config.homes_on_nfs else config.user_storage.storage_class
    hub["db"] = {"pvc": {"storageClassName": db_class}}
    if config.shared_data and config.shared_data.read_only:
        hub["extraConfig"] = {"hubstack-shared-data": shared_data.ADMIN_WRITE_HOOK}
    culling = config.culling
    return {
        "hub": hub,
        "proxy": {
            # traefik (k3s) terminates TLS in front of the proxy: no LoadBalancer service of its own, which
            # k3s's service load balancer would try to bind on ports 80/443 that traefik holds.
            "service": {"type": "ClusterIP"},
            "chp": placement.on_control_plane(),
        },
        "singleuser": singleuser(config),
        "scheduling": {
            "userScheduler": placement.on_control_plane(),
            # User servers only on workers (labelled for users); they tolerate the workers' taint by default.
            "userPods": {"nodeAffinity": {"matchNodePurpose": "require"}},
        },
        # The install hook would hold `pulumi up` until every worker pulled the (often multi-GB) image, past
        # Helm's timeout; the continuous puller still warms new workers.
        "prePuller": {"hook": {"enabled": False}},
        "ingress": ingress(config),
        "cull": (
            {"enabled": True, "timeout": culling.timeout, "every": culling.every, "maxAge": culling.max_age}
            if culling.enabled
            else {"enabled": False}
        ),
    }
