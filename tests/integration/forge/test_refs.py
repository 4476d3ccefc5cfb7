"""Resolving agent source refs with git ls-remote against a real local repository."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from atomesh.forge.errors import GitError, RefNotFound
from atomesh.forge.refs import resolve_ref


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    repo = git.Repo.init(tmp_path / "agents", initial_branch="main")
    (tmp_path / "agents" / "AGENT.md").write_text("be brief\n")
    repo.index.add(["AGENT.md"])
    repo.index.commit("first")
    repo.create_tag("v1", message="annotated")
    (tmp_path / "agents" / "AGENT.md").write_text("be briefer\n")
    repo.index.add(["AGENT.md"])
    repo.index.commit("second")
    return repo


def test_branch_tag_and_sha(repo: git.Repo) -> None:
    url = str(repo.working_dir)
    assert resolve_ref(url, "main") == repo.head.commit.hexsha
    assert resolve_ref(url, "v1") == repo.tags["v1"].commit.hexsha  # the commit, not the tag object
    assert resolve_ref(url, "v1") != repo.head.commit.hexsha
    sha = repo.tags["v1"].commit.hexsha
    assert resolve_ref(url, sha) == sha


def test_missing_ref_and_repo(repo: git.Repo, tmp_path: Path) -> None:
    with pytest.raises(RefNotFound, match="nope"):
        resolve_ref(str(repo.working_dir), "nope")
    with pytest.raises(GitError) as raised:
        resolve_ref(str(tmp_path / "missing"), "main")
    # git's whole message, not its last line (which is empty or a bare quote)
    assert "does not appear to be a git repository" in raised.value.detail
    assert "Could not read from remote repository" in raised.value.detail
    assert not raised.value.transient


def test_credentials_in_a_url_never_reach_the_error(tmp_path: Path) -> None:
    with pytest.raises(GitError) as raised:
        resolve_ref(f"http://user:s3cret@127.0.0.1:9/{tmp_path.name}.git", "main")
    assert "s3cret" not in str(raised.value)
    assert "s3cret" not in raised.value.detail
