"""Task composition is pure and carries everything the agent needs."""

from __future__ import annotations

from typing import Any

from atomesh.api.runfile import RunFile
from atomesh.runner.task import compose_task


def run_file(**extra: Any) -> RunFile:
    spec = {
        "purpose": "Keep the changelog current.",
        "instructions": "Add an entry.",
        "output": {"artifact": "doc", "paths": ["CHANGELOG.md", "docs/**"]},
        "workspace": {"repo": "demo/app"},
        "harness": {"kind": "litellm", "model": "claude-sonnet-4-5"},
    }
    data: dict[str, Any] = {
        "namespace": "team",
        "run": "changelog-1",
        "agent": "changelog",
        "spec": spec,
        "branch": "atomesh/changelog/changelog-1",
        "input": {"version": "1.2.0", "notes": ["fix"]},
    }
    data.update(extra)
    return RunFile.model_validate(data)


def test_first_run_task() -> None:
    task = compose_task(run_file(), "Add an entry for the release.")
    assert task.prompt.startswith("# Task\n\nAdd an entry for the release.")
    assert "Keep the changelog current." in task.prompt
    assert '"version": "1.2.0"' in task.prompt
    assert "`CHANGELOG.md`, `docs/**`" in task.prompt
    assert "doc artifact" in task.prompt
    assert "Review feedback" not in task.prompt
    assert "'changelog'" in task.system_prompt
    assert compose_task(run_file(), "Add an entry for the release.") == task


def test_revision_task_lists_feedback() -> None:
    feedback = [
        {"author": "ada", "body": "Mention the fix number.", "path": "CHANGELOG.md", "line": 3},
        {"author": "bob", "body": "  "},
    ]
    task = compose_task(run_file(revisionOf="changelog-0", revision=1, feedback=feedback), "Add an entry.")
    assert "## Review feedback (revision 1)" in task.prompt
    assert "- @ada on CHANGELOG.md:3: Mention the fix number." in task.prompt
    assert "- @bob: (no text)" in task.prompt
