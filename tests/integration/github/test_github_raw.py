"""`GET /{owner}/{repo}/raw/{ref}/{path}` as github.com serves it: a file's bytes at a branch, commit or full
ref name (slashes in the ref resolved by trying the shortest leading part first), images with their media type,
everything sandboxed."""

from __future__ import annotations

import urllib.error
import urllib.request

import git
import pytest
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def fetch(url: str) -> tuple[int, str, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers["Content-Type"], response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read(), dict(error.headers)


def test_raw_serves_files_of_branches_commits_and_custom_refs(github_emulator: GitHubEmulatorHandle) -> None:
    gh = github_emulator
    slug = gh.seed_sample_app()
    sha = gh.push_branch(slug, "feature/pages", {"site/index.html": "<h1>Hi</h1>\n"})
    clone = git.Repo.clone_from(gh.clone_url(slug, gh.bot_token), gh.emulator.root / "raw-clone")
    with clone:
        (gh.emulator.root / "raw-clone" / "shot.png").write_bytes(PNG)
        clone.index.add(["shot.png"])
        actor = git.Actor("atomesh", "atomesh@users.noreply.github.com")
        assets = clone.index.commit("assets", author=actor, committer=actor)
        clone.remote().push(f"{assets.hexsha}:refs/atomesh/assets/run-1").raise_if_error()
    base = f"{gh.web_url}/{slug}/raw"

    status, kind, body, headers = fetch(f"{base}/feature/pages/site/index.html")
    assert (status, kind, body) == (200, "text/plain; charset=utf-8", b"<h1>Hi</h1>\n")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert fetch(f"{base}/{sha}/site/index.html")[2] == b"<h1>Hi</h1>\n"

    status, kind, body, _ = fetch(f"{base}/refs/atomesh/assets/run-1/shot.png")
    assert (status, kind, body) == (200, "image/png", PNG)
    assert fetch(f"{base}/{assets.hexsha}/shot.png")[2] == PNG

    assert fetch(f"{base}/main/no/such/file")[0] == 404
    assert fetch(f"{base}/--output=x/README.md")[0] == 404
    assert fetch(f"{gh.web_url}/demo/no-such-repo/raw/main/README.md")[0] == 404
