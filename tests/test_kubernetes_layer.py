"""The Kubernetes components under Pulumi's mocks, in the real program (`__main__.py`): what they register is what
`pulumi up` would apply."""

from __future__ import annotations

import json
import re
from functools import lru_cache

import pulumi
import pytest
import yaml

from config import ConfigError, HubConfig, parse
from config.model import SECRET_PLACEHOLDER, Acme, AcmeIssuer, ManualTls, NoTls
from hubctl.mocks import resource_id
from hubctl.plan import HELM_RELEASE, SERVER, Plan, PlannedResource, run_program
from render import certificates, jupyterhub
from render.kubernetes import NFS_NOMINAL_CAPACITY

from . import certs
from .conftest import set_path, stack_data
from .upstream import (CERT_MANAGER, Z2JH, cert_manager_errors, chart_errors, helm_chart_config_errors, helm_merge,
                       kubernetes_errors, schema_version, traefik_chart)
from .variants import VARIANTS, Variant

CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
HELM_CHART_CONFIG = "kubernetes:helm.cattle.io/v1:HelmChartConfig"
APPLICATION_CREDENTIAL = "openstack:identity/applicationCredential:ApplicationCredential"
RANDOM_ID = "random:index/randomId:RandomId"
PROVIDER = "pulumi:providers:kubernetes"


def _plan(variant: Variant) -> Plan:
    return _plan_of(variant.name)


@lru_cache(maxsize=None)
def _plan_of(name: str) -> Plan:
    (variant,) = [variant for variant in VARIANTS if variant.name == name]
    return run_program(variant.config(), "test")


def _kubernetes_resources(plan: Plan) -> list[PlannedResource]:
    return [resource for resource in plan.resources if resource.type.startswith("kubernetes:")]


def _release(plan: Plan, chart: str) -> PlannedResource:
    (release,) = [resource for resource in plan.by_type(HELM_RELEASE) if resource.inputs["chart"] == chart]
    return release


def _kinds(plan: Plan) -> list[tuple[str, str]]:
    return sorted((resource.inputs["kind"], resource.inputs["metadata"]["name"])
                  for resource in _kubernetes_resources(plan) if resource.type != HELM_RELEASE)


def _expected_kinds(config: HubConfig) -> list[tuple[str, str]]:
    kinds = [("Namespace", "jhub")]
    if config.homes_on_nfs:
        kinds += [("PersistentVolume", "hubstack-homes"), ("PersistentVolumeClaim", "homes")]
    else:
        credential_id = config.user_storage.application_credential.id if config.user_storage.application_credential \
            else resource_id(APPLICATION_CREDENTIAL, "hub-user-storage-application-credential")
        kinds += [("StorageClass", config.user_storage.storage_class),
                  ("Secret", f"cinder-csi-cloud-config-{credential_id[:8]}")]
        kinds += [("PersistentVolume", f"hubstack-adopted-{volume.volume_id}") for volume in config.user_storage.adopt]
    if config.shared_data:
        kinds += [("PersistentVolume", "hubstack-shared-data"), ("PersistentVolumeClaim", "shared-data")]
    if isinstance(config.tls, AcmeIssuer):
        kinds += [("Namespace", "cert-manager"), ("ClusterIssuer", config.tls.issuer_name)]
    if isinstance(config.tls, Acme) and config.tls.external_account_binding:
        kinds += [("Secret", "acme-external-account")]
    if isinstance(config.tls, ManualTls):
        kinds += [("Secret", "hub-tls")]
    if not isinstance(config.tls, NoTls):
        kinds += [("HelmChartConfig", "traefik")]
    if config.gpu_workers:
        kinds += [("DaemonSet", "nvidia-device-plugin")]
    return sorted(kinds)


