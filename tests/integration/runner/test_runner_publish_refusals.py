"""Publish against the GitHub emulator when GitHub refuses part of it: a reviewer who is not a
collaborator does not fail the run, and publishing again finds the pull request already open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

from atomesh.api.runfile import PublishSummary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHANGE = [
    {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": "# Guide\n\nHi.\n"}}]},
    {"text": "Added a guide."},
]


def test_publish_survives_a_refused_reviewer_and_finds_its_pull_request_again(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    slug = github_emulator.seed_sample_app()
    github_emulator.emulator.add_user("stranger")  # a GitHub user with no access to the repository
    model = anthropic_emulator(CHANGE)
    pod = RunnerPod(
        tmp_path / "pod",
        forge_api_url=github_emulator.url,
        forge_git_url=github_emulator.git_url,
        forge_token=github_emulator.bot_token,
        model_base_url=model.url,
        model_api_key="sk-ant-refusals",
    )
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"},
        review={"reviewers": ["stranger", github_emulator.reviewer]},
    )
    pod.write_run_file(run_file(spec=spec))
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    first = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert first.outcome == "published"
    assert first.review is not None

    again = pod.run("publish")  # a retried step: the commit is there, and so is the pull request
    assert again.returncode == 0, again.stderr
    second = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert second.review is not None
    assert second.review.number == first.review.number

    repo = github_emulator.client(github_emulator.bot_token).get_repo(slug)
    assert [p.number for p in repo.get_pulls(state="all")] == [first.review.number]
    pull = repo.get_pull(first.review.number)
    assert [u.login for u in pull.requested_reviewers] == [github_emulator.reviewer]
