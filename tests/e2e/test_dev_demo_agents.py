"""`atomesh dev --demo --agent NAME` for every example agent in agents/: a real subprocess runs the
agent on the scripted model against demo/sample-app, and the demo exits 0 once its pull request,
carrying the verification surface of its artifact type, is merged (by the reviewer, or by atomesh
for an agent with `review.autoMerge`). An agent of the user's own, which the scripted model has no
turns for, fails with that reason instead of "succeeding" on a reply nobody wrote."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_dev_demo import (
    PROCESS_SECONDS,
    REPO_ROOT,
    assert_in_order,
    demo_command,
    demo_env,
    demo_process,
    harness_param,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Expected:
    artifact: str  # the "<type> artifact: <files>" line
    reviewers: str  # who the pull request asks for review
    surface: str  # the body's sections, in order
    check: str = "success"  # the review check run: neutral when nothing was checked (a doc without checks)
    merged_by: str = "reviewer"


EXPECTED = {
    "issue-triage": Expected(
        "doc artifact: docs/triage/issue-1.md",
        "maintainer",
        "Changed sections, Preview, Changes, Provenance",
        check="neutral",
    ),
    "bug-fix": Expected(
        "code artifact: src/sample_app/greeting.py, tests/test_greeting.py",
        "maintainer",
        "Changes, Checks, Provenance",
    ),
    "release-notes": Expected(
        "doc artifact: CHANGELOG.md", "maintainer", "Changed sections, Preview, Changes, Provenance", check="neutral"
    ),
    "dependency-bump": Expected(
        "code artifact: requirements.txt", "maintainer", "Changes, Checks, Provenance", merged_by="atomesh"
    ),
    "manifest-tuner": Expected(
        "config artifact: deploy/deployment.yaml", "team platform", "Key changes, Validation, Changes, Risky paths"
    ),
    "csv-cleaner": Expected("data artifact: data/customers.csv", "data-owner", "Table changes, Changes, Checks"),
    "landing-copy": Expected(
        "visual artifact: site/index.html", "maintainer", "Pages, Changes, Provenance", check="neutral"
    ),
    "pricing-sheet": Expected(
        "spreadsheet artifact: pricing/plans.xlsx", "data-owner", "Spreadsheets, Workbook checks, Changes, Provenance"
    ),
}


def example_agents() -> set[str]:
    return {
        doc["metadata"]["name"]
        for path in (REPO_ROOT / "agents").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc and doc["kind"] == "Agent"
    }


def test_every_example_agent_is_covered() -> None:
    assert set(EXPECTED) == example_agents()


@pytest.mark.parametrize(
    ("agent", "harness"),
    [
        *((agent, "litellm") for agent in sorted(EXPECTED)),
        pytest.param("manifest-tuner", "claude-code", marks=harness_param("claude-code", "claude").marks),
        pytest.param("manifest-tuner", "opencode", marks=harness_param("opencode", "opencode").marks),
    ],
)
def test_demo_runs_each_example_agent(tmp_path: Path, agent: str, harness: str) -> None:
    expected = EXPECTED[agent]
    with demo_process(tmp_path, "--agent", agent, "--harness", harness) as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, output
    demo_lines = "\n".join(line for line in output.splitlines() if line.startswith("demo "))
    assert_in_order(
        demo_lines,
        [
            f"applied Agent {agent} (harness {harness}, repository demo/sample-app)",
            f"created AgentRun {agent}-",
            "step agent done",
            "step publish done",
            expected.artifact,
            f'pull request #1 "[atomesh] {agent}: ',
            f"review requested from: {expected.reviewers})",
            f"surface: {expected.surface}",
            f"check runs: atomesh/{expected.artifact.split()[0]} {expected.check}",
            f": Succeeded, merged by {expected.merged_by}",
            "done in ",
        ],
    )
    assert "FAILED" not in output
    assert "Reviews may only be requested from collaborators" not in output


def test_an_agent_the_script_does_not_know_fails_with_the_reason(tmp_path: Path) -> None:
    triage = yaml.safe_load((REPO_ROOT / "agents" / "issue-triage.yaml").read_text(encoding="utf-8"))
    triage["metadata"] = {"name": "my-own-agent"}
    triage["spec"]["instructions"] = "Rename every variable in src/ to a single letter.\n"
    triage["spec"]["input"] = {"schema": {"type": "object"}}
    agents = tmp_path / "my-agents"
    agents.mkdir()
    (agents / "my-own-agent.yaml").write_text(yaml.safe_dump(triage), encoding="utf-8")
    command = demo_command("--agent", "my-own-agent", "--harness", "litellm")
    command[command.index("--agents") + 1] = str(agents)
    process = subprocess.run(
        command, cwd=tmp_path, env=demo_env(tmp_path), capture_output=True, text=True, timeout=PROCESS_SECONDS
    )
    output = process.stdout + process.stderr
    assert process.returncode == 1, output
    assert "demo       FAILED: AgentRun my-own-agent-" in output
    assert "ended Failed: ModelError:" in output
    assert "no scripted turn for this request (agent 'my-own-agent', harness litellm" in output
