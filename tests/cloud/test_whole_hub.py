"""The whole hub, both layers, on real APIs: the local cloud's OpenStack and the local Kubernetes API (kube/kube.sh),
which tests/cloud/guest.py starts as the control plane's guest, from the control plane's own user data, at its
floating IP. One `pulumi up` makes every resource of the dev stack; then everyday changes, the teardown that keeps the
data, the rebuild and the full teardown, each asserted on what the two APIs hold.

What kwok cannot make real (kube/README.md, README's Testing): no container runs (kwok says pods run), no admission
webhook answers (the API server calls none), no volume is made for a claim (a kwok stage binds a made-up one).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from config.model import (CINDER_CSI_CHART, DEFAULT_CERT_MANAGER_CHART, DEFAULT_CINDER_CSI_CHART,
                          DEFAULT_JUPYTERHUB_CHART)
from hubctl.engine import Workspace
from render import storage
from render.certificates import CERT_MANAGER_RELEASE
from render.jupyterhub import JUPYTERHUB_RELEASE
from render.kubernetes import CERT_MANAGER_NAMESPACE, HUB_NAMESPACE, SYSTEM_NAMESPACE

from ..conftest import PROJECT_DIR, set_path
from .api import connect, csi_metadata, inventory, purge, settled
from .conftest import Stopwatch
from .guest import ControlPlaneGuest
from .test_lifecycle import REPLACING, lab_hub

HUB = "course-hub"
# Where engine/charts.sh builds the charts' archives.
CHARTS = Path(os.environ.get("HUBSTACK_CHARTS", Path.home() / ".cache" / "hubstack-charts"))
# engine/charts.sh's Cinder CSI charts: the default, and the one before it, which the hub starts on to be bumped.
CINDER_CSI_CHARTS = re.findall(r'^\s+"(\d+\.\d+\.\d+) v', (PROJECT_DIR / "engine" / "charts.sh").read_text(), re.M)
# What the first up installs: (status, revision, chart version) of each release.
FIRST_RELEASES = {JUPYTERHUB_RELEASE: ("deployed", 1, DEFAULT_JUPYTERHUB_CHART),
                  CERT_MANAGER_RELEASE: ("deployed", 1, DEFAULT_CERT_MANAGER_CHART),
                  storage.CINDER_CSI_RELEASE: ("deployed", 1, CINDER_CSI_CHARTS[1])}
PROFILE = {"displayName": "Data science", "description": "scipy-notebook with more memory",
           "memory": {"guarantee": "2G", "limit": "4G"}}


@dataclass
class WholeHub:
    workspace: Workspace
    guest: ControlPlaneGuest
    api: Any
    hub: dict[str, Any]
    stopwatch: Stopwatch
    releases_before_teardown: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    def change(self, changes: dict[str, Any]) -> None:
        for path, value in changes.items():
            set_path(self.hub, path, value)
        self.workspace.set_config(self.hub)

    def up(self, step: str) -> None:
        boots = len(self.guest.boots)
        with self.stopwatch(f"pulumi up, both layers: {step}"):
            try:
                self.workspace.up()
            finally:
                if self.guest.error is not None:
                    raise AssertionError(f"the control plane's guest failed: {self.guest.error}")
        for _, seconds in self.guest.boots[boots:]:
            self.stopwatch.record(f"  of which the guest's boot (Kubernetes API, k3s's CRDs, SSH): {step}", seconds)

    def preview_ops(self, step: str) -> dict[str, str]:
        with self.stopwatch(f"pulumi preview, both layers: {step}"):
            preview = self.workspace.preview()
        return {entry["urn"].rsplit("::", 1)[1]: entry["op"] for entry in preview["steps"]
                if entry["op"] not in ("same", "read")}

    def get(self, *args: str) -> Any:
        return json.loads(self.guest.kubectl("get", *args, "-o", "json"))

    def releases(self) -> dict[str, tuple[str, int, str]]:
        """Helm's record of each release in the API: name -> (status, revision, chart version) of its latest revision
        (Helm's Secret: the release as gzipped JSON, base64-encoded, in the Secret's base64-encoded data)."""
        latest: dict[str, tuple[str, int, str]] = {}
        for record in self.get("secrets", "--all-namespaces", "-l", "owner=helm")["items"]:
            labels = record["metadata"]["labels"]
            revision = int(labels["version"])
            if revision > latest.get(labels["name"], ("", 0, ""))[1]:
                release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(record["data"]["release"]))))
                latest[labels["name"]] = (labels["status"], revision, release["chart"]["metadata"]["version"])
        return latest

    def hub_values(self) -> dict[str, Any]:
        """The chart's values as the hub reads them (z2jh's Secret `hub`, values.yaml)."""
        secret = self.get("secret", "hub", "--namespace", HUB_NAMESPACE)
        return yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))

    def teardown(self, *args: str) -> subprocess.CompletedProcess[str]:
        with self.stopwatch(f"hubctl teardown {' '.join(args)}, both layers"):
            return subprocess.run(
                [sys.executable, "-m", "hubctl", "teardown", "--config", str(self.workspace.stack_file), *args],
                cwd=PROJECT_DIR, env=self.workspace.env, capture_output=True, text=True, timeout=1200)


def whole_hub_config(cloud: dict[str, Any]) -> dict[str, Any]:
    hub = lab_hub(cloud)
    hub.update({"name": HUB, "fqdn": f"{HUB}.hubstack.test", "layers": "all",
                "charts": {"archives": str(CHARTS), "cinderCsi": CINDER_CSI_CHARTS[1]}})
    # Keystone over HTTPS (the only kind a hub names), as the program's provider signs in (tlsCloud).
    hub["cloud"]["authUrl"] = cloud["tlsAuthUrl"]
    return hub


@pytest.fixture(scope="module")
def whole(local_cloud: dict[str, Any], stopwatch: Stopwatch, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[WholeHub]:
    api = connect(local_cloud)
    leftovers = purge(api)
    if leftovers:
        print(f"purged what an interrupted run left: {leftovers}")
    credentials = {"OS_CLOUD": local_cloud["tlsCloud"], "OS_CLIENT_CONFIG_FILE": local_cloud["cloudsYaml"]}
    hub = whole_hub_config(local_cloud)
    with Workspace("whole", cloud=credentials) as workspace:
        image_user = workspace.set_config(hub).cloud.image_user
        with ControlPlaneGuest(local_cloud, HUB, image_user, tmp_path_factory.mktemp("guest")) as guest:
            yield WholeHub(workspace, guest, api, hub, stopwatch)
    purge(api)


# ------------------------------------------------------------------------------------------------- day 1


def test_one_up_makes_both_layers(whole: WholeHub):
    whole.up("a hub from nothing")
    outputs = whole.workspace.outputs()
    ((booted, _),) = whole.guest.boots
    found = inventory(whole.api)
    assert booted == found.servers[HUB].id
    assert outputs["url"] == f"https://{HUB}.hubstack.test"
    # The program's wait for the API ran over SSH, host key checked, on the guest it booted.
    assert whole.guest.commands() == [(whole.guest.image_user, 0)]
    # Every release deployed, once, of the chart the stack names.
    assert whole.releases() == FIRST_RELEASES
    assert {item["metadata"]["name"] for item in whole.get("namespaces")["items"]} >= {HUB_NAMESPACE,
                                                                                     CERT_MANAGER_NAMESPACE}
    (issuer,) = whole.get("clusterissuers")["items"]
    assert issuer["spec"]["acme"]["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    (storage_class,) = whole.get("storageclasses")["items"]
    assert storage_class["provisioner"] == storage.CINDER_CSI_PROVISIONER
    assert storage_class["reclaimPolicy"] == "Retain"
    traefik = whole.get("helmchartconfig", "traefik", "--namespace", SYSTEM_NAMESPACE)
    assert "--entryPoints.web.http.redirections.entryPoint.scheme=https" in traefik["spec"]["valuesContent"]
    # The hub runs (as kwok says), on the control plane's node.
    (hub_pod,) = whole.get("pods", "--namespace", HUB_NAMESPACE, "-l", "component=hub")["items"]
    assert hub_pod["status"]["phase"] == "Running" and hub_pod["spec"]["nodeName"] == "hub"
    # The Cinder CSI driver signs in with the application credential the same up made in Keystone.
    (credential,) = found.application_credentials
    (cloud_config,) = [secret for secret in whole.get("secrets", "--namespace", SYSTEM_NAMESPACE)["items"]
                       if secret["metadata"]["name"].startswith(storage.CLOUD_CONFIG_SECRET)]
    cloud_conf = base64.b64decode(cloud_config["data"][storage.CLOUD_CONFIG_FILE]).decode()
    assert f"application-credential-id={credential.id}" in cloud_conf


# ------------------------------------------------------------------------------------------------- day 2


def test_a_profile_added_reaches_the_hub_and_changes_nothing_else(whole: WholeHub):
    namespace_uid = whole.get("namespace", HUB_NAMESPACE)["metadata"]["uid"]
    servers = {name: server.id for name, server in inventory(whole.api).servers.items()}
    whole.change({"profiles": [PROFILE]})
    assert whole.preview_ops("a profile added") == {"hub-jupyterhub-release": "update"}
    whole.up("a profile added")
    assert whole.releases() == {**FIRST_RELEASES, JUPYTERHUB_RELEASE: ("deployed", 2, DEFAULT_JUPYTERHUB_CHART)}
    (profile,) = whole.hub_values()["singleuser"]["profileList"]
    assert profile["display_name"] == PROFILE["displayName"]
    assert profile["kubespawner_override"]["mem_limit"] == PROFILE["memory"]["limit"]
    assert whole.get("namespace", HUB_NAMESPACE)["metadata"]["uid"] == namespace_uid
    assert {name: server.id for name, server in inventory(whole.api).servers.items()} == servers
    assert len(whole.guest.boots) == 1


def test_a_chart_bumped_upgrades_its_release_in_place(whole: WholeHub):
    """The Cinder CSI driver's chart, from the one before the default to the default (both built by make charts)."""
    assert CINDER_CSI_CHARTS[0] == DEFAULT_CINDER_CSI_CHART
    before = whole.releases()
    whole.change({"charts.cinderCsi": DEFAULT_CINDER_CSI_CHART})
    assert whole.preview_ops("the Cinder CSI chart bumped") == {"hub-user-storage-cinder-csi": "update"}
    whole.up("the Cinder CSI chart bumped")
    assert whole.releases() == {**before, storage.CINDER_CSI_RELEASE: ("deployed", 2, DEFAULT_CINDER_CSI_CHART)}
    # The driver's workloads are the new chart's, and none of the old one's is left.
    workloads = [item for kind in ("deployments", "daemonsets")
                 for item in whole.get(kind, "--namespace", SYSTEM_NAMESPACE)["items"]
                 if item["metadata"]["labels"].get("release") == storage.CINDER_CSI_RELEASE]
    assert len(workloads) == 2  # the controller plugin and the node plugin
    charts = {item["metadata"]["labels"]["chart"] for item in workloads}
    assert charts == {f"{CINDER_CSI_CHART}-{DEFAULT_CINDER_CSI_CHART}"}


