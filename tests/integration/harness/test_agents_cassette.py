"""The scripted model `atomesh dev` plays (cassettes/agents.yaml) takes every example agent through
a first run and a revision with each harness, in a copy of demo/sample-app: the first run makes
the agent's artifact, the revision (a task with review feedback, on the first run's result)
changes it further, and both end on the agent's own summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
import yaml
from tests.fixtures.anthropic import REPO_ROOT, find_cli
from tests.integration.harness.harness_support import changed, harness_env

from atomesh.commands.dev import agents_cassette
from atomesh.commands.examples import DEMO_INPUTS
from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.devstack.github import SAMPLE_FILES
from atomesh.harness import HarnessLimits, ModelAccess, Task, build_harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Per agent: what the first run changes, and what the revision changes on top of it.
EXPECTED = {
    "issue-triage": ({"docs/triage/issue-1.md": "A"}, {"docs/triage/issue-1.md": "M"}),
    "bug-fix": (
        {"src/sample_app/greeting.py": "M", "tests/test_greeting.py": "M"},
        {"src/sample_app/greeting.py": "M"},
    ),
    "release-notes": ({"CHANGELOG.md": "M"}, {"CHANGELOG.md": "M"}),
    "dependency-bump": ({"requirements.txt": "M"}, {"requirements.txt": "M"}),
    "manifest-tuner": ({"deploy/deployment.yaml": "M"}, {"deploy/deployment.yaml": "M"}),
    "csv-cleaner": ({"data/customers.csv": "M"}, {"data/customers.csv": "M"}),
    "landing-copy": ({"site/index.html": "M"}, {"site/index.html": "M"}),
    "pricing-sheet": ({"pricing/plans.xlsx": "M"}, {"pricing/plans.xlsx": "M"}),
}
HARNESSES = [
    "litellm",
    pytest.param("claude-code", marks=pytest.mark.skipif(not find_cli("claude"), reason="claude not installed")),
    pytest.param("opencode", marks=pytest.mark.skipif(not find_cli("opencode"), reason="opencode not installed")),
]


def example(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((REPO_ROOT / "agents" / f"{name}.yaml").read_text(encoding="utf-8"))
    return manifest


def task(manifest: dict[str, Any], revision: bool) -> Task:
    """The task as the runner words it (atomesh.runner.task): instructions, input, and for a revision
    the reviewers' feedback."""
    spec = manifest["spec"]
    prompt = (
        f"# Task\n\n{spec['instructions'].strip()}\n\n## Purpose\n\n{spec['purpose']}\n\n"
        f"## Input\n\n```json\n{json.dumps(DEMO_INPUTS[manifest['metadata']['name']], indent=2)}\n```\n"
    )
    if revision:
        prompt += "\n## Review feedback (revision 1)\n\n- @maintainer: Please go one step further.\n"
    system = f"You are the atomesh agent {manifest['metadata']['name']!r}, running unattended in a sandbox."
    return Task(prompt, system)


def sample_app(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    for name, content in SAMPLE_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        (path / name).write_bytes(data)
    commit_all(repo, "Initial commit")
    return repo


def commit_all(repo: git.Repo, message: str) -> None:
    repo.git.add("--all")
    actor = git.Actor("test", "test@example.com")
    repo.index.commit(message, author=actor, committer=actor)


@pytest.mark.parametrize("kind", HARNESSES)
@pytest.mark.parametrize("agent", sorted(EXPECTED))
def test_a_first_run_and_a_revision(tmp_path: Path, agent: str, kind: str) -> None:
    manifest = example(agent)
    first, revised = EXPECTED[agent]
    workspace = tmp_path / "ws"
    repo = sample_app(workspace)
    with AnthropicEmulator(agents_cassette()) as emulator:
        access = ModelAccess(
            model="claude-sonnet-4-5",
            base_url=emulator.url,
            api_key="sk-ant-demo",
            allowed_tools=tuple(manifest["spec"]["harness"].get("allowedTools") or ()),
        )
        limits = HarnessLimits(max_turns=8, timeout_seconds=120)
        harness = build_harness(kind, access)
        result = harness.run(task(manifest, revision=False), workspace, limits, harness_env())
        assert result.ok, result.message
        assert changed(repo) == first, (result.final_text, [(r.turn, r.status) for r in emulator.requests])
        commit_all(repo, "the first run's change")
        revision = harness.run(task(manifest, revision=True), workspace, limits, harness_env())
        assert revision.ok, revision.message
        assert changed(repo) == revised, [(r.turn, r.status) for r in emulator.requests]
        assert "as the review asked" in revision.final_text
        assert all(r.status == 200 for r in emulator.requests), [r.status for r in emulator.requests]
