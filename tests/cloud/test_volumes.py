"""`hubctl volumes` against the local cloud's real Cinder and Nova, as the project's member.

No cluster runs here, so the volumes the Cinder CSI driver would make are made as it makes them: named after their
PersistentVolume, with the metadata it sets (`cinder.csi.openstack.org/cluster` = the hub's name, and the claim's
`csi.storage.k8s.io/pvc/*` keys from the csi-provisioner's --extra-create-metadata). A stale attachment is made the
way it happens for real: an attachment that Nova does not know of (begun through Cinder's attachments API, as Nova
and the CSI driver's attach do, and never finished or cleaned up) outlives its server. A volume that Nova itself
attached is detached by Nova when the server is deleted, and must not be flagged.

Independent of test_lifecycle: its own hub name, and it deletes everything it made (its fixture), whatever the
outcome. The real CLI runs in a subprocess with the credentials in the environment, as an admin would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from render import naming

from ..conftest import PROJECT_DIR, cilogon_auth
from ..fake_kubernetes import FakeKubernetes
from .api import SETTLE_SECONDS, connect, csi_metadata, settled
from .test_lifecycle import lab_hub

HUB = "inventory-hub"
OTHER_HUB = "other-hub"
NAMESPACE = "jhub"
# What a host's os-brick sends as connector when it attaches; the fake backend only records it.
CONNECTOR = {"host": "inventory-test-node", "initiator": "iqn.2026-12.test.hubstack:inventory-test-node",
             "ip": "127.0.0.1", "platform": "x86_64", "os_type": "linux", "multipath": False}


class Project:
    """What this test made in the project, so that it deletes exactly that."""

    def __init__(self, cloud: dict[str, Any]) -> None:
        self.cloud = cloud
        self.api = connect(cloud)
        self.admin = connect(cloud, "adminCloud")
        self.volumes: dict[str, Any] = {}
        self.servers: list[Any] = []

    def volume(self, role: str, name: str, size: int = 1, metadata: dict[str, str] | None = None) -> Any:
        created = self.api.block_storage.create_volume(
            name=name, size=size, metadata=metadata or {}, availability_zone=self.cloud["availabilityZone"],
            description="Created by OpenStack Cinder CSI driver" if metadata else "")
        self.volumes[role] = created
        return created

    def csi_volume(self, role: str, cluster: str, claim: str) -> Any:
        # The driver names the volume after the PV the provisioner asked for ("pvc-<claim UID>").
        pv = f"pvc-{len(self.volumes):08d}-0000-4000-8000-{role.encode().hex()[:12]:0<12}"
        return self.volume(role, pv, metadata=csi_metadata(cluster, claim, pv))

    def settle_all(self) -> None:
        for role, made in self.volumes.items():
            self.volumes[role] = settled(lambda: self.api.block_storage.get_volume(made.id),
                                         lambda found: found.status not in ("creating", "attaching", "detaching"),
                                         f"done: volume {role}")

    def status(self, role: str) -> Any:
        return self.api.block_storage.get_volume(self.volumes[role].id)

    def clean(self) -> None:
        for server in self.servers:
            self.api.compute.delete_server(server, ignore_missing=True)
        for server in self.servers:
            self.api.compute.wait_for_delete(server, wait=SETTLE_SECONDS)
        for made in self.volumes.values():
            found = self.api.block_storage.find_volume(made.id)
            if found is None:
                continue
            for attachment in self.api.block_storage.attachments(volume_id=made.id):
                self.api.block_storage.delete_attachment(attachment.id)
            if found.status not in ("available", "error"):
                # Only the admin can take a volume out of a state the test forced on it.
                self.admin.block_storage.reset_volume_status(made.id, status="available", attach_status="detached",
                                                             migration_status=None)
            settled(lambda: self.api.block_storage.find_volume(made.id),
                    lambda v: v is None or v.status in ("available", "error"), f"deletable: volume {made.id}")
            self.api.block_storage.delete_volume(made.id)
        for made in self.volumes.values():
            self.api.block_storage.wait_for_delete(made, wait=SETTLE_SECONDS)


@pytest.fixture(scope="module")
def project(local_cloud: dict[str, Any]) -> Iterator[Project]:
    made = Project(local_cloud)
    try:
        yield made
    finally:
        made.clean()


@pytest.fixture(scope="module")
def stack_file(local_cloud: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    hub = lab_hub(local_cloud)
    hub.update({"name": HUB, "fqdn": f"{HUB}.hubstack.test"})
    hub["auth"] = cilogon_auth(adminUsers=["hubadmin"], allowedUsers=["student1", "student2", "Jane.Doe@example.org"])
    path = tmp_path_factory.mktemp("inventory") / "Pulumi.inventory.yaml"
    path.write_text(yaml.safe_dump({"config": {"hubstack:hub": hub}}))
    return path


def hubctl_volumes(cloud: dict[str, Any], stack_file: Path, *args: str,
                   path: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OS_CLOUD": cloud["cloud"], "OS_CLIENT_CONFIG_FILE": cloud["cloudsYaml"]}
    if path:
        env["PATH"] = f"{path}:{env['PATH']}"
    return subprocess.run([sys.executable, "-m", "hubctl", "volumes", "--config", str(stack_file), *args],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)


def inventory(cloud: dict[str, Any], stack_file: Path) -> dict[str, Any]:
    result = hubctl_volumes(cloud, stack_file, "--json")
    assert result.returncode == 0, result.stderr
    return {entry["id"]: entry for entry in json.loads(result.stdout)["volumes"]}


def test_inventory_and_fix_on_a_real_cinder(project: Project, stack_file: Path, local_cloud: dict[str, Any]):
    api = project.api
    project.volume("shared data", f"{HUB}-shared-data", size=2)
    project.csi_volume("hub database", HUB, "hub-db-dir")
    project.csi_volume("home student1", HUB, "claim-student1")
    project.csi_volume("home hubadmin", HUB, "claim-hubadmin")
    project.csi_volume("home student2", HUB, "claim-student2")
    project.csi_volume("home jane", HUB, naming.home_claim_name("Jane.Doe@example.org"))
    project.csi_volume("stuck deleting", HUB, "claim-dropout")
    project.csi_volume("other hub's home", OTHER_HUB, "claim-student1")
    project.volume("other hub's share", f"{OTHER_HUB}-shared-data")
    project.settle_all()

    flavor = min(local_cloud["flavors"], key=lambda name: local_cloud["flavors"][name]["ramMb"])
    # The local flavors have no disk: the server boots from a volume, as the hub's do (deleted with it).
    server = api.compute.create_server(
        name=f"{HUB}-worker-1", flavor_id=api.compute.find_flavor(flavor, ignore_missing=False).id, networks="none",
        block_device_mapping=[{"boot_index": 0, "uuid": local_cloud["imageId"], "source_type": "image",
                               "destination_type": "volume", "volume_size": 1, "delete_on_termination": True}])
    project.servers.append(server)
    server = api.compute.wait_for_server(server, wait=SETTLE_SECONDS)

    # student1's home: attached by Nova, as the CSI driver has Nova do it. Deleting the server detaches it.
    api.compute.create_volume_attachment(server, volume=project.volumes["home student1"].id)
    settled(lambda: project.status("home student1"), lambda v: v.status == "in-use", "student1's home in use")
    # hubadmin's home: attached and completed through Cinder alone; Nova never hears of it.
    attached = api.block_storage.create_attachment(project.volumes["home hubadmin"].id, instance=server.id,
                                                   connector=CONNECTOR, attach_mode="rw")
    api.block_storage.complete_attachment(attached)
    # student2's home: an attach begun and never finished (the runbooks' volume stuck "reserved").
    reserved = api.block_storage.create_attachment(project.volumes["home student2"].id, instance=server.id)
    settled(lambda: project.status("home hubadmin"), lambda v: v.status == "in-use", "hubadmin's home in use")
    assert project.status("home student2").status == "reserved"
    # A state only an admin can set, and only an admin can leave.
    project.admin.block_storage.reset_volume_status(project.volumes["stuck deleting"].id, status="error_deleting",
                                                    attach_status=None, migration_status=None)

    before = inventory(local_cloud, stack_file)
    (student1,) = [e for e in before.values() if e["claim"] == f"{NAMESPACE}/claim-student1"]
    assert student1["attachments"][0]["server_name"] == f"{HUB}-worker-1"
    assert student1["flags"] == []

    api.compute.delete_server(server)
    api.compute.wait_for_delete(server, wait=SETTLE_SECONDS)
    settled(lambda: project.status("home student1"), lambda v: v.status == "available",
            "student1's home detached by Nova")

    found = inventory(local_cloud, stack_file)
    ids = {role: made.id for role, made in project.volumes.items()}
    assert set(found) == {ids[role] for role in ("shared data", "hub database", "home student1", "home hubadmin",
                                                 "home student2", "home jane", "stuck deleting")}
    described = {role: (found[ids[role]]["role"], found[ids[role]]["user"], found[ids[role]]["status"])
                 for role in ids if ids[role] in found}
    assert described == {
        "shared data": ("shared data", None, "available"),
        "hub database": ("hub database", None, "available"),
        "home student1": ("home", "student1", "available"),
        "home hubadmin": ("home", "hubadmin", "in-use"),
        "home student2": ("home", "student2", "reserved"),
        "home jane": ("home", "Jane.Doe@example.org", "available"),
        "stuck deleting": ("home", "dropout", "error_deleting"),
    }
    assert found[ids["home student1"]]["flags"] == []
    (hubadmin_attachment,) = found[ids["home hubadmin"]]["attachments"]
    assert (hubadmin_attachment["attachment_id"], hubadmin_attachment["server_gone"]) == (attached.id, True)
    (student2_attachment,) = found[ids["home student2"]]["attachments"]
    assert (student2_attachment["attachment_id"], student2_attachment["status"]) == (reserved.id, "reserved")
    (admin_flag,) = found[ids["stuck deleting"]]["flags"]
    assert admin_flag["command"] == f"openstack volume set --state available {ids['stuck deleting']}"

    fixed = hubctl_volumes(local_cloud, stack_file, "--fix", "--yes")
    assert fixed.returncode == 0, fixed.stderr
    assert f"send them `openstack volume set --state available {ids['stuck deleting']}`" in fixed.stdout
    settled(lambda: (project.status("home hubadmin").status, project.status("home student2").status),
            lambda states: states == ("available", "available"), "both homes released by --fix")
    after = inventory(local_cloud, stack_file)
    assert after[ids["home hubadmin"]]["attachments"] == [] and after[ids["home hubadmin"]]["flags"] == []
    assert after[ids["home student2"]]["attachments"] == [] and after[ids["home student2"]]["flags"] == []
    # --fix never tries what only an admin may do.
    assert after[ids["stuck deleting"]]["status"] == "error_deleting"
    assert list(api.block_storage.attachments(volume_id=ids["home hubadmin"])) == []


def test_deleting_a_users_home_deletes_its_claim_and_volume_in_the_cluster_then_in_cinder(
        project: Project, stack_file: Path, local_cloud: dict[str, Any], tmp_path: Path):
    dora = project.csi_volume("home dora", HUB, naming.home_claim_name("dora"))
    erin = project.csi_volume("home erin", HUB, naming.home_claim_name("erin"))
    project.settle_all()
    # A home whose server runs: attached, as the CSI driver's attach leaves it (through Cinder's attachments API).
    attachment = project.api.block_storage.create_attachment(erin.id, instance=str(uuid.uuid4()),
                                                             connector=CONNECTOR, attach_mode="rw")
    project.api.block_storage.complete_attachment(attachment)
    settled(lambda: project.status("home erin"), lambda v: v.status == "in-use", "erin's home in use")
    api = FakeKubernetes({f"{NAMESPACE}/claim-dora": dora.name, f"{NAMESPACE}/claim-erin": erin.name})
    kubeconfig = api.kubeconfig()
    # The stack's pulumi, as far as this command reads it: its outputs, the kubeconfig among them.
    (tmp_path / "outputs.json").write_text(json.dumps({"kubeconfig": kubeconfig}))
    (tmp_path / "pulumi").write_text(f'#!/bin/sh\n[ "$1 $2" = "stack output" ] && cat {tmp_path / "outputs.json"}\n')
    (tmp_path / "pulumi").chmod(0o755)
    try:
        refused = hubctl_volumes(local_cloud, stack_file, "--delete-home", "erin", "--yes", path=str(tmp_path))
        assert refused.returncode == 1
        assert f"not deleted: {erin.id} ({NAMESPACE}/claim-erin) is in-use, attached to" in refused.stderr
        assert "stop erin's server first" in refused.stderr
        assert api.requests == [] and project.status("home erin").status == "in-use"

        deleted = hubctl_volumes(local_cloud, stack_file, "--delete-home", "dora", "--yes", path=str(tmp_path))
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        claim, volume = f"/api/v1/namespaces/{NAMESPACE}/persistentvolumeclaims/claim-dora", \
            f"/api/v1/persistentvolumes/{dora.name}"
        # The claim first (KubeSpawner must not find it bound to a volume that is gone), then its volume.
        assert api.requests == [f"GET {claim}", f"DELETE {claim}", f"GET {claim}", f"DELETE {volume}",
                                f"GET {volume}"]
        assert api.claims == {f"{NAMESPACE}/claim-erin": erin.name}
        settled(lambda: project.api.block_storage.find_volume(dora.id), lambda found: found is None,
                "dora's home deleted in Cinder")
    finally:
        api.shutdown()


def test_flavors_of_a_real_nova_beside_the_stacks(stack_file: Path, local_cloud: dict[str, Any]):
    """`hubctl flavors` reads the local cloud's Nova: its flavors, as bootstrap made them, are the stack's own."""
    env = {**os.environ, "OS_CLOUD": local_cloud["cloud"], "OS_CLIENT_CONFIG_FILE": local_cloud["cloudsYaml"]}
    result = subprocess.run([sys.executable, "-m", "hubctl", "flavors", "--config", str(stack_file), "--json"],
                            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    for name, made in local_cloud["flavors"].items():
        assert document["flavors"][name] == {"vcpus": made["vcpus"], "ramGb": made["ramMb"] // 1024,
                                             "diskGb": made["diskGb"], "gpus": 0}
        assert document["inTheStack"][name] == "same"
