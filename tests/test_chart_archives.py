"""hub.charts.archives: every release installs from a local archive named as `helm package` names it."""

from __future__ import annotations

from config import load_stack_file, parse

from .conftest import PROJECT_DIR, run_program, set_path, stack_data

RELEASE = "kubernetes:helm.sh/v3:Release"


def test_releases_install_from_archives_when_the_folder_has_them(tmp_path):
    data = stack_data("dev")
    for chart, version in parse(data, offline=True, plaintext_secrets=True).charts_in_use.items():
        (tmp_path / f"{chart}-{version}.tgz").write_bytes(b"")
    set_path(data, "charts.archives", str(tmp_path))
    releases = run_program(parse(data, offline=True, plaintext_secrets=True), "dev").by_type(RELEASE)
    assert {release.inputs["chart"] for release in releases} == {
        str(tmp_path / name) for name in ("jupyterhub-4.4.0.tgz", "cert-manager-v1.21.1.tgz",
                                          "openstack-cinder-csi-2.33.0.tgz")
    }
    assert not [release.name for release in releases if "repositoryOpts" in release.inputs or "version" in release.inputs]


def test_releases_come_from_repositories_by_default():
    releases = run_program(load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"), "dev").by_type(RELEASE)
    assert {release.inputs["chart"] for release in releases} == {"jupyterhub", "cert-manager", "openstack-cinder-csi"}
    assert all(release.inputs["repositoryOpts"]["repo"].startswith("https://") for release in releases)
