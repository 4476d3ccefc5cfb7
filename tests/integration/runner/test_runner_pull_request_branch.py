"""Publish onto someone's pull request (run file `ontoPullRequest`, from AgentRun spec.pullRequest)
against the GitHub emulator: the commit lands on the pull request's head branch, no pull request is
opened or retitled, and a closed pull request is refused before anything is pushed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

from atomesh.api import conditions as c
from atomesh.api.runfile import PublishSummary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL_KEY = "sk-ant-onto-pull"
FIX = [
    {"tools": [{"tool": "write_file", "input": {"path": "docs/fixed.md", "content": "# Fixed\n"}}]},
    {"text": "Fixed the failing check."},
]


def test_a_run_onto_a_pull_request_pushes_a_commit_to_its_head_branch_and_opens_none(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    slug = github_emulator.seed_sample_app()
    before = github_emulator.push_branch(slug, "feature/greeting", {"README.md": "changed\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(slug)
    pull = repo.create_pull(base="main", head="feature/greeting", title="Greeting", body="Mine.")
    pod = RunnerPod.on_github(tmp_path / "pod", github_emulator, anthropic_emulator(FIX).url, MODEL_KEY)
    spec = agent_spec(workspace={"repo": slug, "baseBranch": "main"})
    pod.write_run_file(run_file(spec=spec, branch="feature/greeting", pullRequest=pull.number, ontoPullRequest=True))
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"

    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None
    assert summary.artifact is not None
    assert (summary.review.number, summary.artifact.branch) == (pull.number, "feature/greeting")
    assert summary.message == f"pushed to pull request #{pull.number} with 1 changed file(s)"
    after = repo.get_pull(pull.number)
    assert after.head.sha == summary.artifact.commit != before
    assert repo.get_commit(after.head.sha).parents[0].sha == before  # a commit on top, nothing rewritten
    assert (after.title, after.body) == ("Greeting", "Mine.")
    assert [p.number for p in repo.get_pulls(state="all")] == [pull.number]
    [comment] = list(after.get_issue_comments())
    assert "docs/fixed.md" in comment.body


def test_a_closed_pull_request_is_refused_before_anything_is_pushed(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    slug = github_emulator.seed_sample_app()
    before = github_emulator.push_branch(slug, "feature/closed", {"README.md": "changed\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(slug)
    pull = repo.create_pull(base="main", head="feature/closed", title="Closed", body="")
    pod = RunnerPod.on_github(tmp_path / "pod", github_emulator, anthropic_emulator(FIX).url, MODEL_KEY)
    spec = agent_spec(workspace={"repo": slug, "baseBranch": "main"})
    pod.write_run_file(run_file(spec=spec, branch="feature/closed", pullRequest=pull.number, ontoPullRequest=True))
    for step in ("checkout", "agent"):
        assert pod.run(step).returncode == 0
    pull.edit(state="closed")

    result = pod.run("publish")
    assert result.returncode == 1
    assert pod.termination("publish") == (
        f"{c.PULL_REQUEST_BRANCH_REFUSED}: will not push to {slug}#{pull.number} (spec.pullRequest): "
        "it is closed; nothing was pushed"
    )
    assert repo.get_branch("feature/closed").commit.sha == before
