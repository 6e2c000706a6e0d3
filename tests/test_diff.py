"""`hubctl diff` on real git history: a temporary repository holding this project, one commit per everyday change
to the prod stack, each compared with the commit before it as a pull request would be."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from hubctl import diff

from .conftest import PROJECT_DIR, set_path


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin"}).stdout.strip()


class Repository:
    def __init__(self, root: Path) -> None:
        self.root = root
        files = _git(PROJECT_DIR, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
        for name in files:
            if (PROJECT_DIR / name).is_file():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(PROJECT_DIR / name, root / name)
        _git(root, "init", "--quiet", "--initial-branch", "main")
        self.hub = yaml.safe_load((root / "Pulumi.prod.yaml").read_text())["config"]["hubstack:hub"]
        self.base = self.commit("prod as the examples have it", self.hub)

    def commit(self, message: str, hub: dict[str, Any]) -> str:
        (self.root / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": {"hubstack:hub": hub}}, sort_keys=False))
        _git(self.root, "add", "-A")
        _git(self.root, "commit", "--quiet", "--allow-empty", "-m", message)
        return _git(self.root, "rev-parse", "HEAD")

    def change(self, message: str, edit: Callable[[dict[str, Any]], None]) -> str:
        _git(self.root, "checkout", "--quiet", self.base)
        hub = copy.deepcopy(self.hub)
        edit(hub)
        return self.commit(message, hub)

    def diff(self, base: str, head: str, *args: str) -> str:
        """The Markdown of `hubctl diff`: offline unless `args` say otherwise (the engine tier's test does)."""
        args = args or ("--offline",)
        result = subprocess.run([sys.executable, "-m", "hubctl", "diff", base, head, "--stack", "prod", *args],
                                cwd=self.root, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    return Repository(tmp_path_factory.mktemp("hub-repo"))


def _rows(markdown: str) -> list[tuple[str, str, str, str]]:
    return [tuple(cell.strip() for cell in line.strip("|").split("|"))  # type: ignore[misc]
            for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| op ")]


def _setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda hub: set_path(hub, path, value)


def test_no_change_says_so(repo: Repository):
    markdown = repo.diff(repo.base, repo.base)
    assert ("\n\nUses: servers 4, vCPUs 56, RAM GB 210, volume GB 705, floating IPs 1\n\nNo change."
            in markdown)
    assert "### prod\n\nOffline plans of both sides" in markdown
    assert "[!WARNING]" not in markdown


def test_a_profile_added_changes_the_hub_values_alone(repo: Repository):
    profile = {"displayName": "Big memory", "description": "for the final project", "memory": {"guarantee": "20G",
                                                                                               "limit": "24G"}}
    head = repo.change("a profile added", lambda hub: hub.setdefault("profiles", []).append(profile))
    markdown = repo.diff(repo.base, head)
    assert _rows(markdown) == [("update", "Release", "hub-jupyterhub-release", "values")]
    assert "<details><summary>Helm values: hub-jupyterhub-release</summary>" in markdown
    assert "+    display_name: Big memory" in markdown
    assert "cloud-init" not in markdown and "[!WARNING]" not in markdown


def test_a_worker_added_is_a_create_and_uses_more(repo: Repository):
    markdown = repo.diff(repo.base, repo.change("a worker", _setter("cluster.workerCount", 4)))
    assert {row[:3] for row in _rows(markdown) if row[0] == "create"} == {
        ("create", "Instance", "hub-cluster-worker-4"), ("create", "Port", "hub-cluster-worker-4-port")}
    assert "servers 4 → **5**, vCPUs 56 → **72**, RAM GB 210 → **270**, volume GB 705 → **805**" in markdown
    assert "cloud-init: hub-cluster-worker-4 (new: the same as hub-cluster-worker-1)" in markdown


def test_a_flavor_changed_is_an_update_as_the_change_table_says(repo: Repository):
    markdown = repo.diff(repo.base, repo.change("bigger workers", _setter("cluster.workerFlavor", "m3.xl")))
    assert _rows(markdown) == [("update", "Instance", f"hub-cluster-worker-{n}", "flavorName") for n in (1, 2, 3)]
    assert "vCPUs 56 → **104**" in markdown and "[!WARNING]" not in markdown


def test_the_shared_data_grown(repo: Repository):
    markdown = repo.diff(repo.base, repo.change("more data", _setter("sharedData.sizeGb", 500)))
    assert _rows(markdown) == [("update", "Volume", "hub-shared-data-volume-volume", "size")]
    assert "volume GB 705 → **905**" in markdown


def test_the_hub_renamed_warns_loudly(repo: Repository):
    markdown = repo.diff(repo.base, repo.change("renamed", _setter("name", "atmos-course-2027")))
    warning = markdown.split("> [!WARNING]\n", 1)[1].split("\n\n", 1)[0]
    assert ("> **prod** the hub's address changes: `atmos-course.atm240.projects.jetstream-cloud.org` -> "
            "`atmos-course-2027.atm240.projects.jetstream-cloud.org`") in warning
    ops = {row[2]: row[0] for row in _rows(markdown)}
    assert ops["hub-cluster-control-plane"] == "replace"  # its user data changes, as the change table saw
    assert ops["hub-shared-data-volume-volume"] == "update"  # renamed in place: the same volume


def test_a_deleted_data_volume_is_a_warning():
    base = {"resources": [{"urn": "u::v", "type": diff.VOLUME, "name": "hub-shared-data-volume-volume",
                           "custom": True, "protect": True, "inputs": {"size": 300}}], "outputs": {}}
    head = {"resources": [], "outputs": {}}
    changes = diff.resource_changes(base, head, {})
    assert changes == [diff.Change("delete", diff.VOLUME, "hub-shared-data-volume-volume")]
    assert diff.warnings(base, head, changes) == [
        "deletes Volume `hub-shared-data-volume-volume` (protected: the cluster's identity or data)"]


def test_the_change_table_is_read_as_the_previews_gave_it():
    table = diff.read_change_table((PROJECT_DIR / "docs" / "changes.md").read_text())
    assert table[("Instance", "flavorName")] == {"update"}
    assert table[("Instance", "userData")] == {"replace"}
    assert table[("Volume", "size")] == {"update"}
    assert diff._update_or_replace(diff.SERVER, ["userData", "flavorName"], table) == "replace"
    assert diff._update_or_replace(diff.SERVER, ["flavorName", "metadata"], table) == "update"
    assert diff._update_or_replace(diff.SERVER, ["nothingKnown"], table) == "update or replace"


def test_touched_stacks_are_the_edited_stack_files_or_all_when_shared_code_changes():
    stacks = ["dev", "prod", "summer-school"]
    assert diff.touched_stacks(["Pulumi.prod.yaml", "README.md", "docs/changes.md"], stacks) == ["prod"]
    assert diff.touched_stacks(["Pulumi.summer-school.yaml", "Pulumi.dev.yaml"], stacks) == ["dev", "summer-school"]
    assert diff.touched_stacks(["Pulumi.prod.yaml", "render/jupyterhub.py"], stacks) == stacks
    assert diff.touched_stacks(["constraints.txt"], stacks) == stacks
    assert diff.touched_stacks([".github/workflows/hub-diff.yml", "README.md"], stacks) == []


def test_touched_on_git_history_plans_the_edited_stack_alone(repo: Repository):
    head = repo.change("more data", _setter("sharedData.sizeGb", 400))
    result = subprocess.run([sys.executable, "-m", "hubctl", "diff", repo.base, head, "--touched", "--offline"],
                            cwd=repo.root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "### prod" in result.stdout and "### dev" not in result.stdout


def test_two_plan_folders_of_differently_named_stack_files_are_one_stack(tmp_path: Path):
    """The stack is what --stack says, not a file's or folder's name: `hubctl plan --config` of two stack files."""
    hub = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    for name, workers in (("before", 1), ("after", 2)):
        set_path(hub["config"]["hubstack:hub"], "cluster.workerCount", workers)
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(hub))
        subprocess.run([sys.executable, "-m", "hubctl", "plan", "--config", str(tmp_path / f"Pulumi.{name}.yaml"),
                        "--out", str(tmp_path / name), "--quiet"], cwd=PROJECT_DIR, check=True, capture_output=True)
    run = [sys.executable, "-m", "hubctl", "diff", str(tmp_path / "before"), str(tmp_path / "after")]
    result = subprocess.run([*run, "--stack", "dev"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "### dev" in result.stdout and "| create | Instance | hub-cluster-worker-2 |  |" in result.stdout
    unnamed = subprocess.run(run, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert unnamed.returncode == 2 and "name it with --stack" in unnamed.stderr


def test_a_retained_resource_that_goes_is_said_to_stay_in_the_project():
    from hubctl.changes import Step, marks

    floating_ip = "openstack:networking/floatingIp:FloatingIp"
    assert marks(Step("delete", floating_ip, "hub-cluster-floating-ip", [])) == [
        "**deleted: the hub's address and DNS name**"]
    assert marks(Step("delete", floating_ip, "hub-cluster-floating-ip", [], retained=True)) == [
        "left in the project, out of the stack (retainOnDelete): the hub's address and DNS name"]
    # A replacement makes a new one whatever becomes of the old.
    assert marks(Step("replace", floating_ip, "hub-cluster-floating-ip", ["pool"], retained=True)) == [
        "**replaced: the hub's address and DNS name**"]


def test_properties_that_mean_the_same_say_it_once():
    from hubctl.changes import Step, marks

    release = "kubernetes:helm.sh/v3:Release"
    assert marks(Step("update", release, "hub-user-storage-cinder-csi", ["values", "version"])) == [
        "helm upgrade: pods whose spec changes restart"]