def _home_volume(whole: WholeHub, claim: str, size_gb: int) -> str:
    """A volume as an earlier cluster's Cinder CSI driver left it for `claim`: its ID."""
    pv = f"pvc-{uuid.uuid5(uuid.NAMESPACE_URL, claim)}"
    volume = whole.api.block_storage.create_volume(
        name=pv, size=size_gb, metadata=csi_metadata(HUB, claim, pv),
        availability_zone=whole.hub["cloud"]["availabilityZone"])
    settled(lambda: whole.api.block_storage.get_volume(volume.id), lambda found: found.status == "available",
            f"volume {pv} available")
    return volume.id


def test_a_home_of_an_earlier_cluster_is_given_back_to_its_user(whole: WholeHub):
    """The home's Cinder volume adopted (hub.userStorage.adopt, as `hubctl volumes --adopt` writes it): the next up
    gives it a PersistentVolume pre-bound to the user's claim, and the claim that KubeSpawner makes binds to it."""
    claim = "claim-student1"
    size_gb = int(whole.hub["userStorage"]["capacity"].removesuffix("Gi"))
    volume_id = _home_volume(whole, claim, size_gb)
    whole.change({"userStorage.adopt": [{"volumeId": volume_id, "claim": claim, "sizeGb": size_gb}]})
    whole.up("a home of an earlier cluster adopted")
    (adopted,) = [pv for pv in whole.get("pv")["items"] if pv["spec"].get("csi", {}).get("volumeHandle") == volume_id]
    assert adopted["spec"]["claimRef"]["name"] == claim
    assert adopted["spec"]["claimRef"]["namespace"] == HUB_NAMESPACE
    assert adopted["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    # The user's claim, as KubeSpawner makes it when the user's server starts.
    values = whole.hub_values()["singleuser"]["storage"]
    whole.guest.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim, "namespace": HUB_NAMESPACE},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": values["dynamic"]["storageClass"],
                 "resources": {"requests": {"storage": values["capacity"]}}},
    }))
    bound = settled(lambda: whole.get("pvc", claim, "--namespace", HUB_NAMESPACE),
                    lambda found: found["status"].get("phase") == "Bound", f"claim {claim} bound")
    assert bound["spec"]["volumeName"] == adopted["metadata"]["name"]


