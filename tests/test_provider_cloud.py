"""The Cinder CSI driver goes to the cloud the OpenStack provider goes to (config/provider_cloud.py): the provider's
settings found as it finds them, and a hub whose driver would go elsewhere refused before anything is made."""

from __future__ import annotations

import logging

import pulumi
import pytest

from config import parse
from config.provider_cloud import ProviderCloud, Setting, cloud_mismatches, credential_warnings, provider_cloud
from hubctl.plan import run_program

from .conftest import set_path, stack_data

NECTAR = "https://identity.rc.nectar.org.au/v3/"
CLOUDS_YAML = f"""
clouds:
  nectar:
    auth:
      auth_url: {NECTAR}
      application_credential_id: abc
      application_credential_secret: not-used-here
    auth_type: v3applicationcredential
    region_name: Melbourne
"""


def test_the_provider_takes_its_config_then_the_environment_then_clouds_yaml(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(CLOUDS_YAML)
    environ = {"OS_CLOUD": "nectar", "OS_CLIENT_CONFIG_FILE": str(clouds)}
    found = provider_cloud({}, environ)
    assert found == ProviderCloud(Setting(NECTAR, "clouds.yaml cloud 'nectar'"),
                                  Setting("Melbourne", "clouds.yaml cloud 'nectar'"),
                                  Setting("abc", "clouds.yaml cloud 'nectar'"))
    found = provider_cloud({}, environ | {"OS_REGION_NAME": "Sydney"})
    assert found.region == Setting("Sydney", "OS_REGION_NAME") and found.auth_url.value == NECTAR
    found = provider_cloud({"region": "QRIScloud", "authUrl": "https://keystone.example.org/v3"},
                           environ | {"OS_REGION_NAME": "Sydney"})
    assert found.auth_url == Setting("https://keystone.example.org/v3", "openstack:authUrl")
    assert found.region == Setting("QRIScloud", "openstack:region")
    # openstack:cloud names the entry as OS_CLOUD does; an entry that is not there gives nothing to compare.
    assert provider_cloud({"cloud": "nectar"}, {"OS_CLIENT_CONFIG_FILE": str(clouds)}).auth_url.value == NECTAR
    assert provider_cloud({"cloud": "other"}, {"OS_CLIENT_CONFIG_FILE": str(clouds)}) == ProviderCloud(None, None)
    assert provider_cloud({}, {}) == ProviderCloud(None, None)


def test_a_csi_driver_sent_to_another_cloud_is_refused_naming_where_the_provider_goes():
    prod = parse(stack_data("prod"), offline=True, plaintext_secrets=True)  # Jetstream2's preset, Cinder homes
    nectar = ProviderCloud(Setting(NECTAR, "clouds.yaml cloud 'nectar'"), Setting("Melbourne", "OS_REGION_NAME"))
    problems = dict(cloud_mismatches(prod, nectar))
    assert problems["cloud.authUrl"].startswith(
        "https://js2.jetstream-cloud.org:5000/v3/ (hub.cloud.preset jetstream2, or as set) is not the Keystone the "
        f"OpenStack provider uses ({NECTAR}, from clouds.yaml cloud 'nectar')")
    assert "Set hub.cloud.authUrl to https://identity.rc.nectar.org.au/v3/" in problems["cloud.authUrl"]
    assert "is not the region the OpenStack provider uses (Melbourne, from OS_REGION_NAME)" in problems["cloud.region"]
    # The same cloud, written with or without the last slash or in capitals: nothing to say.
    same = ProviderCloud(Setting("HTTPS://JS2.jetstream-cloud.org:5000/v3", "OS_AUTH_URL"), Setting("IU", "x"))
    assert cloud_mismatches(prod, same) == []
    # No Cinder CSI driver (homes on NFS, or the OpenStack layer alone): nothing reads these settings.
    for path, value in (("userStorage", {"type": "nfs"}), ("layers", "openstack")):
        data = stack_data("prod")
        set_path(data, path, value)
        assert cloud_mismatches(parse(data, offline=True, plaintext_secrets=True), nectar) == []


def test_the_program_refuses_it_before_anything_is_made(monkeypatch):
    monkeypatch.setenv("OS_AUTH_URL", NECTAR)
    monkeypatch.delenv("OS_CLOUD", raising=False)
    data = stack_data("prod")
    set_path(data, "auth.clientSecret", "decrypted-by-the-engine")
    with pytest.raises(pulumi.RunError, match=r"hub\.cloud\.authUrl: .* \(https://identity\.rc\.nectar\.org\.au/v3/, "
                                              r"from OS_AUTH_URL\)"):
        run_program(data, "prod")


def test_a_provider_signed_in_with_an_application_credential_is_told_what_keystone_will_refuse(tmp_path, caplog,
                                                                                                monkeypatch):
    """Keystone lets an application credential make another only if it was made unrestricted (Jetstream2's are not,
    by default): the first `up` would fail with 403 after making the servers. It warns, naming the key that avoids
    it."""
    prod = parse(stack_data("prod"), offline=True, plaintext_secrets=True)
    signed_in = provider_cloud({}, {"OS_APPLICATION_CREDENTIAL_ID": "0123abcd"})
    assert signed_in.application_credential == Setting("0123abcd", "OS_APPLICATION_CREDENTIAL_ID")
    assert provider_cloud({"applicationCredentialName": "deploy"}, {}).application_credential == Setting(
        "deploy", "openstack:applicationCredentialName")
    ((key, message),) = credential_warnings(prod, signed_in)
    assert key == "userStorage.applicationCredential"
    assert "signed in with one (0123abcd, from OS_APPLICATION_CREDENTIAL_ID)" in message and "403" in message
    # A password, or a credential of the admin's own for the driver, or no driver: nothing to say.
    assert credential_warnings(prod, provider_cloud({}, {"OS_PASSWORD": "x"})) == []
    data = stack_data("prod")
    set_path(data, "userStorage.applicationCredential", {"id": "0" * 32, "secret": "s"})
    assert credential_warnings(parse(data, offline=True), signed_in) == []
    set_path(data, "userStorage", {"type": "nfs"})
    assert credential_warnings(parse(data, offline=True), signed_in) == []
    # The program logs it, as `pulumi up` shows it.
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.delenv("OS_AUTH_URL", raising=False)
    monkeypatch.setenv("OS_APPLICATION_CREDENTIAL_ID", "0123abcd")
    data = stack_data("prod")
    set_path(data, "auth.clientSecret", "decrypted-by-the-engine")
    with caplog.at_level(logging.WARNING):
        run_program(data, "prod")
    assert any(record.getMessage().startswith("hub.userStorage.applicationCredential: is unset")
               for record in caplog.records)
