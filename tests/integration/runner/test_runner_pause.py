"""Pause, not kill, through the real runner steps: a run that reaches its token limit ends its agent step
with what it has, publish keeps its session and work at the run's session ref and publishes nothing; the
next attempt, with the limit raised, gets both back, counts the earlier spend, and publishes the whole change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, branches, run_file, seed_bare_repo

from atomesh.api.runfile import PublishSummary
from atomesh.forge.fake import FakeForge
from atomesh.runner.main import run_step

pytestmark = pytest.mark.integration

GUIDE = "# Guide\n\nWelcome.\n"
FIRST = [
    {
        "tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": GUIDE}}],
        "usage": {"input_tokens": 500, "output_tokens": 20},
    },
    # This answer crosses the limit: the loop stops before running its tool, at the turn boundary.
    {
        "tools": [{"tool": "write_file", "input": {"path": "docs/never.md", "content": "x"}}],
        "usage": {"input_tokens": 1400, "output_tokens": 20},
    },
]
SECOND = [{"text": "Finished the guide.", "usage": {"input_tokens": 600, "output_tokens": 10}}]


def pod_for(root: Path, origin: Path, model_url: str, **run: Any) -> RunnerPod:
    pod = RunnerPod(root, forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="sk-ant-pause")
    pod.write_run_file(run_file(**run))
    return pod


def test_a_run_at_its_limit_pauses_keeps_its_work_and_resumes(
    tmp_path: Path, anthropic_emulator: StartEmulator
) -> None:
    origin = tmp_path / "git"
    bare = origin / "demo" / "app.git"
    seed_bare_repo(bare, {"README.md": "hello\n"})
    forge = FakeForge()
    first_model = anthropic_emulator(FIRST)
    pod = pod_for(
        tmp_path / "pod-1", origin, first_model.url, spec=agent_spec(limits={"timeout": "2m", "maxTokens": 1500})
    )
    assert pod.run("checkout").returncode == 0
    agent = pod.run("agent")
    assert agent.returncode == 0, agent.stderr  # a pause is no failure: publish must run
    assert json.loads((pod.state / "paused.json").read_text())["reason"] == "TokensExceeded"
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    paused = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert (paused.outcome, paused.reason, paused.artifact) == ("paused", "TokensExceeded", None)
    assert paused.usage is not None
    assert (paused.usage.input_tokens, paused.usage.output_tokens, paused.usage.turns) == (1900, 40, 2)
    assert "refs/atomesh/sessions/docs-1" in paused.message
    assert branches(bare) == {"main"}
    assert forge.pulls == {}
    session = git.Repo(bare).commit("refs/atomesh/sessions/docs-1")
    (work,) = session.parents
    assert (work.tree / "docs/guide.md").data_stream.read().decode() == GUIDE
    assert "docs/never.md" not in [blob.path for blob in work.tree.traverse()]  # type: ignore[union-attr]

    # The limit raised, the next attempt: the work is back, the session resumed, the spend counted.
    second_model = anthropic_emulator(SECOND)
    resumed = pod_for(
        tmp_path / "pod-2",
        origin,
        second_model.url,
        spec=agent_spec(limits={"timeout": "2m", "maxTokens": 10_000}),
        attempt=2,
        spent=paused.usage.model_dump(by_alias=True),
    )
    assert resumed.run("checkout").returncode == 0
    assert (resumed.workspace / "docs/guide.md").read_text() == GUIDE
    assert git.Repo(resumed.workspace).head.commit.hexsha == work.parents[0].hexsha
    agent = resumed.run("agent")
    assert agent.returncode == 0, agent.stderr
    (request,) = second_model.requests
    messages = request.body["messages"]
    assert "docs/guide.md" in json.dumps(messages[:-1]), "the earlier turns were not resumed"
    assert "Resumed (attempt 2)" in request.last_user_text
    assert run_step("publish", resumed.env("publish"), forge_factory=lambda ctx: forge) == 0
    published = PublishSummary.model_validate(json.loads(resumed.termination("publish")))
    assert published.outcome == "published"
    assert published.artifact is not None
    assert published.artifact.files == ["docs/guide.md"]
    assert published.usage is not None  # over both attempts
    assert (published.usage.input_tokens, published.usage.output_tokens, published.usage.turns) == (2500, 50, 3)
