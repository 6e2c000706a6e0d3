"""The renderers over the matrix of hub configs, checked against the real charts' schemas and KubeSpawner."""

from __future__ import annotations

import copy
import shlex
from types import SimpleNamespace

import pytest
import yaml

from config.model import (
    SECRET_PLACEHOLDER,
    Acme,
    AcmeIssuer,
    AzureAdAuth,
    DummyAuth,
    GitHubAuth,
    LetsEncrypt,
    ManualTls,
    OidcAuth,
)
from hubctl.plan import run_program
from render import certificates, jupyterhub, placement, shared_data, storage

from .upstream import CERT_MANAGER, Z2JH, cert_manager_errors, chart_errors, kubespawner_traits
from .variants import VARIANTS, Variant

CONTROL_PLANE = {"nodeSelector": {"node-role.kubernetes.io/control-plane": "true"},
                 "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}


def _values(variant: Variant) -> dict:
    return jupyterhub.values(variant.config(), jupyterhub.Secrets(auth=SECRET_PLACEHOLDER))


def test_matrix_covers_every_choice():
    configs = [variant.config() for variant in VARIANTS]
    assert len(VARIANTS) >= 12
    assert {config.auth.type for config in configs} == {"github", "globus", "azuread", "oidc", "dummy"}
    assert {config.tls.type for config in configs} == {"letsencrypt", "acme", "manual", "none"}
    assert {config.user_storage.type for config in configs} == {"cinder", "nfs"}
    assert {bool(config.profiles) for config in configs} == {True, False}
    assert {bool(config.shared_data) for config in configs} == {True, False}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_jupyterhub_values_pass_the_chart_schema(variant):
    assert chart_errors(Z2JH.name, _values(variant)) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_profile_overrides_are_kubespawner_traits(variant):
    profiles = _values(variant)["singleuser"].get("profileList", [])
    assert len(profiles) == len(variant.config().profiles)
    for profile in profiles:
        unknown = set(profile.get("kubespawner_override", {})) - kubespawner_traits()
        assert not unknown, f"{profile['display_name']}: KubeSpawner has no trait {sorted(unknown)}"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_authenticator_settings_under_its_class(variant):
    config = variant.config()
    hub_config = _values(variant)["hub"]["config"]
    entry_point, class_name = jupyterhub.AUTHENTICATORS[type(config.auth)]
    assert hub_config["JupyterHub"]["authenticator_class"] == entry_point
    assert set(hub_config) == {"JupyterHub", "Authenticator", class_name}
    assert hub_config["Authenticator"]["admin_users"] == list(config.auth.admin_users)
    settings = hub_config[class_name]
    if isinstance(config.auth, DummyAuth):
        assert "client_secret" not in settings
        return
    assert settings["client_secret"] == SECRET_PLACEHOLDER
    assert settings["oauth_callback_url"] == config.oauth_callback_url == f"{config.url}/hub/oauth_callback"
    if isinstance(config.auth, AzureAdAuth):
        assert settings["username_claim"] == config.auth.username_claim
        assert settings["tenant_id"] == config.auth.tenant_id
    if isinstance(config.auth, OidcAuth):
        assert {"authorize_url", "token_url", "userdata_url", "username_claim", "scope"} <= set(settings)
    if isinstance(config.auth, GitHubAuth) and config.auth.allowed_organizations:
        assert settings["allowed_organizations"] == config.auth.allowed_organizations
        assert settings["scope"] == ["read:org"]


def test_secret_is_placed_as_given_never_read_from_config():
    variant = VARIANTS[0]
    marker = object()
    values = jupyterhub.values(variant.config(), jupyterhub.Secrets(auth=marker))
    assert values["hub"]["config"]["GitHubOAuthenticator"]["client_secret"] is marker


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_core_pods_on_the_control_plane_user_pods_on_workers(variant):
    values = _values(variant)
    for component in (values["hub"], values["proxy"]["chp"], values["scheduling"]["userScheduler"]):
        assert {key: component[key] for key in CONTROL_PLANE} == CONTROL_PLANE
    # hub.jupyterhubValues may relax it (users on any node when workers are full).
    purpose = variant.config().jupyterhub_values.get("scheduling", {}).get("userPods", {}).get("nodeAffinity", {})
    assert values["scheduling"]["userPods"]["nodeAffinity"]["matchNodePurpose"] == purpose.get(
        "matchNodePurpose", "require")
    # The workers' taint is tolerated by z2jh's default userPods.tolerations: not overridden here.
    assert "tolerations" not in values["scheduling"]["userPods"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_ingress_serves_the_hostname_with_the_right_certificate(variant):
    config = variant.config()
    ingress = _values(variant)["ingress"]
    assert ingress["enabled"] and ingress["ingressClassName"] == "traefik" and ingress["hosts"] == [config.hostname]
    if isinstance(config.tls, (AcmeIssuer, ManualTls)):
        assert ingress["tls"] == [{"hosts": [config.hostname], "secretName": certificates.TLS_SECRET}]
    else:
        assert "tls" not in ingress
    issuer = ingress.get("annotations", {}).get("cert-manager.io/cluster-issuer")
    assert issuer == (config.tls.issuer_name if isinstance(config.tls, AcmeIssuer) else None)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_homes_and_shared_data_mounts(variant):
    config = variant.config()
    singleuser = _values(variant)["singleuser"]
    homes = singleuser["storage"]
    if config.homes_on_nfs:
        assert homes["type"] == "static"
        assert homes["static"] == {"pvcName": storage.NFS_HOMES_CLAIM, "subPath": "home/{username}"}
    else:
        assert homes["type"] == "dynamic"
        assert homes["dynamic"]["storageClass"] == config.user_storage.storage_class
        assert homes["capacity"] == config.user_storage.capacity
    if config.shared_data:
        assert homes["extraVolumes"] == [{"name": "shared-data", "persistentVolumeClaim": {"claimName": "shared-data"}}]
        (mount,) = homes["extraVolumeMounts"]
        assert mount["mountPath"] == config.shared_data.mount_path and mount["subPath"] == "data"
        assert mount["readOnly"] is config.shared_data.read_only
    else:
        assert "extraVolumes" not in homes
    # No root container in a user's pod: on NFS the export makes every directory the user's (all_squash).
    assert "initContainers" not in singleuser


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_admins_write_to_read_only_shared_data_through_the_hook(variant):
    config = variant.config()
    extra_config = _values(variant)["hub"].get("extraConfig", {})
    if not (config.shared_data and config.shared_data.read_only):
        assert extra_config == {}
        return
    namespace = {"c": SimpleNamespace(KubeSpawner=SimpleNamespace())}
    exec(compile(extra_config["hubstack-shared-data"], "extraConfig", "exec"), namespace)
    hook = namespace["c"].KubeSpawner.modify_pod_hook

    def spawn(admin: bool) -> bool:
        mount = SimpleNamespace(name=shared_data.POD_VOLUME, read_only=True)
        home = SimpleNamespace(name="home", read_only=False)
        pod = SimpleNamespace(spec=SimpleNamespace(containers=[SimpleNamespace(volume_mounts=[home, mount])]))
        hook(SimpleNamespace(user=SimpleNamespace(admin=admin)), pod)
        assert home.read_only is False
        return mount.read_only

    assert spawn(admin=True) is False
    assert spawn(admin=False) is True


def test_post_start_runs_gitpuller_then_the_commands_as_the_runbooks_did():
    variant = next(variant for variant in VARIANTS if variant.name == "github-all-users-post-start")
    command = _values(variant)["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"]
    lines = command[2].splitlines()
    assert shlex.split(lines[0]) == ["gitpuller", "https://github.com/Unidata/python-training", "main", "training"]
    assert lines[1:] == ["cp /README.ipynb ~", "echo 'it''s ready'"]


def test_prod_profiles_are_the_runbooks_high_and_low_power():
    variant = next(variant for variant in VARIANTS if variant.name == "prod")
    high, low = _values(variant)["singleuser"]["profileList"]
    assert high["default"] is True and "default" not in low
    assert high["kubespawner_override"] == {
        "cpu_guarantee": 2, "cpu_limit": 4, "mem_guarantee": "12G", "mem_limit": "12G"}
    assert low["kubespawner_override"] == {"cpu_guarantee": 1, "cpu_limit": 2, "mem_guarantee": "6G", "mem_limit": "6G"}


def test_profile_image_override_is_one_string():
    variant = next(variant for variant in VARIANTS if variant.name == "dummy-profiles")
    _, pangeo = _values(variant)["singleuser"]["profileList"]
    assert pangeo["kubespawner_override"] == {"image": "pangeo/pangeo-notebook:2025.10.01"}


def test_schema_and_trait_checks_can_fail():
    """The validators are real: what the seeds warn about is refused."""
    values = _values(VARIANTS[0])
    values["singleuser"]["cpu"]["guarantee"] = "500m"
    values["auth"] = {"type": "github"}
    errors = chart_errors(Z2JH.name, values)
    assert any(error.startswith("singleuser.cpu.guarantee") for error in errors)
    assert any("'auth' was unexpected" in error for error in errors)
    assert {"memory_limit", "cpu_limit"} - kubespawner_traits() == {"memory_limit"}


def test_cert_manager_values_pass_the_chart_schema_and_pin_every_component():
    values = certificates.cert_manager_values()
    assert chart_errors(CERT_MANAGER.name, values) == []
    assert values["crds"] == {"enabled": True}
    for component in (values, values["webhook"], values["cainjector"], values["startupapicheck"]):
        assert {key: component[key] for key in CONTROL_PLANE} == CONTROL_PLANE
    assert chart_errors(CERT_MANAGER.name, values | {"installCRDs": "true"}) != []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_cluster_issuer_solves_http01_through_traefik_on_the_control_plane(environment):
    letsencrypt = LetsEncrypt(type="letsencrypt", email="admins@example.org", environment=environment)
    issuer = certificates.cluster_issuer(letsencrypt)
    assert cert_manager_errors(issuer, "clusterissuers") == []
    assert (issuer["apiVersion"], issuer["kind"]) == ("cert-manager.io/v1", "ClusterIssuer")
    assert set(issuer) == {"apiVersion", "kind", "metadata", "spec"}
    acme = issuer["spec"]["acme"]
    assert set(acme) == {"email", "server", "privateKeySecretRef", "solvers"}
    assert acme["server"] == {
        "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
        "production": "https://acme-v02.api.letsencrypt.org/directory",
    }[environment]
    (solver,) = acme["solvers"]
    assert solver["http01"]["ingress"]["ingressClassName"] == "traefik"
    assert solver["http01"]["ingress"]["podTemplate"]["spec"] == placement.on_control_plane()


def test_cluster_issuer_of_an_institutional_ca_binds_its_external_account():
    acme = Acme.model_validate({"type": "acme", "email": "admins@example.org",
                                "server": "https://acme.sectigo.com/v2/InCommonRSAOV",
                                "externalAccountBinding": {"keyId": "kid-1", "hmacKey": "c2VjcmV0"}})
    issuer = certificates.cluster_issuer(acme)
    assert cert_manager_errors(issuer, "clusterissuers") == []
    assert issuer["metadata"]["name"] == "acme"
    assert issuer["spec"]["acme"]["server"] == "https://acme.sectigo.com/v2/InCommonRSAOV"
    assert issuer["spec"]["acme"]["externalAccountBinding"] == {
        "keyID": "kid-1", "keySecretRef": {"name": "acme-external-account", "key": "hmac-key"}}
    secret = certificates.external_account_secret("[secret]")
    assert secret["metadata"] == {"name": "acme-external-account", "namespace": "cert-manager"}
    assert secret["stringData"] == {"hmac-key": "[secret]"}


def test_cinder_csi_uses_our_secret_and_runs_its_node_plugin_on_workers():
    config = VARIANTS[0].config()
    values = storage.cinder_csi_values(config, "cinder-csi-cloud-config-0123abcd")
    assert values["secret"] == {"enabled": True, "create": False, "name": "cinder-csi-cloud-config-0123abcd",
                                "filename": "cloud.conf"}
    assert values["storageClass"] == {"enabled": False}
    assert values["csi"]["plugin"]["nodePlugin"]["tolerations"] == [{"operator": "Exists"}]
    cloud = config.cloud.model_copy(update={"auth_url": "https://keystone.example.org:5000/v3/", "region": "RegionOne"})
    conf = storage.cloud_conf(cloud, "id-1", "s3cret")
    assert conf.splitlines() == [
        "[Global]", "auth-url=https://keystone.example.org:5000/v3/", "application-credential-id=id-1",
        "application-credential-secret=s3cret", "region=RegionOne",
    ]


def test_storage_class_keeps_volumes():
    config = VARIANTS[0].config()
    storage_class = storage.storage_class(config.user_storage, config.cloud)
    assert storage_class["reclaimPolicy"] == "Retain" and storage_class["allowVolumeExpansion"] is True
    assert storage_class["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}


def test_volumes_in_a_zone_of_their_own():
    """NeCTAR names volume zones apart from compute zones: the volumes the program makes, the homes the CSI driver
    makes and the adopted ones all go to the volume zone, and nothing ties a pod to a zone no node is in."""
    from config import parse

    data = VARIANTS[8].data()  # cinder-adopted-volumes: one adopted volume has a zone
    data["cloud"].update(availabilityZone="melbourne-qh2", volumeAvailabilityZone="melbourne-qh2-volumes")
    config = parse(data, offline=True, plaintext_secrets=True)
    assert config.cloud.zones_differ and config.cloud.volume_zone == "melbourne-qh2-volumes"
    assert storage.storage_class(config.user_storage, config.cloud)["parameters"] == {
        "availability": "melbourne-qh2-volumes"}
    assert storage.cloud_conf(config.cloud, "id", "secret").endswith("[BlockStorage]\nignore-volume-az=true\n")
    zoned = next(volume for volume in config.user_storage.adopt if volume.zone)
    assert "nodeAffinity" not in storage.adopted_volume(zoned, config.user_storage, config.cloud, "jhub")["spec"]
    plan = run_program(config, "prod")
    volumes = plan.by_type("openstack:blockstorage/volume:Volume")
    assert volumes and {volume.inputs["availabilityZone"] for volume in volumes} == {"melbourne-qh2-volumes"}
    servers = plan.by_type("openstack:compute/instance:Instance")
    assert {server.inputs["availabilityZone"] for server in servers} == {"melbourne-qh2"}
    # One zone for both (the default): no parameters, no override.
    same = VARIANTS[8].config()
    assert "parameters" not in storage.storage_class(same.user_storage, same.cloud)
    assert "nodeAffinity" in storage.adopted_volume(zoned, same.user_storage, same.cloud, "jhub")["spec"]


def test_cert_manager_crd_check_catches_typos_and_wrong_types():
    issuer = certificates.cluster_issuer(
        LetsEncrypt(type="letsencrypt", email="admins@example.org", environment="staging"))
    typo = copy.deepcopy(issuer)
    typo["spec"]["acme"]["solvers"][0]["http01"]["ingres"] = typo["spec"]["acme"]["solvers"][0]["http01"].pop("ingress")
    assert any("'ingres' was unexpected" in error for error in cert_manager_errors(typo, "clusterissuers"))
    wrong_type = copy.deepcopy(issuer)
    wrong_type["spec"]["acme"]["solvers"] = {"http01": {}}
    assert any(error.startswith("spec.acme.solvers:") for error in cert_manager_errors(wrong_type, "clusterissuers"))


def test_chart_values_beyond_the_model_merge_last_as_helm_merges():
    variant = next(variant for variant in VARIANTS if variant.name == "beyond-the-model")
    config = variant.config()
    values = _values(variant)
    extra = config.jupyterhub_values
    assert values["hub"]["db"] == {**extra["hub"]["db"], "pvc": {"storageClassName": "cinder-retain"}}
    assert values["hub"]["services"] == extra["hub"]["services"]
    assert values["hub"]["config"] == _values(VARIANTS[1])["hub"]["config"]  # the program's, untouched
    assert values["imagePullSecrets"] == ["registry-credentials"]
    assert values["singleuser"]["extraAnnotations"] is None  # a null reaches Helm, which drops the chart default
    assert values["singleuser"]["image"] == _values(VARIANTS[1])["singleuser"]["image"]


@pytest.mark.parametrize("path, owner", [
    ("singleuser.image.tag", "hub.singleuser.image"),
    ("singleuser.profileList", "hub.profiles"),
    ("hub.config.GitHubOAuthenticator.client_secret", "hub.auth"),
    ("hub.db.pvc.storageClassName", "hub.userStorage (its storageClass"),
    ("ingress.hosts", "hub.tls and the hub's hostname"),
    ("cull.timeout", "hub.culling"),
])
def test_chart_values_the_program_sets_are_refused_naming_the_setting(path, owner):
    from config import ConfigError, parse
    from config.errors import set_path

    data = VARIANTS[1].data()
    extra: dict = {}
    set_path(extra, path, "x")
    data["jupyterhubValues"] = extra
    with pytest.raises(ConfigError) as caught:
        parse(data, offline=True, plaintext_secrets=True)
    problems = dict(caught.value.problems)
    assert f"hub.jupyterhubValues.{path}" in problems, caught.value.render()
    assert owner in problems[f"hub.jupyterhubValues.{path}"]


def test_git_puller_per_profile_overrides_the_hook_only_where_it_differs():
    variant = next(variant for variant in VARIANTS if variant.name == "beyond-the-model")
    values = _values(variant)
    hook = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["sh", "-c"] and hook[2].splitlines() == [
        "gitpuller https://github.com/Unidata/python-training main training", "cp /README.ipynb ~"]
    training, r_notebook, workshop = values["singleuser"]["profileList"]
    assert "kubespawner_override" not in training  # the hub-wide hook
    # No nbgitpuller in the image: the profile's servers run the other commands only.
    r_hook = r_notebook["kubespawner_override"]["lifecycle_hooks"]["postStart"]["exec"]["command"]
    assert r_hook[2] == "cp /README.ipynb ~"
    assert workshop["kubespawner_override"]["lifecycle_hooks"]["postStart"]["exec"]["command"][2].splitlines() == [
        "gitpuller https://github.com/org/workshop 2026 workshop", "cp /README.ipynb ~"]


def test_a_profile_without_puller_or_commands_drops_the_hook():
    data = VARIANTS[0].data()
    data["singleuser"]["gitPuller"] = {"repository": "https://github.com/org/course", "directory": "course"}
    data["profiles"] = [{"displayName": "Plain", "gitPuller": False}]
    from config import parse

    values = jupyterhub.values(parse(data, offline=True, plaintext_secrets=True))
    assert values["singleuser"]["profileList"][0]["kubespawner_override"] == {"lifecycle_hooks": {}}


def test_nectar_preset_gives_the_csi_driver_its_keystone_and_region():
    from config import parse
    from config.clouds import CLOUD_PRESETS

    data = VARIANTS[1].data()
    data["cloud"] = {key: value for key, value in data["cloud"].items() if key not in ("externalNetwork",
                                                                                      "availabilityZone")}
    data["cloud"].update(preset="nectar", externalNetwork="melbourne", availabilityZone="melbourne-qh2")
    data["cluster"].update(controlPlaneFlavor="m3.medium", workerFlavor="m3.large")
    data["profiles"] = []
    config = parse(data, offline=True, plaintext_secrets=True)
    nectar = CLOUD_PRESETS["nectar"]
    assert (config.cloud.auth_url, config.cloud.region) == (nectar["authUrl"], nectar["region"])
    assert config.worker_flavor.ram_gb == 16  # NeCTAR's m3.large, not Jetstream2's (60)
    conf = storage.cloud_conf(config.cloud, "id", "secret")
    assert "auth-url=https://identity.rc.nectar.org.au/v3/" in conf and "region=Melbourne" in conf


def test_users_egress_is_the_charts_default_written_out_and_shuts_out_the_metadata_service_and_private_ips():
    """The chart's own defaults (../shared/upstream), so that a release that changed them changes nothing for the
    hub; the metadata service and private addresses closed. An admin may open more through jupyterhubValues."""
    chart_defaults = yaml.safe_load((Z2JH / "values.yaml").read_text())["singleuser"]
    opened = next(variant for variant in VARIANTS if variant.name == "beyond-the-model")
    for variant in VARIANTS:
        if variant is opened:
            continue
        singleuser = _values(variant)["singleuser"]
        policy = singleuser["networkPolicy"]
        assert policy["enabled"] is True
        assert policy["egressAllowRules"] == chart_defaults["networkPolicy"]["egressAllowRules"]
        assert policy["egressAllowRules"]["privateIPs"] is False
        assert policy["egressAllowRules"]["cloudMetadataServer"] is False
        assert singleuser["cloudMetadata"]["blockWithIptables"] is chart_defaults["cloudMetadata"][
            "blockWithIptables"] is True
    # Its jupyterhubValues open private addresses (a database), and change nothing else of the policy.
    rules = _values(opened)["singleuser"]["networkPolicy"]["egressAllowRules"]
    assert rules == chart_defaults["networkPolicy"]["egressAllowRules"] | {"privateIPs": True}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_the_hub_database_names_its_storage_class(variant):
    config = variant.config()
    expected = "local-path" if config.homes_on_nfs else config.user_storage.storage_class
    assert _values(variant)["hub"]["db"]["pvc"]["storageClassName"] == expected
