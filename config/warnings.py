"""Warnings: a config that is valid but probably not what its admin meant, each as (key path, message).

`hubctl check` and `hubctl plan` print them, `pulumi up` logs them (pulumi.log.warn). A warning is for a judgment
the program cannot make for the admin; a config that cannot work is refused by the model instead.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Optional

from .model import AuthBase, DummyAuth, GitHubAuth, GlobusAuth, HubConfig, ManualTls, leaf_paths


def warnings(config: HubConfig, now: Optional[datetime] = None) -> list[tuple[str, str]]:
    found = []
    if isinstance(config.tls, ManualTls):
        from .certificates import chain_warning, expiry_warning

        now = now or datetime.now(timezone.utc)
        for warning in (expiry_warning(config.tls.certificate, now), chain_warning(config.tls.certificate)):
            if warning:
                found.append(("hub.tls.certificate", warning))
    if config.auth.allow_all and not isinstance(config.auth, DummyAuth):
        found.append((
            "hub.auth.allowAll",
            f"lets in everyone who has an account with the login provider ({_everyone(config.auth)}), "
            "and each gets a server and a home volume: list allowedUsers (or allowedOrganizations) unless the hub is "
            "meant for the public",
        ))
    for name in config.singleuser.extra_env:
        if _SECRET_NAME.search(name):
            found.append((
                f"hub.singleuser.extraEnv.{name}",
                "looks like a secret, and extraEnv is plain text in the stack file, the plan, the Helm release and "
                "every user's environment: keep credentials out of it",
            ))
    for path in leaf_paths(config.jupyterhub_values):
        if _SECRET_NAME.search(path.rsplit(".", 1)[-1]):
            found.append((
                f"hub.jupyterhubValues.{path}",
                "looks like a secret, and jupyterhubValues is plain text in the stack file, the plan and the Helm "
                "release: keep credentials in a Kubernetes Secret and refer to it by name",
            ))
    if _only_admins(config.auth):
        found.append((
            "hub.auth.allowedUsers",
            f"is empty: only the admins ({', '.join(config.auth.admin_users)}) can log in. List the users "
            "(allowedUsers: [alice, bob]), or set allowAll: true for everyone the login provider lets in",
        ))
    return found


def _everyone(auth: AuthBase) -> str:
    if isinstance(auth, GlobusAuth) and auth.identity_provider:
        return f"everyone with an identity at {auth.identity_provider}"
    return {"github": "every GitHub user", "globus": "every Globus identity", "azuread": "everyone in the tenant",
            "oidc": "everyone the OpenID provider knows"}[auth.type]


# A key that holds a credential (not one that names a Secret, such as imagePullSecrets or secretName).
_SECRET_NAME = re.compile(r"(secret|password|passwd|token|api_?key|access_?key|private_?key|credentials?)$",
                          re.IGNORECASE)


def _only_admins(auth: AuthBase) -> bool:
    others = auth.allowed_users or auth.allow_all or (isinstance(auth, GitHubAuth) and auth.allowed_organizations)
    return bool(auth.admin_users) and not others
