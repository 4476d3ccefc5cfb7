"""A compaction run against a bare repository on disk: the harness (the LiteLLM loop, through the model
emulator) is asked to summarise the memory folder, the summary replaces the lessons in an `atomesh-memory`
pull request that touches only the memory folder (even a memory past maxBytes, which the compaction reads in
its workspace rather than as context), and a summary over its target fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file, seed_bare_repo

from atomesh.api import conditions as c
from atomesh.api.runfile import PublishSummary
from atomesh.forge.fake import FakeForge
from atomesh.runner.main import run_step

pytestmark = pytest.mark.integration

FOLDER = ".atomesh/memory/docs"
# Compaction above 1500 bytes, into at most 750; the lessons hold more than maxBytes, as after one large lesson.
MEMORY = {"path": FOLDER, "maxBytes": 2000}
LESSONS = {f"{FOLDER}/docs-{i}-r1.md": f"# Lesson {i}\n\n" + "Say hi, not hello. " * 50 for i in range(1, 4)}
SUMMARY = "# Memory of docs\n\n- Say hi, not hello.\n"


def compaction_pod(root: Path, origin: Path, model_url: str) -> RunnerPod:
    pod = RunnerPod(root, forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="k-1")
    pod.write_run_file(
        run_file(
            run="docs-compaction-0123456789ab",
            spec=agent_spec(memory=MEMORY),
            trigger={"kind": "compaction", "source": "docs-3-r1-memory"},
            branch="atomesh/docs/docs-compaction-0123456789ab",
        )
    )
    return pod


def seeded(tmp_path: Path) -> Path:
    origin = tmp_path / "git"
    seed_bare_repo(origin / "demo" / "app.git", {"README.md": "hello\n", **LESSONS})
    return origin


def test_a_compaction_replaces_the_lessons_with_a_summary(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    remove = "rm " + " ".join(LESSONS)
    emulator = anthropic_emulator(
        [
            {"tools": [{"tool": "write_file", "input": {"path": f"{FOLDER}/SUMMARY.md", "content": SUMMARY}}]},
            {"tools": [{"tool": "run", "input": {"command": remove}}]},
            {"text": "Merged three lessons into SUMMARY.md."},
        ]
    )
    pod = compaction_pod(tmp_path / "pod", seeded(tmp_path), emulator.url)
    for step in ("checkout", "agent"):
        done = pod.run(step)
        assert done.returncode == 0, done.stderr
    task = str(emulator.requests[0].body["messages"][0]["content"])
    assert f"`{FOLDER}/SUMMARY.md`" in task
    assert "at most 750 bytes" in task
    assert f"- `{FOLDER}/docs-2-r1.md` (" in task
    forge = FakeForge()
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.artifact is not None
    assert summary.artifact.type == "doc"
    assert sorted(summary.artifact.files) == sorted([f"{FOLDER}/SUMMARY.md", *LESSONS])
    assert "atomesh-memory" in forge.pull("demo/app", 1).request.labels


def test_a_summary_over_its_target_fails_the_run(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator(
        [
            {"tools": [{"tool": "write_file", "input": {"path": f"{FOLDER}/SUMMARY.md", "content": SUMMARY}}]},
            {"text": "Wrote a summary and kept the lessons."},
        ]
    )
    pod = compaction_pod(tmp_path / "pod", seeded(tmp_path), emulator.url)
    assert pod.run("checkout").returncode == 0
    done = pod.run("agent")
    assert done.returncode != 0
    message = pod.termination("agent")
    assert message.startswith(f"{c.MEMORY_COMPACTION_TOO_LARGE}: ")
    assert "more than its target of 750" in message