def test_schema_version_is_the_nearest_shipped():
    assert schema_version("1.33.5") == "1.33.0"
    assert schema_version(VARIANTS[0].config().cluster.kubernetes_version) == "1.33.0"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_every_kubernetes_object_passes_the_cluster_versions_schema(variant):
    config = variant.config()
    plan = _plan(variant)
    assert _kinds(plan) == _expected_kinds(config)
    for resource in _kubernetes_resources(plan):
        if resource.type == HELM_RELEASE:
            continue  # Helm values are checked against the charts
        if resource.type == CLUSTER_ISSUER:
            assert cert_manager_errors(resource.revealed, "clusterissuers") == [], resource.name
        elif resource.type == HELM_CHART_CONFIG:
            assert helm_chart_config_errors(resource.revealed) == [], resource.name
        else:
            assert kubernetes_errors(resource.revealed, config.cluster.kubernetes_version) == [], resource.name


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_applied_release_values_are_the_rendered_and_pass_the_chart_schemas(variant):
    config = variant.config()
    plan = _plan(variant)
    applied = _release(plan, "jupyterhub").revealed["values"]
    auth_secret = None if config.auth.type == "dummy" else SECRET_PLACEHOLDER  # no dummy password is set here
    pinned = {secret: "[offline-random-bytes]" for secret in jupyterhub.CHART_SECRETS}
    assert applied == jupyterhub.values(config, jupyterhub.Secrets(auth=auth_secret, **pinned))
    assert chart_errors(Z2JH.name, applied) == []
    if isinstance(config.tls, AcmeIssuer):
        assert chart_errors(CERT_MANAGER.name, _release(plan, "cert-manager").revealed["values"]) == []


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_every_kubernetes_resource_uses_the_kubeconfig_provider(variant):
    plan = _plan(variant)
    (provider,) = plan.by_type(PROVIDER)
    assert provider.inputs["kubeconfig"] == SECRET_PLACEHOLDER
    resources = _kubernetes_resources(plan)
    assert resources and all(resource.provider == provider.urn for resource in resources)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_jupyterhub_release_waits_for_storage_certificate_and_shared_data(variant):
    config = variant.config()
    plan = _plan(variant)
    dependencies = set(_release(plan, "jupyterhub").dependencies)
    urns = {(resource.inputs.get("kind"), resource.inputs.get("metadata", {}).get("name")): resource.urn
            for resource in _kubernetes_resources(plan) if resource.type != HELM_RELEASE}
    needed = {urns[("Namespace", "jhub")]}
    if config.homes_on_nfs:
        needed.add(urns[("PersistentVolumeClaim", "homes")])
    else:
        needed.add(urns[("StorageClass", config.user_storage.storage_class)])
        needed.add(_release(plan, "openstack-cinder-csi").urn)
    if config.shared_data:
        needed.add(urns[("PersistentVolumeClaim", "shared-data")])
    if isinstance(config.tls, AcmeIssuer):
        needed.add(urns[("ClusterIssuer", config.tls.issuer_name)])
    if isinstance(config.tls, ManualTls):
        needed.add(urns[("Secret", "hub-tls")])
    assert needed <= dependencies


def test_plain_http_is_redirected_to_https_by_traefiks_own_arguments():
    """k3s's Traefik gets, through its HelmChartConfig, the arguments its chart renders for a redirect of web to
    websecure (`ports.web.redirections`, chart v34 on; `ports.web.redirectTo` rendered the same before): they hold
    whichever chart a k3s version ships. Their values pass the chart's schema; websecure is the chart's 443."""
    plan = _plan_of("dev")
    (config,) = plan.by_type(HELM_CHART_CONFIG)
    assert config.revealed["metadata"] == {"name": "traefik", "namespace": "kube-system"}
    values = yaml.safe_load(config.revealed["spec"]["valuesContent"])
    defaults, validator, template = traefik_chart()
    assert list(validator.iter_errors(helm_merge(defaults, values))) == []
    arguments = values["additionalArguments"]
    rendered = {
        "to": f":{defaults['ports']['websecure']['exposedPort']}", "scheme": "https", "permanent": "true",
    }
    assert arguments == [f"--entryPoints.web.http.redirections.entryPoint.{name}={value}"
                         for name, value in rendered.items()]
    for name in rendered:
        assert f'"--entryPoints.{{{{ $entrypoint }}}}.http.redirections.entryPoint.{name}=' in template, name
    assert defaults["ports"]["websecure"]["tls"]["enabled"] is True  # the redirect's target serves TLS
    # Without TLS there is nothing to redirect to.
    no_tls = _plan_of("oidc-no-tls")
    assert not no_tls.by_type(HELM_CHART_CONFIG)
    assert tuple(arguments) == certificates.HTTPS_REDIRECT_ARGUMENTS


def test_cluster_issuer_waits_for_cert_manager_and_csi_for_its_cloud_config():
    plan = _plan(VARIANTS[0])
    (issuer,) = plan.by_type(CLUSTER_ISSUER)
    assert _release(plan, "cert-manager").urn in issuer.dependencies
    cloud_config = plan.named("hub-user-storage-cloud-config")
    assert cloud_config.urn in _release(plan, "openstack-cinder-csi").dependencies


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_secrets_are_marked_secret(variant):
    config = variant.config()
    plan = _plan(variant)
    for secret in plan.by_type("kubernetes:core/v1:Secret"):
        assert secret.inputs["stringData"] == SECRET_PLACEHOLDER, secret.name
    hub_config = _release(plan, "jupyterhub").inputs["values"]["hub"]["config"]
    settings = hub_config[jupyterhub.AUTHENTICATORS[type(config.auth)][1]]
    assert settings.get("client_secret", SECRET_PLACEHOLDER) == SECRET_PLACEHOLDER


