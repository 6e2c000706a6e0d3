"""The local Kubernetes API itself: the cluster's Kubernetes version, nodes shaped like the hub's on which the
scheduler places pods as on the hub, a network namespace from which nothing leaves the machine, the hub's own
authorities and address, homes of the hub's storage class, and the program's objects accepted by the API server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import load_stack_file
from hubctl.plan import HELM_RELEASE, run_program
from render import placement, storage
from render.kubeconfig import admin_kubeconfig

from .. import certs
from ..conftest import PROJECT_DIR
from ..upstream import CERT_MANAGER_MODULE, HELM_CONTROLLER_MODULE, go_module
from .conftest import LocalKube, kube_script

NAMESPACE = "kube-tier"


def test_the_api_serves_the_clusters_kubernetes_minor(local_kube: LocalKube):
    server = json.loads(local_kube.kubectl("version", "-o", "json"))["serverVersion"]
    wanted = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml").cluster.kubernetes_version
    assert (server["major"], server["minor"]) == ("1", wanted.split(".")[1])
    assert server["gitVersion"].startswith(f"v1.{wanted.split('.')[1]}.")


def test_pods_run_where_the_hubs_placement_puts_them(local_kube: LocalKube):
    nodes = {node["metadata"]["name"]: node for node in local_kube.get("nodes")["items"]}
    assert sorted(nodes) == ["hub", "hub-worker-1", "hub-worker-2"]
    for node in nodes.values():
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", node["metadata"]["name"]
    local_kube.kubectl("create", "namespace", NAMESPACE)
    try:
        user = _pod("user-server", {"nodeSelector": {placement.USER_NODE_PURPOSE_LABEL: "user"},
                                    "tolerations": placement.user_node_tolerations()})
        system = _pod("system", placement.on_control_plane())
        untolerated = _pod("untolerated", {"nodeSelector": {placement.USER_NODE_PURPOSE_LABEL: "user"}})
        local_kube.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                  "items": [user, system, untolerated]}))
        pods = _running(local_kube, {"user-server", "system"})
        assert pods["user-server"]["spec"]["nodeName"].startswith("hub-worker-")
        assert pods["system"]["spec"]["nodeName"] == "hub"
        # A pod that does not tolerate the users' taint never lands on a user node.
        untolerated = local_kube.get("pod", "untolerated", "--namespace", NAMESPACE)
        assert untolerated["status"]["phase"] == "Pending" and "nodeName" not in untolerated["spec"]
    finally:
        local_kube.kubectl("delete", "namespace", NAMESPACE, "--wait=false")


def test_nothing_dialled_in_the_namespace_leaves_the_machine(local_kube: LocalKube):
    routes = local_kube.run("ip", "-4", "route", "show", "table", "all")
    assert routes.returncode == 0
    assert [line for line in routes.stdout.splitlines() if "dev lo" not in line] == []
    started = time.monotonic()
    # The kubernetes Service's address, as the API server dials a webhook's Service: refused at once, not routed.
    dial = local_kube.run("python3", "-c", "import socket; socket.create_connection(('10.43.0.1', 443), timeout=5)")
    assert dial.returncode != 0 and "Network is unreachable" in dial.stderr, dial.stderr
    assert time.monotonic() - started < 3


def test_status_says_what_runs(local_kube: LocalKube):  # noqa: ARG001 (the API must be running)
    status = kube_script("status")
    assert status.returncode == 0
    assert {line.split()[0] for line in status.stdout.splitlines()} == {
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}


def _pod(name: str, placed: dict) -> dict:
    volumes = placed.get("volumes", [])
    mounts = [{"name": volume["name"], "mountPath": f"/{volume['name']}"} for volume in volumes]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"containers": [{"name": "main", "image": "busybox", "volumeMounts": mounts}], **placed}}


def _running(local_kube: LocalKube, names: set[str], seconds: float = 60) -> dict[str, dict]:
    deadline = time.monotonic() + seconds
    while True:
        pods = {pod["metadata"]["name"]: pod for pod in local_kube.get("pods", "--namespace", NAMESPACE)["items"]}
        if all(pods.get(name, {}).get("status", {}).get("phase") == "Running" for name in names):
            return pods
        assert time.monotonic() < deadline, {name: pods.get(name, {}).get("status") for name in names}
        time.sleep(0.5)


def test_an_api_whose_processes_were_killed_starts_again(local_kube: LocalKube):
    """What a machine or session that ends under it leaves: every process gone at once, every PID file in place.
    `start` takes none of those PIDs for its own, and comes back."""
    run = Path(_state_dir()) / "run"
    groups = {pid_file.stem: int(pid_file.read_text()) for pid_file in run.glob("*.pid")}
    assert set(groups) == {"namespace", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
    for pid in groups.values():
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in groups.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kube_script("status").returncode != 0
    started = kube_script("start", timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    assert kube_script("status").returncode == 0
    assert {node["metadata"]["name"] for node in local_kube.get("nodes")["items"]} == {"hub", "hub-worker-1",
                                                                                        "hub-worker-2"}


def test_a_datastore_outlives_a_stop_and_whatever_else_ran_in_the_namespace_does_not(local_kube: LocalKube,
                                                                                      tmp_path: Path):
    """HUBSTACK_KUBE_DATASTORE, as the hub's state volume keeps k3s's: what was written before `stop` is there after
    the next `start`. `stop` also stops what else was started in the namespace (the SSH server of a test's guest)."""
    datastore = tmp_path / "datastore"
    environment = {"HUBSTACK_KUBE_DATASTORE": str(datastore)}
    assert kube_script("stop").returncode == 0
    try:
        assert kube_script("start", timeout=300, environment=environment).returncode == 0
        local_kube.kubectl("create", "configmap", "kept", "--namespace", "default", "--from-literal=home=student1")
        other = subprocess.Popen([str(PROJECT_DIR / "kube" / "kube.sh"), "exec", "--", "sleep", "600"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        assert other.poll() is None
        assert kube_script("stop").returncode == 0
        assert other.wait(timeout=10) != 0  # stopped by a signal, not done
        assert kube_script("start", timeout=300, environment=environment).returncode == 0
        kept = local_kube.get("configmap", "kept", "--namespace", "default")
        assert kept["data"] == {"home": "student1"}
    finally:
        kube_script("stop")
        assert kube_script("start", timeout=300).returncode == 0
    assert datastore.is_dir()  # the link went, not the data
    # Without it, a start begins with an empty datastore.
    absent = local_kube.run("kubectl", "get", "configmap", "kept", "--namespace", "default")
    assert absent.returncode != 0 and "NotFound" in absent.stderr


def _state_dir() -> str:
    return os.environ.get("HUBSTACK_KUBE_DIR", str(Path.home() / ".cache" / "hubstack-kube" / "state"))


def test_the_programs_kubeconfig_reaches_the_api_at_the_hubs_address(local_kube: LocalKube, tmp_path: Path):
    """The API started with a cluster's own authorities (laid out as k3s's server/tls/, as the program makes them)
    and the hub's public address: from the host, the kubeconfig that render/kubeconfig.py composes (that address,
    the server CA, an admin certificate of the client CA) reaches it, and the namespace still routes nothing but the
    way back to the host."""
    authorities = tmp_path / "tls"
    authorities.mkdir()
    server_ca, client_ca = certs.authority("hub-server-ca"), certs.authority("hub-client-ca")
    for name, issued in (("server-ca", server_ca), ("client-ca", client_ca)):
        (authorities / f"{name}.crt").write_text(issued.pem)
        (authorities / f"{name}.key").write_text(issued.key_pem)
    service_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (authorities / "service.key").write_bytes(service_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    environment = {"HUBSTACK_KUBE_CA_DIR": str(authorities), "HUBSTACK_KUBE_ADDRESSES": HUB_ADDRESS}
    assert kube_script("stop").returncode == 0
    try:
        started = kube_script("start", timeout=300, environment=environment)
        assert started.returncode == 0, started.stdout + started.stderr
        admin = certs.client("hubstack-admin", "system:masters", client_ca)
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(admin_kubeconfig(address=HUB_ADDRESS, ca_certificate=server_ca.pem,
                                               client_certificate=admin.pem, client_key=admin.key_pem))
        nodes = subprocess.run([str(_kubectl()), "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                               capture_output=True, text=True, timeout=60)
        assert nodes.returncode == 0, nodes.stderr
        assert sorted(nodes.stdout.split()) == ["node/hub", "node/hub-worker-1", "node/hub-worker-2"]
        routes = local_kube.run("ip", "-4", "route", "show", "table", "main")
        assert routes.stdout.split() == ["169.254.64.1", "dev", "hubkube1", "scope", "link"]
    finally:
        kube_script("stop")
        assert kube_script("start", timeout=300).returncode == 0
    # Stopped, it took its link to the host and that link's routes along; started without addresses, it has none.
    assert "hubkube0" not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert HUB_ADDRESS not in subprocess.run(["ip", "route"], capture_output=True, text=True).stdout


HUB_ADDRESS = "203.0.113.10"  # a documentation address (RFC 5737), as the hub's floating IP would be


def _kubectl() -> Path:
    checked = subprocess.run([str(PROJECT_DIR / "kube" / "build.sh"), "--check"], capture_output=True, text=True)
    return Path(checked.stdout.strip()) / "kubectl"


def test_a_home_of_the_hubs_storage_class_is_provisioned_and_outlives_its_claim(local_kube: LocalKube):
    """The program's storage class (render/storage.py) and a claim as KubeSpawner makes one: the stand-in for the
    Cinder CSI driver's provisioner (kube/stages/) gives it a volume of that driver once a user pod is scheduled, and
    the volume stays, Released, when the claim goes (Retain: the user's data is not deleted with the claim)."""
    config = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    storage_class = storage.storage_class(config.user_storage, config.cloud)
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "claim-ada", "namespace": "default"},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class["metadata"]["name"],
                      "resources": {"requests": {"storage": config.user_storage.capacity}}}}
    pod = _pod("jupyter-ada", {"nodeSelector": {placement.USER_NODE_PURPOSE_LABEL: "user"},
                               "tolerations": placement.user_node_tolerations(),
                               "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-ada"}}]})
    pod["metadata"]["namespace"] = "default"
    local_kube.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                              "items": [storage_class, claim, pod]}))
    volume_name = ""
    try:
        deadline = time.monotonic() + 60
        while (claim := local_kube.get("pvc", "claim-ada"))["status"].get("phase") != "Bound":
            assert time.monotonic() < deadline, claim["status"]
            time.sleep(0.5)
        volume_name = claim["spec"]["volumeName"]
        volume = local_kube.get("pv", volume_name)
        assert volume["spec"]["csi"]["driver"] == storage_class["provisioner"] == "cinder.csi.openstack.org"
        assert volume["spec"]["persistentVolumeReclaimPolicy"] == storage_class["reclaimPolicy"] == "Retain"
        assert volume["spec"]["capacity"]["storage"] == config.user_storage.capacity
        local_kube.kubectl("delete", "pod", "jupyter-ada", "--wait=true", "--timeout=60s")
        local_kube.kubectl("delete", "pvc", "claim-ada", "--wait=true", "--timeout=60s")
        deadline = time.monotonic() + 60
        while (volume := local_kube.get("pv", volume_name))["status"]["phase"] != "Released":
            assert time.monotonic() < deadline, volume["status"]
            time.sleep(0.5)
    finally:
        local_kube.run("kubectl", "delete", "pod", "jupyter-ada", "--ignore-not-found", "--wait=false")
        local_kube.run("kubectl", "delete", "pvc", "claim-ada", "--ignore-not-found", "--wait=false")
        if volume_name:
            local_kube.run("kubectl", "delete", "pv", volume_name, "--ignore-not-found", "--wait=false")
        local_kube.run("kubectl", "delete", "storageclass", storage_class["metadata"]["name"], "--ignore-not-found")


