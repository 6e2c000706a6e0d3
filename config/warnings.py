"""Warnings: a config that is valid but probably not what its admin meant, each as (key path, message).

`hubctl check` and `hubctl plan` print them, `pulumi up` logs them (pulumi.log.warn). A warning is for a judgment
the program cannot make for the admin; a config that cannot work is refused by the model instead.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from .model import AuthBase, GitHubAuth, HubConfig, ManualTls


def warnings(config: HubConfig, now: Optional[datetime] = None) -> list[tuple[str, str]]:
    found = []
    if isinstance(config.tls, ManualTls):
        from .certificates import chain_warning, expiry_warning

        now = now or datetime.now(timezone.utc)
        for warning in (expiry_warning(config.tls.certificate, now), chain_warning(config.tls.certificate)):
            if warning:
                found.append(("hub.tls.certificate", warning))
    if _only_admins(config.auth):
        found.append((
            "hub.auth.allowedUsers",
            f"is empty: only the admins ({', '.join(config.auth.admin_users)}) can log in. List the users "
            "(allowedUsers: [alice, bob]), or set allowAll: true for everyone the login provider lets in",
        ))
    return found


def _only_admins(auth: AuthBase) -> bool:
    others = auth.allowed_users or auth.allow_all or (isinstance(auth, GitHubAuth) and auth.allowed_organizations)
    return bool(auth.admin_users) and not others
