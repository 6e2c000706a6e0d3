"""Hub configs that exercise every authenticator, TLS mode and kind of storage, with and without profiles and
shared data: the matrix the renderers and the Kubernetes components are tested over."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from config import HubConfig, parse

from . import certs
from .conftest import set_path, stack_data

MANUAL_TLS = "<manual tls for the hostname>"  # replaced by a fresh certificate chain for the variant's hostname

GLOBUS = {"type": "globus", "clientId": "globus-app", "identityProvider": "access-ci.org", "adminUsers": ["prof"],
          "allowedUsers": ["student1"]}
AZURE_AD = {"type": "azuread", "clientId": "azure-app", "tenantId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "usernameClaim": "oid", "adminUsers": ["prof"], "allowAll": True}
OIDC = {"type": "oidc", "clientId": "cilogon-app", "loginService": "CILogon",
        "authorizeUrl": "https://cilogon.org/authorize", "tokenUrl": "https://cilogon.org/oauth2/token",
        "userdataUrl": "https://cilogon.org/oauth2/userinfo", "usernameClaim": "email",
        "adminUsers": ["prof@example.org"]}
DUMMY = {"type": "dummy", "allowDummy": True, "allowedUsers": ["alice", "bob"]}
NO_TLS = {"type": "none", "allowInsecure": True}
# An institutional CA over ACME (InCommon's, through Sectigo), which binds the account to the institution's.
ACME = {"type": "acme", "email": "hub-admins@example.org", "server": "https://acme.sectigo.com/v2/InCommonRSAOV",
        "externalAccountBinding": {"keyId": "incommon-key-id"}}
CLASSIC_PROVIDER = "00000000-0000-0000-0000-000000000000"  # NeCTAR's shared provider network
SHARED_DATA = {"sizeGb": 50, "mountPath": "/home/jovyan/shared", "readOnly": True}
PROFILES = [
    {"displayName": "Small", "default": True, "cpu": {"guarantee": 0.5, "limit": 1},
     "memory": {"guarantee": "1G", "limit": "2G"}},
    {"displayName": "Pangeo", "image": {"name": "pangeo/pangeo-notebook", "tag": "2025.10.01"}},
]


GIT_PULLER = {"repository": "https://github.com/Unidata/python-training", "directory": "training"}
PULLING_PROFILES = [
    {"displayName": "Training", "default": True},
    {"displayName": "R (no nbgitpuller)", "image": {"name": "quay.io/jupyter/r-notebook", "tag": "2025-10-20"},
     "gitPuller": False},
    {"displayName": "Workshop", "gitPuller": {"repository": "https://github.com/org/workshop", "directory": "workshop",
                                              "branch": "2026"}},
]
# What the seeds and their peers set that the model does not: hub.jupyterhubValues (z2jh 4.4.0 keys).
JUPYTERHUB_VALUES = {
    "hub": {
        "db": {"type": "postgres", "url": "postgresql+psycopg2://jupyterhub@db.example.org:5432/jupyterhub"},
        "extraConfig": {"timeouts": "c.Spawner.http_timeout = 120"},
        "services": {"grader": {"url": "http://grader.jhub.svc:8888", "admin": True}},
        "annotations": {"example.org/owner": "atmos-course"},
    },
    "imagePullSecrets": ["registry-credentials"],
    "scheduling": {
        "userPlaceholder": {"enabled": True, "replicas": 2},
        "userPods": {"nodeAffinity": {"matchNodePurpose": "prefer"}},
    },
    "singleuser": {"networkPolicy": {"egressAllowRules": {"privateIPs": True}}, "extraAnnotations": None},
}


@dataclass(frozen=True)
class Variant:
    name: str
    base: str
    changes: dict[str, Any] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        data = stack_data(self.base)
        for path, value in copy.deepcopy(self.changes).items():  # callers may change what they get
            set_path(data, path, value)
        if data["tls"] == MANUAL_TLS:
            hostname = parse(data | {"tls": NO_TLS}, offline=True, plaintext_secrets=True).hostname
            data["tls"] = {"type": "manual", "certificate": certs.for_host(hostname)[0]}
        return data

    def config(self) -> HubConfig:
        return parse(self.data(), offline=True, plaintext_secrets=True)


VARIANTS = [
    Variant("dev", "dev"),
    Variant("prod", "prod"),
    Variant("globus-manual-tls", "dev", {"auth": GLOBUS, "tls": MANUAL_TLS}),
    Variant("azuread-nfs-homes", "prod", {"auth": AZURE_AD, "userStorage": {"type": "nfs"}}),
    Variant("oidc-no-tls", "dev", {"auth": OIDC, "tls": NO_TLS}),
    Variant("dummy-profiles", "dev", {"auth": DUMMY, "profiles": PROFILES}),
    Variant("github-shared-data-writable", "prod", {"sharedData.readOnly": False, "profiles": "~"}),
    Variant("nfs-homes-manual-tls", "prod", {"userStorage": {"type": "nfs"}, "tls": MANUAL_TLS}),
    Variant("cinder-adopted-volumes", "prod", {"userStorage.adopt": [
        {"volumeId": "0b0f8a52-2a4e-4b8e-9d1c-3f5a6b7c8d9e", "claim": "claim-alice", "sizeGb": 10},
        {"volumeId": "5d2a1c3b-7e8f-4a9b-8c1d-2e3f4a5b6c7d", "claim": "hub-db-dir", "sizeGb": 1, "zone": "nova"},
    ]}),
    Variant("dedicated-nfs-server", "dev", {"auth": GLOBUS, "sharedData": SHARED_DATA | {
        "server": "dedicated", "serverFlavor": "m3.small"}}),
    Variant("oidc-nfs-profiles", "prod", {"auth": OIDC, "userStorage": {"type": "nfs"}, "profiles": PROFILES}),
    Variant("azuread-upn-no-culling", "dev", {"auth": AZURE_AD | {"usernameClaim": "upn"}, "culling.enabled": False}),
    Variant("dummy-no-tls-nfs", "prod", {"auth": DUMMY, "tls": NO_TLS, "userStorage": {"type": "nfs"}}),
    Variant("github-all-users-post-start", "dev", {
        "auth.allowAll": True, "auth.allowedUsers": [],
        "singleuser.postStart": ["cp /README.ipynb ~", "echo 'it''s ready'"],
        "singleuser.gitPuller": {"repository": "https://github.com/Unidata/python-training", "directory": "training"},
    }),
    # NeCTAR's way: a network the project has already (its Classic Provider's, public), no router, no floating IP,
    # and the share served from the control plane to the hub's servers alone.
    Variant("existing-network", "prod", {
        "cloud.externalNetworkId": "~", "cloud.networkId": CLASSIC_PROVIDER, "floatingIp": {"enabled": False}}),
    # Workers with a slice of an A100 each, and a profile that asks for it beside one that does not.
    Variant("gpu-workers", "dev", {"cluster.workerFlavor": "g3.large", "profiles": [
        {"displayName": "CPU only", "default": True}, {"displayName": "One GPU", "gpus": 1}]}),
    Variant("letsencrypt-staging-shared-data", "dev", {"sharedData": SHARED_DATA, "tls.environment": "staging"}),
    # What the model reaches beyond z2jh's core: chart values it does not model, an institutional ACME CA, and a
    # repository pulled per profile (one variant: each plan of the matrix costs a second of the fast tier).
    Variant("beyond-the-model", "prod", {
        "jupyterhubValues": JUPYTERHUB_VALUES, "tls": ACME, "singleuser.gitPuller": GIT_PULLER,
        "singleuser.postStart": ["cp /README.ipynb ~"], "profiles": PULLING_PROFILES,
    }),
]