def test_a_new_control_plane_resumes_the_cluster_and_no_kubernetes_object_changes(whole: WholeHub):
    """A change that replaces every server (the root disks' size, fixed at boot): the new control plane boots on the
    same datastore, and the Kubernetes layer, whose provider is the cluster's server CA, is not touched."""
    namespace_uid = whole.get("namespace", HUB_NAMESPACE)["metadata"]["uid"]
    releases = whole.releases()
    whole.change({"cluster.rootDiskGb": whole.hub["cluster"]["rootDiskGb"] + 1})
    ops = whole.preview_ops("the root disks grown")
    assert set(ops) == {"hub-cluster-control-plane", "hub-cluster-worker-1", "hub-cluster-api-ready"}, ops
    assert set(ops.values()) <= REPLACING, ops
    whole.up("the root disks grown: every server replaced")
    found = inventory(whole.api)
    assert [server_id for server_id, _ in whole.guest.boots][-1] == found.servers[HUB].id
    assert len(whole.guest.boots) == 2 and whole.guest.commands() == [(whole.guest.image_user, 0)] * 2
    assert whole.releases() == releases
    assert whole.get("namespace", HUB_NAMESPACE)["metadata"]["uid"] == namespace_uid
    assert whole.preview_ops("after the new control plane: nothing left to do") == {}


