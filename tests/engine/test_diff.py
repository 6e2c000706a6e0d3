"""`hubctl diff` with the engine: the resources as the real providers diff them, where the change table could not
tell. A hub renamed replaces every server (the key pair's name is in their create-only arguments), which offline
can only say as "update or replace" for the workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..test_diff import Repository, _rows, _setter


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    return Repository(tmp_path_factory.mktemp("hub-repo"))


def test_the_engine_decides_what_the_change_table_could_not(repo: Repository, tmp_path: Path):
    head = repo.change("renamed", _setter("name", "atmos-course-2027"))
    offline = {row[2]: row[0] for row in _rows(repo.diff(repo.base, head))}
    assert offline["hub-cluster-worker-1"] == "update or replace"
    markdown = repo.diff(repo.base, head, "--out", str(tmp_path / "comment.md"))
    assert "Resources: the real providers' diff" in markdown
    real = {row[2]: row[0] for row in _rows(markdown)}
    assert {real[f"hub-cluster-worker-{n}"] for n in (1, 2, 3)} == {"replace"}
    assert real["hub-cluster-control-plane"] == "replace" and real["hub-shared-data-volume-volume"] == "update"
    assert "the hub's address changes" in markdown
    assert (tmp_path / "comment.md").read_text() == markdown
