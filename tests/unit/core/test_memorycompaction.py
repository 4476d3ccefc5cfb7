"""Memory compaction and shared Mesh memory, pure: when a compaction is proposed, the run it makes, one at a
time per Agent, its task and target; which memory a mesh node's run uses."""

from __future__ import annotations

from typing import Any

from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.context import AgentMemory
from atomesh.core.memory import shared_memory
from atomesh.core.memorycompaction import (
    compaction_in_progress,
    compaction_run_name,
    compaction_target,
    compaction_task,
    plan_compaction,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"
MEMORY = AgentMemory.model_validate({"path": ".atomesh/memory/guide", "maxBytes": 4000})


def lesson(name: str = "guide-1-r1-memory") -> AgentRun:
    return AgentRun.model_validate(
        {
            "metadata": {"name": name, "namespace": "team", "labels": {"atomesh.io/mesh": "m", "atomesh.io/run": name}},
            "spec": {
                "agentRef": {"name": "guide"},
                "input": {"topic": "greetings"},
                "trigger": {"kind": "memory", "source": "guide-1-r1"},
            },
        }
    )


def other_run(name: str, kind: str, phase: str | None) -> AgentRun:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"agentRef": {"name": "guide"}, "trigger": {"kind": kind}},
    }
    if phase is not None:
        body["status"] = {"phase": phase}
    return AgentRun.model_validate(body)


def test_the_threshold_defaults_to_three_quarters_of_max_bytes_and_never_exceeds_it() -> None:
    assert MEMORY.compaction_threshold() == 3000
    assert compaction_target(MEMORY) == 1500
    explicit = AgentMemory.model_validate({"maxBytes": 4000, "compaction": {"thresholdBytes": 2000}})
    assert explicit.compaction_threshold() == 2000
    too_high = AgentMemory.model_validate({"maxBytes": 4000, "compaction": {"thresholdBytes": 9000}})
    assert too_high.compaction_threshold() == 4000


def test_a_memory_past_its_bound_proposes_one_compaction_run() -> None:
    manifest = plan_compaction(lesson(), MEMORY, 3001, COMMIT, [])
    assert manifest is not None
    assert manifest["metadata"]["name"] == compaction_run_name("guide", COMMIT) == "guide-compaction-0123456789ab"
    assert manifest["metadata"]["labels"]["atomesh.io/trigger"] == "compaction"
    assert manifest["metadata"]["labels"]["atomesh.io/mesh"] == "m"
    assert manifest["metadata"]["labels"].get("atomesh.io/run") != "guide-1-r1-memory"  # not the lesson's
    assert manifest["spec"]["trigger"] == {"kind": "compaction", "source": "guide-1-r1-memory"}
    assert manifest["spec"]["input"] == {"topic": "greetings"}  # the lesson's input, valid for the Agent
    assert AgentRun.model_validate(manifest).spec.trigger.kind == "compaction"
    assert plan_compaction(lesson(), MEMORY, 3001, COMMIT, []) == manifest  # the same version: one run


def test_no_compaction_within_the_bound_or_when_suspended() -> None:
    assert plan_compaction(lesson(), MEMORY, 3000, COMMIT, []) is None
    suspended = MEMORY.model_copy(update={"compaction": MEMORY.compaction.model_copy(update={"suspend": True})})
    assert plan_compaction(lesson(), suspended, 10_000, COMMIT, []) is None


def test_one_compaction_at_a_time_per_agent() -> None:
    for phase in (None, "Pending", "Running", "AwaitingReview"):
        active = other_run("guide-compaction-aaaaaaaaaaaa", "compaction", phase)
        assert compaction_in_progress([active]) == "guide-compaction-aaaaaaaaaaaa"
        assert plan_compaction(lesson(), MEMORY, 9999, COMMIT, [active]) is None, phase
    finished = [other_run(f"c-{p.lower()}", "compaction", p) for p in ("Succeeded", "Rejected", "Failed", "Cancelled")]
    busy_lessons = [other_run("guide-2-r1-memory", "memory", "AwaitingReview")]
    assert compaction_in_progress(finished + busy_lessons) is None
    assert plan_compaction(lesson(), MEMORY, 9999, COMMIT, finished + busy_lessons) is not None


def test_the_compaction_task_names_the_folder_its_files_and_the_target() -> None:
    task = compaction_task(
        "guide", MEMORY, [(".atomesh/memory/guide/a.md", 2000), (".atomesh/memory/guide/b.md", 1200)]
    )
    assert "3200 bytes" in task
    assert "`.atomesh/memory/guide/SUMMARY.md`" in task
    assert "at most 1500 bytes" in task
    assert "- `.atomesh/memory/guide/b.md` (1200 bytes)" in task


def agent(memory: dict[str, Any] | None) -> Agent:
    spec: dict[str, Any] = {
        "purpose": "p",
        "instructions": "i",
        "output": {"artifact": "doc", "paths": ["docs/**"]},
        "workspace": {"repo": "a/b"},
        "harness": {"model": "claude-sonnet-4-5"},
    }
    if memory is not None:
        spec["memory"] = memory
    return Agent.model_validate({"metadata": {"name": "guide"}, "spec": spec})


def test_a_mesh_node_without_memory_of_its_own_uses_the_mesh_memory() -> None:
    shared = AgentMemory.model_validate({"path": ".atomesh/memory/mesh-docs"})
    node = shared_memory(agent(None), shared)
    assert node.spec.memory == shared
    own = agent({"path": ".atomesh/memory/guide"})
    assert shared_memory(own, shared) is own
    alone = agent(None)
    assert shared_memory(alone, None) is alone
