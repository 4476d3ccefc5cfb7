"""`atomesh dev --demo --mesh triage-fix-release` as a user runs it: the whole stack in a subprocess,
the three example agents on the scripted model, each pull request merged by the reviewer, exit 0
once every node has Succeeded, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_dev_demo import assert_in_order, demo_process, group_gone, harness_param

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PROCESS_SECONDS = 300.0

STEPS = [
    "applied Agent bug-fix (harness {harness}",
    "applied Mesh triage-fix-release (edges: triage -> fix (accepted), fix -> release-notes (accepted))",
    "Mesh triage-fix-release is Ready (3/3 agents ready)",
    "started mesh triage-fix-release: AgentRun triage-fix-release-",
    "doc artifact: docs/triage/issue-1.md",
    "reviewer merged pull request #1",
    ": Succeeded, merged by reviewer",
    "node fix: AgentRun triage-fix-release-",
    "(trigger triage-fix-release/triage->fix)",
    "code artifact: src/sample_app/greeting.py, tests/test_greeting.py\n",
    "reviewer merged pull request #2",
    "node release-notes: AgentRun triage-fix-release-",
    "(trigger triage-fix-release/fix->release-notes)",
    "doc artifact: CHANGELOG.md",
    "reviewer merged pull request #3",
    ": Succeeded, merged by reviewer",
    "every node of mesh triage-fix-release has Succeeded",
    "done in ",
]


@pytest.mark.parametrize(
    "harness", ["litellm", harness_param("claude-code", "claude"), harness_param("opencode", "opencode")]
)
def test_mesh_demo_runs_every_node(tmp_path: Path, harness: str) -> None:
    with demo_process(tmp_path, "--mesh", "triage-fix-release", "--harness", harness) as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, output
    demo_lines = "\n".join(
        line.removeprefix("demo ").strip() for line in output.splitlines() if line.startswith("demo ")
    )
    assert_in_order(demo_lines + "\n", [step.format(harness=harness) for step in STEPS])
    assert "FAILED" not in output
    for secret_prefix in ("ghp_", "sk-ant-"):
        assert secret_prefix not in output
    assert group_gone(process.pid)


def test_an_unknown_mesh_is_reported_before_anything_starts(tmp_path: Path) -> None:
    with demo_process(tmp_path, "--mesh", "no-such-mesh") as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 2, output
    assert "--mesh no-such-mesh: no Mesh of that name" in output
    assert "triage-fix-release" in output
    assert not (tmp_path / ".atomesh").exists()
