"""Memory from review, pure: which merged runs propose a lesson, the memory run they make, the lesson file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRun, Feedback
from atomesh.api.context import AgentMemory
from atomesh.core.memory import build_memory_run, lesson_path, memory_patterns, render_lesson


def spec(memory: dict[str, Any] | None = None) -> AgentSpec:
    data: dict[str, Any] = {
        "purpose": "p",
        "instructions": "i",
        "output": {"artifact": "doc", "paths": ["docs/**"]},
        "workspace": {"repo": "a/b"},
        "harness": {"model": "claude-sonnet-4-5"},
    }
    if memory is not None:
        data["memory"] = memory
    return AgentSpec.model_validate(data)


def run(name: str = "guide-1-r1", **spec_: Any) -> AgentRun:
    body = {
        "agentRef": {"name": "guide"},
        "input": {"topic": "greetings"},
        "trigger": {"kind": "revision", "source": "guide-1"},
        "revisionOf": "guide-1",
        "feedback": [{"author": "ada", "body": "Please add an example.", "path": "docs/a.md", "line": 3}],
    }
    body.update(spec_)
    return AgentRun.model_validate(
        {"metadata": {"name": name, "namespace": "team", "labels": {"atomesh.io/mesh": "m"}}, "spec": body}
    )


def test_a_merged_revision_proposes_its_feedback_as_a_memory_run() -> None:
    manifest = build_memory_run(run(), spec({}))
    assert manifest is not None
    assert manifest["metadata"]["name"] == "guide-1-r1-memory"
    assert manifest["metadata"]["labels"]["atomesh.io/trigger"] == "memory"
    assert manifest["metadata"]["labels"]["atomesh.io/mesh"] == "m"
    assert manifest["spec"]["trigger"] == {"kind": "memory", "source": "guide-1-r1"}
    assert manifest["spec"]["input"] == {"topic": "greetings"}
    assert manifest["spec"]["feedback"][0]["body"] == "Please add an example."
    assert "revisionOf" not in manifest["spec"]
    assert AgentRun.model_validate(manifest).spec.trigger.kind == "memory"
    assert build_memory_run(run(), spec({})) == manifest  # deterministic: applied twice, created once


def test_nothing_to_learn_without_memory_feedback_or_a_revision_and_never_from_a_lesson() -> None:
    assert build_memory_run(run(), spec()) is None
    assert build_memory_run(run(feedback=[]), spec({})) is None
    assert build_memory_run(run(revisionOf=None), spec({})) is None
    lesson = run(trigger={"kind": "memory", "source": "guide-1"})
    assert build_memory_run(lesson, spec({})) is None


def test_each_lesson_is_its_own_file_so_concurrent_lessons_never_collide() -> None:
    memory = AgentMemory(path=".atomesh/memory/guide/")
    assert lesson_path(memory, "guide-1-r1") == ".atomesh/memory/guide/guide-1-r1.md"
    assert lesson_path(memory, "guide-1-r1") != lesson_path(memory, "guide-2-r1")
    assert memory_patterns(memory) == [".atomesh/memory/guide/**"]


def test_the_lesson_quotes_the_reviewers_with_where_they_commented() -> None:
    text = render_lesson(
        "guide",
        "guide-1-r1",
        [
            Feedback(author="ada", body="Please  add\nan example.", path="docs/a.md", line=3),
            Feedback(author="bo", body=""),
        ],
    )
    assert text.startswith("# Lesson from the review of guide-1-r1\n")
    assert "- Please add an example. (on docs/a.md:3) — @ada" in text
    assert "- (no text) — @bo" in text


def test_an_agent_may_accept_its_lessons_without_a_reviewer_but_never_over_an_objection() -> None:
    from atomesh.core.reviewloop import PullObservation, ReviewItem, decide_review

    lesson = AgentRun.model_validate(
        {
            "metadata": {"name": "guide-1-r1-memory", "namespace": "team"},
            "spec": {"agentRef": {"name": "guide"}, "trigger": {"kind": "memory", "source": "guide-1-r1"}},
            "status": {
                "phase": "AwaitingReview",
                "review": {"number": 4, "repo": "a/b", "publishedAt": "2026-11-24T10:00:00Z", "checksPassed": True},
            },
        }
    )
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    opened = PullObservation(open=True, merged=False)
    assert decide_review(lesson, spec({"autoAccept": True}), opened, [], now=now).action == "merge"
    assert decide_review(lesson, spec({}), opened, [], now=now).action == "wait"
    assert decide_review(run(), spec({"autoAccept": True}), opened, [], now=now).action == "wait"  # not a lesson
    objection = ReviewItem(
        author="ada", body="No.", submitted_at="2026-11-24T11:00:00Z", can_write=True, verdict="CHANGES_REQUESTED"
    )
    assert decide_review(lesson, spec({"autoAccept": True}), opened, [objection], now=now).action != "merge"