# ------------------------------------------------------------------------------------------------- teardown


def _stack_kubernetes_resources(whole: WholeHub) -> list[str]:
    return sorted(resource["urn"] for resource in whole.workspace.deployment()["deployment"]["resources"]
                  if resource["type"].startswith("kubernetes:"))


def test_teardown_keeps_the_cluster_in_its_datastore(whole: WholeHub):
    """Only the servers and their boot volumes go: the project holds exactly what it held without them, the
    Kubernetes layer stays in the stack, and the control plane's guest shuts down with its server."""
    kubernetes_layer = _stack_kubernetes_resources(whole)
    whole.releases_before_teardown = whole.releases()
    before = inventory(whole.api)
    boot_volumes = {volume.id for volume in before.volumes if volume.is_bootable}
    result = whole.teardown("--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"the Kubernetes layer ({len(kubernetes_layer)} resources" in result.stdout
    expected = before.everything()
    del expected["servers"]
    expected["volumes"] = [entry for entry in expected["volumes"] if entry.split()[-1] not in boot_volumes]
    settled(lambda: inventory(whole.api).everything(), lambda found: found == expected,
            "the project as it was, without the servers and their boot volumes")
    settled(lambda: whole.guest.running, lambda running: not running, "the guest shut down with its server")
    assert _stack_kubernetes_resources(whole) == kubernetes_layer


def test_the_rebuilt_control_plane_resumes_the_cluster(whole: WholeHub):
    whole.up("the rebuild after the teardown")
    found = inventory(whole.api)
    assert [server_id for server_id, _ in whole.guest.boots][-1] == found.servers[HUB].id
    # The same cluster, from the datastore: no release installed or upgraded again.
    assert whole.releases() == whole.releases_before_teardown
    (adopted,) = [pv for pv in whole.get("pv")["items"] if pv["spec"]["claimRef"]["name"] == "claim-student1"]
    assert adopted["status"]["phase"] == "Bound"
    # The wait for the API ran again, for the new server; then nothing is left to do.
    assert len(whole.guest.boots) == 3 and whole.guest.commands() == [(whole.guest.image_user, 0)] * 3
    assert whole.preview_ops("after the rebuild: nothing left to do") == {}


def test_full_teardown_leaves_nothing_of_the_hub(whole: WholeHub):
    result = whole.teardown("--all", "--yes", "--confirm", HUB)
    assert result.returncode == 0, result.stdout + result.stderr
    left = settled(lambda: inventory(whole.api).everything(), lambda left: not left, "an empty project")
    assert left == {}
    assert not [resource for resource in whole.workspace.deployment()["deployment"].get("resources") or []
                if resource["type"] != "pulumi:pulumi:Stack"]
    settled(lambda: whole.guest.running, lambda running: not running, "the guest shut down with its server")