def test_a_real_api_server_accepts_every_object_the_program_applies(local_kube: LocalKube):
    """Every Kubernetes object of prod's plan that is not a Helm release (namespaces, storage class, volumes and
    claims, Secrets, the ClusterIssuer, k3s's Traefik config), sent to the API server as the program sends them:
    the namespaces made, the rest in a server-side dry run, with cert-manager's and k3s's CRDs (from their Go
    modules, as tests/upstream.py reads them) installed first. The API server, not a schema copy, decides."""
    crds = [go_module(CERT_MANAGER_MODULE) / "deploy" / "crds" / "cert-manager.io_clusterissuers.yaml",
            go_module(HELM_CONTROLLER_MODULE) / "pkg" / "crds" / "yaml" / "generated" /
            "helm.cattle.io_helmchartconfigs.yaml"]
    plan = run_program(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"), "prod")
    objects = [resource.revealed for resource in plan.resources
               if resource.type.startswith("kubernetes:") and resource.type != HELM_RELEASE]
    namespaces = [manifest for manifest in objects if manifest["kind"] == "Namespace"]
    others = [manifest for manifest in objects if manifest["kind"] != "Namespace"]
    assert {manifest["kind"] for manifest in others} >= {"ClusterIssuer", "HelmChartConfig", "StorageClass", "Secret"}
    for crd in crds:
        local_kube.kubectl("apply", "-f", "-", stdin=crd.read_text())
    try:
        local_kube.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                           "crd/clusterissuers.cert-manager.io", "crd/helmchartconfigs.helm.cattle.io")
        local_kube.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                  "items": namespaces}))
        accepted = local_kube.run("kubectl", "apply", "--dry-run=server", "-f", "-",
                                  stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": others}))
        assert accepted.returncode == 0, accepted.stderr
        assert accepted.stdout.count("(server dry run)") == len(others), accepted.stdout
    finally:
        for manifest in namespaces:
            local_kube.run("kubectl", "delete", "namespace", manifest["metadata"]["name"], "--wait=false")
        for crd in crds:
            local_kube.run("kubectl", "delete", "-f", str(crd), "--wait=false")
