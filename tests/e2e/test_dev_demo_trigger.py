"""`atomesh dev --demo --trigger`: the reviewer opens an issue in the GitHub emulator, its signed
`issues` webhook reaches the operator, issue-triage's event trigger starts the run, and the demo
follows it to a merged pull request (a real subprocess, as a user runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_dev_demo import PROCESS_SECONDS, assert_in_order, demo_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_opened_issue_triggers_issue_triage_through_to_a_merged_pull_request(tmp_path: Path) -> None:
    with demo_process(tmp_path, "--trigger") as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, output
    demo_lines = "\n".join(line for line in output.splitlines() if line.startswith("demo "))
    assert_in_order(
        demo_lines,
        [
            "applied Agent issue-triage (harness litellm, repository demo/sample-app)",
            "Agent issue-triage is Ready",
            'reviewer opened issue #1: greet("") greets nobody',
            "the issues webhook started AgentRun issue-triage-opened-",
            '(trigger opened, input {"issue": 1, "summary": "greet(\\"\\") greets nobody"})',
            "step publish done",
            "doc artifact: docs/triage/issue-1.md",
            ": Succeeded, merged by reviewer",
            "done in ",
        ],
    )
    assert "created AgentRun" not in demo_lines, "the run must come from the trigger, not from the demo"
    assert "FAILED" not in output


def test_trigger_needs_the_demo(tmp_path: Path) -> None:
    with demo_process(tmp_path, "--trigger", "--mesh", "triage-fix-release") as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode != 0
    assert "--trigger runs with --demo (and an Agent, not --mesh)" in output
