"""GitHubForge reads a repository's listing from the GitHub emulator: the bytes of a memory folder (the contents
API lists each file with its size) and the session refs under a prefix (the git matching-refs API)."""

from __future__ import annotations

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.forge.github import GitHubForge

pytestmark = pytest.mark.integration
REPO = "demo/sample-app"


def test_folder_bytes_counts_every_file_under_the_folder(github_emulator: GitHubEmulatorHandle) -> None:
    github_emulator.seed_sample_app()
    files = {
        ".atomesh/memory/guide/a.md": "x" * 1200,
        ".atomesh/memory/guide/b.md": "é" * 100,  # bytes, not characters
        ".atomesh/memory/guide/old/c.md": "y" * 30,
        ".atomesh/memory/other/d.md": "z" * 999,
    }
    head = github_emulator.push_branch(REPO, "memory", files)
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token)
    assert forge.folder_bytes(REPO, head, ".atomesh/memory/guide") == 1200 + 200 + 30
    assert forge.folder_bytes(REPO, "memory", ".atomesh/memory/guide/") == 1430
    assert forge.folder_bytes(REPO, head, ".atomesh/memory/missing") == 0
    assert forge.folder_bytes(REPO, "main", ".atomesh/memory/guide") == 0


def test_refs_under_lists_only_the_refs_with_the_prefix(github_emulator: GitHubEmulatorHandle) -> None:
    github_emulator.seed_sample_app()
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token)
    assert forge.refs_under(REPO, "refs/atomesh/sessions/") == []
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)
    sha = repo.get_branch("main").commit.sha
    for name in ("run-2", "run-1", "run-10"):
        repo.create_git_ref(f"refs/atomesh/sessions/{name}", sha)
    repo.create_git_ref("refs/atomesh/sessionsx/run-3", sha)
    assert forge.refs_under(REPO, "refs/atomesh/sessions/") == [
        "refs/atomesh/sessions/run-1",
        "refs/atomesh/sessions/run-10",
        "refs/atomesh/sessions/run-2",
    ]
    assert forge.delete_ref(REPO, "refs/atomesh/sessions/run-1")
    assert forge.refs_under(REPO, "refs/atomesh/sessions/") == [
        "refs/atomesh/sessions/run-10",
        "refs/atomesh/sessions/run-2",
    ]