def test_no_real_secret_reaches_the_plan():
    data = stack_data("dev")
    issued_chain, key = certs.for_host("dev-hub.hubstack-dev.projects.jetstream-cloud.org")
    set_path(data, "auth.clientSecret", "oauth-client-secret-value")
    set_path(data, "tls", {"type": "manual", "certificate": issued_chain, "key": key})
    plan = run_program(data, "dev")
    text = json.dumps(plan.as_json())
    assert "oauth-client-secret-value" not in text and "PRIVATE KEY" not in text
    # ... while the applied values do carry them (the engine sends secrets to the provider, encrypted in state).
    release = _release(plan, "jupyterhub")
    assert release.revealed["values"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"] == (
        "oauth-client-secret-value")
    assert "PRIVATE KEY" in plan.named("hub-tls-secret").revealed["stringData"]["tls.key"]


def test_cinder_cloud_config_carries_the_application_credential():
    plan = _plan(VARIANTS[0])
    (credential,) = plan.by_type(APPLICATION_CREDENTIAL)
    (credential_name,) = plan.by_type(RANDOM_ID)
    cloud_config = plan.named("hub-user-storage-cloud-config").revealed
    cloud_conf = cloud_config["stringData"]["cloud.conf"]
    credential_id = resource_id(APPLICATION_CREDENTIAL, credential.name)
    assert f"application-credential-id={credential_id}\n" in cloud_conf
    assert f"application-credential-secret={SECRET_PLACEHOLDER}" in cloud_conf
    assert "pulumi:providers:kubernetes" not in credential.provider  # an OpenStack resource
    # It makes no credentials; every argument Keystone could not change in place renews the random part of its name
    # (Keystone refuses a second credential of the same name), and the hub's name is in it.
    assert credential.inputs["unrestricted"] is False
    arguments = {key: str(value) for key, value in credential.inputs.items() if key != "name"}
    assert credential_name.inputs["keepers"] == arguments
    prefix = f"hubstack-{VARIANTS[0].config().name}-cinder-csi-"
    assert credential_name.inputs["prefix"] == prefix and credential_name.inputs["byteLength"] == 4
    assert re.fullmatch(re.escape(prefix) + "[0-9a-f]{8}", credential.inputs["name"])
    # A new credential is a new Secret, which the driver's pods name: they roll onto it.
    secret_name = f"cinder-csi-cloud-config-{credential_id[:8]}"
    assert cloud_config["metadata"]["name"] == secret_name
    assert _release(plan, "openstack-cinder-csi").revealed["values"]["secret"]["name"] == secret_name


def test_an_application_credential_of_the_admins_is_used_as_given(tmp_path):
    """One made outside the program (a restricted deploy credential cannot make one; its owner may be a service
    identity): no credential in the stack, its ID and secret in the driver's cloud.conf, the secret marked secret."""
    given_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    data = stack_data("dev")
    set_path(data, "userStorage.applicationCredential", {"id": given_id, "secret": "s3cret-of-the-driver"})
    plan = run_program(parse(data, "test", offline=True), "test")
    assert not plan.by_type(APPLICATION_CREDENTIAL) and not plan.by_type(RANDOM_ID)
    cloud_config = plan.named("hub-user-storage-cloud-config")
    assert cloud_config.inputs["stringData"] == SECRET_PLACEHOLDER
    assert f"application-credential-id={given_id}\napplication-credential-secret=s3cret-of-the-driver\n" in \
        cloud_config.revealed["stringData"]["cloud.conf"]
    assert cloud_config.revealed["metadata"]["name"] == "cinder-csi-cloud-config-0f1e2d3c"
    assert "s3cret-of-the-driver" not in json.dumps(plan.as_json())


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_release_names_and_namespaces_are_outputs(variant):
    config = variant.config()
    outputs = _plan(variant).outputs
    assert outputs["url"] == config.url
    assert (outputs["jupyterhubRelease"], outputs["jupyterhubNamespace"]) == ("jhub", "jhub")
    acme = isinstance(config.tls, AcmeIssuer)
    assert outputs.get("certManagerRelease") == ("cert-manager" if acme else None)
    assert outputs.get("certManagerNamespace") == ("cert-manager" if acme else None)


