"""kube/ without its binaries: the local Kubernetes API's fake nodes (kube/nodes.yaml) are shaped as the program's
cluster makes them (a control plane with the label the program's placement selects, user nodes with the label and
taint its k3s agents set: a change of those in the program fails here, not as pods that never schedule in the kube
tier); and the tools' scripts pass shellcheck."""

from __future__ import annotations

import subprocess

import yaml

from render import cloud_init, placement

from .conftest import PROJECT_DIR

NODES = yaml.safe_load((PROJECT_DIR / "kube" / "nodes.yaml").read_text())["items"]


def test_the_control_plane_is_what_the_programs_placement_selects():
    (control_plane,) = [node for node in NODES if "-worker-" not in node["metadata"]["name"]]
    assert placement.control_plane_node_selector().items() <= control_plane["metadata"]["labels"].items()
    assert "taints" not in control_plane.get("spec", {})  # k3s taints no server


def test_user_nodes_carry_the_label_and_taint_of_the_programs_workers():
    workers = [node for node in NODES if "-worker-" in node["metadata"]["name"]]
    assert len(workers) == 2
    k3s_config = next(entry for entry in yaml.safe_load(_worker_user_data())["write_files"]
                      if entry["path"] == cloud_init.K3S_CONFIG_PATH)
    agent = yaml.safe_load(k3s_config["content"])
    labels = dict(label.split("=", 1) for label in agent["node-label"])
    (taint,) = agent["node-taint"]
    key, rest = taint.split("=", 1)
    value, effect = rest.split(":")
    for worker in workers:
        assert labels.items() <= worker["metadata"]["labels"].items()
        assert worker["spec"]["taints"] == [{"key": key, "value": value, "effect": effect}]
        assert worker["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}
    assert {"key": key, "operator": "Equal", "value": value, "effect": effect} in placement.user_node_tolerations()


def _worker_user_data() -> str:
    from config import load_stack_file

    config = load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    return cloud_init.worker_user_data(config, agent_token="kube-test-agent-token-0123456789",
                                       control_plane_address="10.0.42.10")


def test_the_tools_scripts_pass_shellcheck():
    """kube/, cloud/ and engine/ scripts and the control plane stand-in's commands (the boot scripts are checked with
    the user data, tests/test_cloud_init.py)."""
    scripts = sorted(str(path) for folder in ("kube", "cloud", "engine")
                     for path in (PROJECT_DIR / folder).glob("*.sh"))
    scripts += sorted(str(path) for path in (PROJECT_DIR / "tests" / "cloud" / "control_plane_bin").iterdir())
    assert len(scripts) == 8
    checked = subprocess.run(["shellcheck", "-x", "--severity=style", *scripts], capture_output=True, text=True,
                             cwd=PROJECT_DIR)
    assert checked.returncode == 0, checked.stdout


def test_the_kubernetes_module_is_in_the_repository():
    """kube/build.sh builds from kube/module/ and keys its cache on it: a checkout without it (an ignore rule that
    caught it once) would build nothing, and the kube tier would never find its binaries."""
    tracked = subprocess.run(["git", "ls-files", "kube/module"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert tracked.stdout.split() == ["kube/module/go.mod", "kube/module/go.sum"]
