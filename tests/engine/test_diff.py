"""`hubctl diff` with the engine: the resources as the real providers diff them, where the change table could not
tell. A new server image replaces every server (the boot volume's source is create-only), which offline can only
say as "update or replace": the change table has seen a server's blockDevices change in place too (a hub renamed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..test_diff import Repository, _rows, _setter


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    return Repository(tmp_path_factory.mktemp("hub-repo"))


def test_the_engine_decides_what_the_change_table_could_not(repo: Repository, tmp_path: Path):
    head = repo.change("new image", _setter("cloud.imageId", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"))
    offline = {row[2]: row[0] for row in _rows(repo.diff(repo.base, head))}
    assert offline["hub-cluster-worker-1"] == "update or replace"
    markdown = repo.diff(repo.base, head, "--out", str(tmp_path / "comment.md"))
    assert "Resources: the real providers' diff" in markdown
    real = {row[2]: row[0] for row in _rows(markdown)}
    assert {real[f"hub-cluster-worker-{n}"] for n in (1, 2, 3)} == {"replace"}
    assert real["hub-cluster-control-plane"] == "replace" and "hub-shared-data-volume-volume" not in real
    assert (tmp_path / "comment.md").read_text() == markdown
