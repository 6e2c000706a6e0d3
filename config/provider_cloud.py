"""The Keystone and region the OpenStack provider talks to, found where it finds them, so that the Cinder CSI driver
(which reads hub.cloud.authUrl and region) is sent to the same cloud: the provider makes the driver's application
credential there, and a driver sent elsewhere fails to authenticate and crash-loops until the release times out.
And whether the provider signs in with an application credential, which Keystone lets make the driver's only if it
was made unrestricted.

pulumi-openstack (terraform-provider-openstack) takes each setting from its stack config (`openstack:authUrl`,
`openstack:region`), else from the `OS_*` variable that is that setting's default, else from the clouds.yaml entry
that `openstack:cloud` or `OS_CLOUD` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from .model import CINDER_CSI_CHART, CinderHomes, HubConfig

# The variable openstacksdk and the provider read the clouds.yaml path from, besides the standard places.
CLOUDS_FILE_VARIABLE = "OS_CLIENT_CONFIG_FILE"


@dataclass(frozen=True)
class Setting:
    value: str
    source: str  # where the provider finds it, as an admin would look for it


@dataclass(frozen=True)
class ProviderCloud:
    auth_url: Optional[Setting]
    region: Optional[Setting]
    application_credential: Optional[Setting] = None  # its ID or name, where the provider signs in with one


def provider_cloud(settings: Mapping[str, str], environ: Mapping[str, str]) -> ProviderCloud:
    """Where the provider would go, from its stack settings (`openstack:*` without the namespace) and the
    environment; a setting found nowhere is None (the provider would then fail on its own)."""
    cloud = settings.get("cloud") or environ.get("OS_CLOUD")
    entry = _clouds_yaml_entry(cloud, environ.get(CLOUDS_FILE_VARIABLE)) if cloud else {}
    return ProviderCloud(
        auth_url=_first(("openstack:authUrl", settings.get("authUrl")), ("OS_AUTH_URL", environ.get("OS_AUTH_URL")),
                        (f"clouds.yaml cloud {cloud!r}", entry.get("auth_url"))),
        region=_first(("openstack:region", settings.get("region")), ("OS_REGION_NAME", environ.get("OS_REGION_NAME")),
                      (f"clouds.yaml cloud {cloud!r}", entry.get("region"))),
        application_credential=_first(
            *((f"openstack:{key}", settings.get(key))
              for key in ("applicationCredentialId", "applicationCredentialName")),
            *((variable, environ.get(variable)) for variable in ("OS_APPLICATION_CREDENTIAL_ID",
                                                                 "OS_APPLICATION_CREDENTIAL_NAME")),
            (f"clouds.yaml cloud {cloud!r}", entry.get("application_credential")),
        ),
    )


def _first(*candidates: tuple[str, Optional[str]]) -> Optional[Setting]:
    return next((Setting(value, source) for source, value in candidates if value), None)


def _clouds_yaml_entry(cloud: str, clouds_file: Optional[str]) -> dict[str, Optional[str]]:
    # openstacksdk reads clouds.yaml (and clouds-public.yaml, secure.yaml) as the provider's gophercloud does.
    import openstack.config
    from openstack import exceptions

    try:
        region = openstack.config.OpenStackConfig(
            config_files=[clouds_file] if clouds_file else None, load_envvars=False
        ).get_one(cloud=cloud)
    except exceptions.ConfigException:
        return {}  # no such entry: the provider says so itself
    auth = region.config.get("auth", {})
    return {"auth_url": auth.get("auth_url"), "region": region.region_name or None,
            "application_credential": auth.get("application_credential_id") or auth.get("application_credential_name")}


def cloud_mismatches(config: HubConfig, provider: ProviderCloud) -> list[tuple[str, str]]:
    """(key, message) for each setting of the Cinder CSI driver that is not the provider's."""
    if CINDER_CSI_CHART not in config.charts_in_use:
        return []
    problems = []
    ours = {"cloud.authUrl": config.cloud.auth_url, "cloud.region": config.cloud.region}
    theirs = {"cloud.authUrl": provider.auth_url, "cloud.region": provider.region}
    for key, setting in theirs.items():
        if setting is not None and _same(ours[key]) != _same(setting.value):
            problems.append((key, (
                f"{ours[key]} (hub.cloud.preset {config.cloud.preset}, or as set) is not the "
                f"{'Keystone' if key == 'cloud.authUrl' else 'region'} the OpenStack provider uses ({setting.value}, "
                f"from {setting.source}): the Cinder CSI driver would authenticate with the provider's application "
                f"credential in another cloud, and fail. Set hub.{key} to {setting.value}, or the preset of that cloud"
            )))
    return problems


def _same(value: Optional[str]) -> str:
    return (value or "").rstrip("/").lower()


def credential_warnings(config: HubConfig, provider: ProviderCloud) -> list[tuple[str, str]]:
    """(key, message) where the program would make the driver's credential while signed in with one."""
    homes = config.user_storage
    if (CINDER_CSI_CHART not in config.charts_in_use or not isinstance(homes, CinderHomes)
            or homes.application_credential is not None or provider.application_credential is None):
        return []
    return [("userStorage.applicationCredential", (
        f"is unset, so the program makes the Cinder CSI driver's application credential, signed in with one "
        f"({provider.application_credential.value}, from {provider.application_credential.source}): Keystone "
        "refuses that (403) unless yours was made unrestricted, as Jetstream2's are not unless asked. Make one for "
        "the driver (`openstack application credential create hubstack-<hub>-cinder-csi`) and set "
        "hub.userStorage.applicationCredential.id and, as a secret, .secret"
    ))]
