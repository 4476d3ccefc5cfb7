"""GitPython over smart HTTP against the emulator's bare repositories (the real `git http-backend`)."""

from __future__ import annotations

import base64

import git
import pytest
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def test_clone_and_push_with_a_token_show_up_in_the_api(
    github_emulator: GitHubEmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo_name = github_emulator.seed_sample_app()
    workdir = tmp_path_factory.mktemp("clone")
    clone = git.Repo.clone_from(github_emulator.clone_url(repo_name, github_emulator.bot_token), workdir)
    with clone:
        assert (workdir / "data" / "cities.csv").read_text().startswith("city,country,population")
        clone.git.checkout("-b", "atomesh/feature")
        (workdir / "README.md").write_text("# sample-app\n\nRewritten.\n")
        clone.index.add(["README.md"])
        actor = git.Actor("atomesh-bot", "bot@example.com")
        sha = clone.index.commit("Rewrite README", author=actor, committer=actor).hexsha
        clone.remote().push("atomesh/feature:atomesh/feature").raise_if_error()

    branch = github_emulator.client(github_emulator.bot_token).get_repo(repo_name).get_branch("atomesh/feature")
    assert branch.commit.sha == sha
    assert branch.commit.commit.message == "Rewrite README"


def test_bearer_extraheader_authenticates_like_github_actions(
    github_emulator: GitHubEmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo_name = github_emulator.seed_sample_app()
    basic = base64.b64encode(f"x-access-token:{github_emulator.bot_token}".encode()).decode()
    workdir = tmp_path_factory.mktemp("clone")
    for header in (f"Authorization: Basic {basic}", f"Authorization: Bearer {github_emulator.bot_token}"):
        target = workdir / header.split()[1]
        # Config through the environment keeps the token out of the command line and of .git/config.
        env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraheader", "GIT_CONFIG_VALUE_0": header}
        git.Repo.clone_from(github_emulator.clone_url(repo_name), target, env=env).close()
        assert (target / "README.md").is_file()


def test_bad_token_and_read_only_push_are_rejected(
    github_emulator: GitHubEmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo_name = github_emulator.seed_sample_app()
    with pytest.raises(git.GitCommandError) as bad:
        git.Repo.clone_from(
            github_emulator.clone_url(repo_name, "ghp_wrong"),
            tmp_path_factory.mktemp("bad"),
            env={"GIT_TERMINAL_PROMPT": "0"},
        )
    assert "Authentication failed" in bad.value.stderr or "401" in bad.value.stderr

    workdir = tmp_path_factory.mktemp("outsider")
    clone = git.Repo.clone_from(github_emulator.clone_url(repo_name, github_emulator.outsider_token), workdir)
    with clone:
        (workdir / "README.md").write_text("vandalised\n")
        clone.index.add(["README.md"])
        clone.index.commit("outsider change")
        with pytest.raises(git.GitCommandError) as denied:
            clone.remote().push("main:main").raise_if_error()
    assert "403" in str(denied.value) or "denied" in str(denied.value)
    assert github_emulator.emulator.branch_sha(repo_name, "main") != clone.head.commit.hexsha


def test_push_to_a_pull_request_branch_moves_its_head_and_sends_synchronize(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    receiver = github_emulator.webhook_receiver("s3cret", events=["pull_request"])
    repo_name = github_emulator.seed_sample_app()
    first = github_emulator.push_branch(repo_name, "atomesh/rev", {"docs/index.md": "# v1\n"})
    pr = (
        github_emulator.client(github_emulator.bot_token)
        .get_repo(repo_name)
        .create_pull(base="main", head="atomesh/rev", title="Docs", body="")
    )
    second = github_emulator.push_branch(repo_name, "atomesh/rev", {"docs/index.md": "# v2\n"})

    assert first != second
    assert pr.update()
    assert pr.head.sha == second
    actions = [d.action for d in github_emulator.wait_for_deliveries(2, event="pull_request")]
    assert actions == ["opened", "synchronize"]
    assert len(receiver.wait(2, event="pull_request")) == 2
