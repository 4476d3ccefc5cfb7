"""The emulator's HTML view (what a person uses during `atomesh dev`) and its other merge methods."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def open_pr(gh: GitHubEmulatorHandle, branch: str, files: dict[str, str]) -> int:
    repo = gh.seed_sample_app()
    gh.push_branch(repo, branch, files)
    return int(
        gh.client(gh.bot_token).get_repo(repo).create_pull(base="main", head=branch, title="T", body="**B**").number
    )


def post(url: str, form: dict[str, str]) -> str:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as response:
        return str(response.read().decode())


def test_pull_request_page_shows_body_and_diff(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/web", {"config/app.yaml": "server:\n  port: 9090\n"})
    with urllib.request.urlopen(f"{github_emulator.web_url}/demo/sample-app/pull/{number}") as response:
        page = response.read().decode()
    assert "**B**" in page
    assert "<span class='add'>+  port: 9090</span>" in page
    assert "Request changes" in page
    assert "Merge" in page
    with urllib.request.urlopen(f"{github_emulator.web_url}/") as response:
        assert f"/demo/sample-app/pull/{number}" in response.read().decode()


def test_buttons_act_as_the_reviewer(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/web", {"README.md": "# changed\n"})
    base = f"{github_emulator.web_url}/demo/sample-app/pull/{number}"
    post(f"{base}/review", {"event": "REQUEST_CHANGES", "body": "Say why"})
    post(f"{base}/merge", {})

    pr = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app").get_pull(number)
    assert [(r.user.login, r.state, r.body) for r in pr.get_reviews()] == [("reviewer", "CHANGES_REQUESTED", "Say why")]
    assert (pr.merged, pr.merged_by.login) == (True, "reviewer")


@pytest.mark.parametrize(("method", "parents"), [("squash", 1), ("rebase", 1), ("merge", 2)])
def test_merge_methods(github_emulator: GitHubEmulatorHandle, method: str, parents: int) -> None:
    number = open_pr(github_emulator, "atomesh/m", {"data/cities.csv": "city,country,population\nLima,PE,1\n"})
    pr = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    sha = pr.merge(merge_method=method).sha
    repo = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app")
    commit = repo.get_commit(sha)
    assert len(commit.parents) == parents
    assert repo.get_contents("data/cities.csv").decoded_content.endswith(b"Lima,PE,1\n")
    assert repo.get_branch("main").commit.sha == sha
