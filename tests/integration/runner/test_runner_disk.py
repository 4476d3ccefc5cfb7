"""checkout → agent → publish against bare repositories on disk, publish into the in-memory forge."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import (
    RunnerPod,
    agent_spec,
    branches,
    commit_to,
    run_file,
    seed_bare_repo,
)

from atomesh.api.runfile import PublishSummary
from atomesh.forge.fake import FakeForge
from atomesh.runner.main import run_step

pytestmark = pytest.mark.integration

CHANGE = [
    {"match": {"contains": "Pinned instructions"}, "error": 429, "times": 2, "retryAfter": 0},
    {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": "# Guide\n\nWelcome.\n"}}]},
    {"tools": [{"tool": "edit_file", "input": {"path": "README.md", "old": "hello", "new": "hello, reader"}}]},
    {"text": "Wrote a guide and greeted the reader.", "usage": {"input_tokens": 100, "output_tokens": 20}},
]


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    base = tmp_path / "git"
    seed_bare_repo(base / "demo" / "app.git", {"README.md": "hello\n", "docs/index.md": "# Docs\n", "src/a.py": ""})
    return base


def pod_for(tmp_path: Path, origin: Path, model_url: str) -> RunnerPod:
    return RunnerPod(
        tmp_path / "pod", forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="sk-ant-disk"
    )


def test_pinned_source_change_and_revision(tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator) -> None:
    pinned = seed_bare_repo(origin / "demo" / "agents.git", {"docs-agent/AGENT.md": "Pinned instructions.\n"})
    commit_to(origin / "demo" / "agents.git", {"docs-agent/AGENT.md": "Newer instructions.\n"})
    emulator = anthropic_emulator(CHANGE)
    pod = pod_for(tmp_path, origin, emulator.url)
    spec = agent_spec(
        instructions=None,
        source={"repo": "demo/agents", "ref": "main", "path": "docs-agent"},
        review={"checks": [{"name": "guide-exists", "run": "test -f docs/guide.md"}], "labels": ["docs"]},
    )
    pod.write_run_file(run_file(spec=spec, agentCommit=pinned, agentRevision=f"main@sha1:{pinned}"))
    forge = FakeForge()

    assert pod.run("checkout").returncode == 0
    agent = pod.run("agent")
    assert agent.returncode == 0, agent.stderr
    prompt = emulator.requests[0].body["messages"][0]["content"]
    assert "Pinned instructions." in str(prompt)  # the pinned commit, not the branch tip
    assert "Newer instructions." not in str(prompt)
    assert [r.status for r in emulator.requests[:3]] == [429, 429, 200]  # the rate limit was survived
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0

    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.outcome == "published"
    assert summary.artifact is not None
    assert summary.artifact.branch == "atomesh/docs/docs-1"
    assert sorted(summary.artifact.files) == ["README.md", "docs/guide.md"]
    assert (summary.artifact.additions, summary.artifact.deletions) == (4, 1)
    assert summary.review is not None
    assert (summary.review.repo, summary.review.number) == ("demo/app", 1)
    assert summary.usage is not None
    assert summary.usage.turns == 3
    assert [c.name for c in summary.checks if c.passed] == ["guide-exists"]

    bare = git.Repo(origin / "demo" / "app.git")
    pushed = bare.commit("atomesh/docs/docs-1")
    assert pushed.hexsha == summary.artifact.commit
    for trailer in (
        "Atomesh-Agent: team-a/docs",
        "Atomesh-Run: team-a/docs-1",
        f"Atomesh-Agent-Revision: main@sha1:{pinned}",
        "Atomesh-Harness: litellm",
        "Atomesh-Model: claude-sonnet-4-5",
    ):
        assert trailer in str(pushed.message)
    pull = forge.pull("demo/app", 1)
    assert pull.request.head_branch == "atomesh/docs/docs-1"
    assert "docs" in pull.request.labels
    assert "docs/guide.md" in pull.request.body
    assert forge.check_runs[0].head_sha == pushed.hexsha
    assert forge.check_runs[0].conclusion == "success"

    # A revision: reviewers asked for changes; the new run continues the same branch and PR.
    revision_pod = pod_for(tmp_path / "rev", origin, "")
    fix = anthropic_emulator(
        [
            {"tools": [{"tool": "edit_file", "input": {"path": "docs/guide.md", "old": "Welcome.", "new": "Hi!"}}]},
            {"text": "Friendlier."},
        ]
    )
    revision_pod.model_base_url = fix.url
    feedback = [{"author": "ada", "body": "Say hi instead.", "path": "docs/guide.md", "line": 3}]
    revision_pod.write_run_file(
        run_file(run="docs-2", branch="atomesh/docs/docs-1", revisionOf="docs-1", revision=1, feedback=feedback)
    )
    assert revision_pod.run("checkout").returncode == 0
    assert (revision_pod.workspace / "docs/guide.md").read_text() == "# Guide\n\nWelcome.\n"  # the PR branch
    assert revision_pod.run("agent").returncode == 0
    # The revision resumes the session docs-1 stored: its turns first, then the task with the feedback.
    assert "@ada on docs/guide.md:3: Say hi instead." in fix.requests[0].last_user_text
    assert "Pinned instructions." in str(fix.requests[0].body["messages"][0]["content"])
    assert len(fix.requests[0].body["messages"]) > 1
    assert run_step("publish", revision_pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    revised = PublishSummary.model_validate(json.loads(revision_pod.termination("publish")))
    assert revised.review is not None
    assert revised.review.number == 1  # the same pull request, updated
    assert forge.pull("demo/app", 1).updates == 1
    assert bare.commit("atomesh/docs/docs-1").parents[0].hexsha == pushed.hexsha  # fast-forward, not rewritten
    assert revised.artifact is not None
    assert sorted(revised.artifact.files) == ["README.md", "docs/guide.md"]  # the whole PR against main


def test_no_changes_pushes_nothing(tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"text": "Everything is already fine."}])
    pod = pod_for(tmp_path, origin, emulator.url)
    pod.write_run_file(run_file())
    forge = FakeForge()
    assert pod.run("checkout").returncode == 0
    assert pod.run("agent").returncode == 0
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.outcome == "noChanges"
    assert branches(origin / "demo" / "app.git") == {"main"}
    assert forge.pulls == {}


def test_write_outside_output_paths_fails_and_pushes_nothing(
    tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator
) -> None:
    emulator = anthropic_emulator(
        [
            {"tools": [{"tool": "write_file", "input": {"path": "docs/ok.md", "content": "fine\n"}}]},
            {"tools": [{"tool": "write_file", "input": {"path": "src/evil.py", "content": "x = 1\n"}}]},
            {"tools": [{"tool": "run", "input": {"command": "git mv src/a.py src/b.py"}}]},
            {"text": "Done."},
        ]
    )
    pod = pod_for(tmp_path, origin, emulator.url)
    pod.write_run_file(run_file())
    forge = FakeForge()
    assert pod.run("checkout").returncode == 0
    assert pod.run("agent").returncode == 0
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 1
    message = pod.termination("publish")
    assert message.startswith("PathsNotAllowed: 3 file(s) outside spec.output.paths")
    assert "src/a.py, src/b.py, src/evil.py" in message  # a rename touches both paths
    assert "nothing was pushed" in message
    assert branches(origin / "demo" / "app.git") == {"main"}
    assert forge.pulls == {}


def test_checkout_of_a_missing_branch_names_the_field(tmp_path: Path, origin: Path) -> None:
    pod = pod_for(tmp_path, origin, "")
    pod.write_run_file(run_file(spec=agent_spec(workspace={"repo": "demo/app", "baseBranch": "nope"})))
    result = pod.run("checkout")
    assert result.returncode == 1
    assert pod.termination("checkout").startswith("CheckoutFailed: cannot clone demo/app at 'nope'")
    assert "spec.workspace.baseBranch" in result.stderr


def test_missing_environment_names_the_variable(tmp_path: Path) -> None:
    pod = RunnerPod(tmp_path / "pod")
    result = pod.run("agent", {"ATOMESH_RUN_FILE": ""})
    assert result.returncode == 1
    assert "InvalidRunFile: environment variable ATOMESH_RUN_FILE is not set" in result.stderr
    assert pod.termination("agent").startswith("InvalidRunFile: ")