@pytest.mark.parametrize(
    "change, path, message",
    [
        ({"profiles[0].memory": {"guarantee": "64G", "limit": "64G"}}, "hub.profiles[0].memory.guarantee",
         "does not fit the worker flavor"),
        ({"profiles[1].cpu": {"guarantee": 32, "limit": 32}}, "hub.profiles[1].cpu.guarantee",
         "do not fit the worker flavor"),
        ({"profiles[0].gpus": 1}, "hub.profiles[0].gpus",
         "every worker is a m3.large, which has no GPUs: its servers could never start. Set cluster.workerFlavor "
         "to a GPU flavor (g3.small, g3.medium, g3.large, g3.xl)"),
        ({"cluster.workerFlavor": "g3.xl", "profiles[0].gpus": 2}, "hub.profiles[0].gpus",
         "2 GPUs per server, and every worker is a g3.xl, which has 1 GPUs"),
        ({"profiles[0].memLimit": "4G"}, "hub.profiles[0].memLimit", "is not a known key"),
        ({"profiles[0].kubespawnerOverride": {"mem_limit": "4G"}}, "hub.profiles[0].kubespawnerOverride",
         "is not a known key"),
    ],
)
def test_config_that_cannot_run_is_refused_before_anything_is_created(change, path, message):
    data = stack_data("prod")
    for key, value in change.items():
        set_path(data, key, value)
    with pytest.raises(ConfigError) as caught:
        parse(data, offline=True, plaintext_secrets=True)
    problems = dict(caught.value.problems)
    assert message in problems[path], caught.value.render()
    # The program loads the config before it builds anything: the same error, no resource.
    set_path(data, "auth.clientSecret", "decrypted-by-the-engine")
    with pytest.raises(pulumi.RunError, match=re.escape(path)):
        run_program(data, "prod")


def test_a_secret_is_marked_secret_even_from_plain_values(tmp_path):
    program = tmp_path / "plain_secret.py"
    program.write_text(
        "import pulumi, pulumi_kubernetes as kubernetes\n"
        "from components.kubernetes_objects import apply_object\n"
        "from render.kubernetes import secret\n"
        "provider = kubernetes.Provider('cluster', kubeconfig='apiVersion: v1')\n"
        "apply_object('plain', secret('plain', 'jhub', {'token': 'plain-value'}),\n"
        "             pulumi.ResourceOptions(provider=provider))\n"
    )
    plan = run_program(VARIANTS[0].config(), "test", program=program)
    assert plan.named("plain").inputs["stringData"] == SECRET_PLACEHOLDER


def test_growing_the_share_changes_no_kubernetes_object():
    # A changed claim request would replace the claim (pvc-protection hangs the delete while users run).
    def share_objects(size_gb: int) -> list[dict]:
        data = stack_data("prod")
        set_path(data, "sharedData.sizeGb", size_gb)
        set_path(data, "userStorage", {"type": "nfs"})
        plan = run_program(parse(data, offline=True, plaintext_secrets=True), "prod")
        return [resource.inputs for resource in plan.resources
                if resource.type.startswith("kubernetes:core/v1:Persistent")]

    small, large = share_objects(300), share_objects(500)
    assert len(small) == 4  # shared data and homes: a volume and a claim each
    assert small == large
    for inputs in small:
        storage = inputs["spec"].get("capacity") or inputs["spec"]["resources"]["requests"]
        assert storage["storage"] == NFS_NOMINAL_CAPACITY


def test_the_charts_secrets_are_pinned_in_the_clusters_identity():
    """The chart would generate its cookie secret, proxy token and auth-state key in the cluster: a rebuilt cluster
    would get new ones, and the restored hub database's encrypted auth state and users' cookies would be worthless.
    They are generated once, kept (protected) with the cluster's identity, and given to the chart as secrets."""
    plan = _plan(next(variant for variant in VARIANTS if variant.name == "prod"))
    identity = next(resource for resource in plan.resources if resource.type == "hubstack:openstack:ClusterIdentity")
    generated = [resource for resource in plan.by_type("random:index/randomBytes:RandomBytes")]
    assert sorted(resource.name for resource in generated) == [
        "hub-cluster-identity-cookie-secret", "hub-cluster-identity-crypt-key", "hub-cluster-identity-proxy-token"]
    assert all(resource.parent == identity.urn and resource.protect and resource.inputs["length"] == 32
               for resource in generated)
    release = _release(plan, "jupyterhub")
    config = release.revealed["values"]["hub"]["config"]
    assert (config["JupyterHub"]["cookie_secret"], config["ConfigurableHTTPProxy"]["auth_token"],
            config["CryptKeeper"]["keys"]) == ("[offline-random-bytes]", "[offline-random-bytes]",
                                               ["[offline-random-bytes]"])
    assert "[offline-random-bytes]" not in json.dumps(release.inputs)


