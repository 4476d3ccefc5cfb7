"""Memory compaction end to end with the LiteLLM loop: a merged lesson leaves the memory past its bound, the
operator measures it on the forge and proposes a compaction run, whose harness summarises the memory folder
into an `atomesh-memory` pull request a person merges; no second compaction is proposed meanwhile."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.review.conftest import ReviewStack, edit_turns

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]


def test_a_memory_past_its_bound_is_compacted_in_a_pull_request(review_stack: ReviewStack) -> None:
    stack = review_stack
    ns = stack.namespace
    folder = f".atomesh/memory/keeper-{ns}"
    summary = "# Memory\n\n- Add an example.\n"
    compaction = [
        {"tools": [{"tool": "write_file", "input": {"path": f"{folder}/SUMMARY.md", "content": summary}}]},
        {"tools": [{"tool": "run", "input": {"command": f"rm {folder}/keeper-1-r1.md"}}]},
        {"text": "Summarised one lesson.", "usage": {"input_tokens": 300, "output_tokens": 20}},
    ]
    stack.script(
        edit_turns({f"docs/{ns}/keep.md": "# Keep\n"}, "Added a page."),
        edit_turns({f"docs/{ns}/keep.md": "# Keep\n\nAn example.\n"}, "Added an example."),
        compaction,
    )
    manifest = stack.agent("keeper", "doc", ["docs/**"])
    # A lesson is a few hundred bytes: the first one passes the bound of 150 bytes.
    manifest["spec"]["memory"] = {"path": folder, "maxBytes": 200}
    stack.apply(manifest)
    stack.start_run("keeper-1", "keeper")
    number = stack.awaiting_review("keeper-1")["review"]["number"]
    stack.pull(number).create_review(body="Please add an example.", event="REQUEST_CHANGES")
    stack.awaiting_review("keeper-1-r1")
    assert stack.pull(number).merge().merged
    lesson = stack.awaiting_review("keeper-1-r1-memory")
    lesson_pull = stack.pull(lesson["review"]["number"])
    assert lesson_pull.merge().merged
    assert stack.finished("keeper-1-r1-memory")["phase"] == "Succeeded"

    def compaction_run() -> dict[str, Any] | None:
        found = [run for run in stack.runs() if run["spec"].get("trigger", {}).get("kind") == "compaction"]
        return found[0] if found else None

    run = stack.wait_until("a compaction run to be proposed", compaction_run)
    name = run["metadata"]["name"]
    assert name.startswith("keeper-compaction-")
    assert run["spec"]["trigger"]["source"] == "keeper-1-r1-memory"
    status = stack.awaiting_review(name, timeout=150)
    assert sorted(status["artifact"]["files"]) == [f"{folder}/SUMMARY.md", f"{folder}/keeper-1-r1.md"]
    pull = stack.pull(status["review"]["number"])
    assert "atomesh-memory" in {label.name for label in pull.labels}
    comments = [comment.body for comment in lesson_pull.get_issue_comments()]
    assert any("more than its bound of 150" in body and name in body for body in comments), comments
    assert stack.model is not None
    task = next(
        str(r.body["messages"][0]["content"])
        for r in stack.model.requests
        if "SUMMARY.md" in str(r.body.get("messages", [{}])[0].get("content"))
    )
    assert "at most 75 bytes" in task
    assert pull.merge().merged
    assert stack.finished(name)["phase"] == "Succeeded"
    assert [r["metadata"]["name"] for r in stack.runs() if "compaction" in r["metadata"]["name"]] == [name]
    stack.assert_no_secrets()
