"""Memory runs against bare repositories on disk: each proposes its lesson as one file under the Agent's memory
folder (no model call), on its own branch; two proposed concurrently from the same base both merge cleanly,
and a later run reads the merged lessons as context."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import ACTOR, RunnerPod, agent_spec, run_file, seed_bare_repo

from atomesh.api.runfile import PublishSummary
from atomesh.forge.fake import FakeForge
from atomesh.runner.main import run_step

pytestmark = pytest.mark.integration

MEMORY = {"path": ".atomesh/memory/docs"}


def lesson_pod(root: Path, origin: Path, run: str, revised: str, body: str) -> RunnerPod:
    pod = RunnerPod(root, forge_git_url=f"file://{origin}", model_base_url="http://model.invalid", model_api_key="k-1")
    feedback = [{"author": "ada", "body": body, "path": "docs/index.md", "line": 1}]
    pod.write_run_file(
        run_file(
            run=run,
            spec=agent_spec(memory=MEMORY),
            trigger={"kind": "memory", "source": revised},
            feedback=feedback,
            branch=f"atomesh/docs/{run}",
        )
    )
    return pod


def propose(pod: RunnerPod, forge: FakeForge) -> PublishSummary:
    for step in ("checkout", "agent"):
        done = pod.run(step)
        assert done.returncode == 0, done.stderr
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    return PublishSummary.model_validate(json.loads(pod.termination("publish")))


def test_concurrent_lessons_both_survive_and_reach_the_next_run(
    tmp_path: Path, anthropic_emulator: StartEmulator
) -> None:
    origin = tmp_path / "git"
    bare = origin / "demo" / "app.git"
    seed_bare_repo(bare, {"README.md": "hello\n", "docs/index.md": "# Docs\n"})
    forge = FakeForge()
    # Both proposed from the same base, before either is merged.
    first = propose(lesson_pod(tmp_path / "a", origin, "docs-1-r1-memory", "docs-1-r1", "Say hi, not hello."), forge)
    second = propose(lesson_pod(tmp_path / "b", origin, "docs-2-r1-memory", "docs-2-r1", "Link the issue."), forge)
    for summary, path in ((first, "docs-1-r1"), (second, "docs-2-r1")):
        assert summary.artifact is not None
        assert summary.artifact.files == [f".atomesh/memory/docs/{path}.md"]
        assert summary.artifact.type == "doc"
    assert {"atomesh-memory"} <= set(forge.pull("demo/app", 1).request.labels)

    # A person merges both pull requests: no conflict, both lessons on main.
    clone = git.Repo.clone_from(str(bare), tmp_path / "merge")
    for branch in ("atomesh/docs/docs-1-r1-memory", "atomesh/docs/docs-2-r1-memory"):
        clone.git.merge(
            f"origin/{branch}",
            "--no-edit",
            env={
                "GIT_AUTHOR_NAME": ACTOR.name,
                "GIT_AUTHOR_EMAIL": ACTOR.email,
                "GIT_COMMITTER_NAME": ACTOR.name,
                "GIT_COMMITTER_EMAIL": ACTOR.email,
            },
        )
    clone.remote().push("HEAD:refs/heads/main").raise_if_error()
    lessons = sorted(p.name for p in (tmp_path / "merge" / ".atomesh" / "memory" / "docs").iterdir())
    assert lessons == ["docs-1-r1.md", "docs-2-r1.md"]

    # The next run of the agent receives both lessons; its provenance pins the memory commit.
    emulator = anthropic_emulator([{"text": "Nothing to change."}])
    pod = RunnerPod(
        tmp_path / "next", forge_git_url=f"file://{origin}", model_base_url=emulator.url, model_api_key="k-2"
    )
    pod.write_run_file(run_file(run="docs-3", spec=agent_spec(memory=MEMORY)))
    for step in ("checkout", "agent"):
        done = pod.run(step)
        assert done.returncode == 0, done.stderr
    system = str(emulator.requests[0].body.get("system"))
    assert "Say hi, not hello." in system
    assert "Link the issue." in system
    head = git.Repo(bare).commit("main").hexsha
    assert (pod.state / "memory.txt").read_text() == f"memory .atomesh/memory/docs@sha1:{head}"