def test_adopted_volumes_are_pre_bound_to_their_claims_and_outlive_their_entries():
    """Each volume of an earlier cluster gets a static PersistentVolume on the CSI driver, pre-bound to the claim
    that held it, with the class that claim carries; the chart's hub database claim names that class; the release
    waits for them (so its hub-db-dir claim binds to the old volume, not to a new one)."""
    variant = next(variant for variant in VARIANTS if variant.name == "cinder-adopted-volumes")
    config = variant.config()
    plan = _plan(variant)
    volumes = {resource.revealed["metadata"]["name"]: resource for resource in _kubernetes_resources(plan)
               if resource.type == "kubernetes:core/v1:PersistentVolume" and resource.name.startswith(
                   "hub-user-storage-adopted-")}
    home, database = config.user_storage.adopt
    assert set(volumes) == {f"hubstack-adopted-{home.volume_id}", f"hubstack-adopted-{database.volume_id}"}
    spec = volumes[f"hubstack-adopted-{home.volume_id}"].revealed["spec"]
    assert spec == {
        "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "cinder-retain", "claimRef": {"namespace": "jhub", "name": "claim-alice"},
        "csi": {"driver": "cinder.csi.openstack.org", "volumeHandle": home.volume_id, "fsType": "ext4"},
    }
    zone = volumes[f"hubstack-adopted-{database.volume_id}"].revealed["spec"]["nodeAffinity"]
    assert zone["required"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "topology.cinder.csi.openstack.org/zone", "operator": "In", "values": ["nova"]}]
    assert all(volume.retain_on_delete and not volume.protect for volume in volumes.values())
    values = _release(plan, "jupyterhub").revealed["values"]
    assert values["hub"]["db"]["pvc"]["storageClassName"] == values["singleuser"]["storage"]["dynamic"][
        "storageClass"] == "cinder-retain"
    assert {volume.urn for volume in volumes.values()} <= set(_release(plan, "jupyterhub").dependencies)


def test_gpu_profiles_reach_the_gpu_workers_through_the_device_plugin():
    """A profile's gpus become KubeSpawner's nvidia.com/gpu limit, in the nvidia runtime, on the nodes whose label
    the GPU workers' k3s sets; the device plugin that gives them runs on those nodes, past the users' taint."""
    (variant,) = [variant for variant in VARIANTS if variant.name == "gpu-workers"]
    config = variant.config()
    plan = _plan(variant)
    worker_k3s = _worker_k3s_config(plan)
    labels = dict(label.split("=", 1) for label in worker_k3s["node-label"])
    (taint,) = worker_k3s["node-taint"]
    taint_key, rest = taint.split("=", 1)
    taint_value, taint_effect = rest.split(":")
    profiles = _release(plan, "jupyterhub").revealed["values"]["singleuser"]["profileList"]
    assert "kubespawner_override" not in profiles[0]  # no GPU asked for: nothing of it
    override = profiles[1]["kubespawner_override"]
    assert override["extra_resource_limits"] == {"nvidia.com/gpu": str(config.profiles[1].gpus)}
    assert override["extra_pod_config"] == {"runtimeClassName": "nvidia"}
    assert override["node_selector"].items() <= labels.items()
    (plugin,) = [resource for resource in _kubernetes_resources(plan) if resource.inputs.get("kind") == "DaemonSet"]
    pod = plugin.revealed["spec"]["template"]["spec"]
    assert pod["nodeSelector"].items() <= labels.items() and pod["runtimeClassName"] == "nvidia"
    assert {"key": taint_key, "operator": "Equal", "value": taint_value, "effect": taint_effect} in pod["tolerations"]
    assert plugin.revealed["metadata"]["namespace"] == "kube-system"
    # Without GPU workers: no plugin, and the workers say they have no GPU.
    plan = _plan_of("dev")
    assert not [resource for resource in _kubernetes_resources(plan) if resource.inputs.get("kind") == "DaemonSet"]
    assert "nvidia.com/gpu.present=true" not in _worker_k3s_config(plan)["node-label"]


def _worker_k3s_config(plan: Plan) -> dict:
    (worker, *_) = [server for server in plan.by_type(SERVER) if "-worker-" in server.inputs["name"]]
    files = yaml.safe_load(worker.revealed["userData"])["write_files"]
    (k3s,) = [entry for entry in files if entry["path"] == "/etc/rancher/k3s/config.yaml"]
    return yaml.safe_load(k3s["content"])
