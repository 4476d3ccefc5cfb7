"""The review loop's plan-apply pair on FakeKube and FakeForge: a look only when one was asked for,
a merge recorded with its Event and rollup, a revision run created and announced once, and a look
that failed kept for the retry."""

from __future__ import annotations

from typing import Any

import pytest
from controller_fakes import NAMESPACE, Events, agent_manifest, operator_context, writes_to

from atomesh.api import conditions as c
from atomesh.controller.agent import ROLLUP
from atomesh.controller.context import OperatorContext
from atomesh.controller.reconciler import Request
from atomesh.controller.review import ReviewState, reconcile_review
from atomesh.forge.errors import NotFound
from atomesh.forge.fake import FakeForge
from atomesh.forge.protocol import PullRequestRequest
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS

REPO = "acme/app"


def awaiting_review(name: str, number: int) -> dict[str, Any]:
    """Published before FakeForge's clock (2025-01-01) starts, so its reviews count as about this artifact."""
    agent = agent_manifest("fixer")
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"agentRef": {"name": "fixer"}},
        "status": {
            "phase": "AwaitingReview",
            "reason": c.AWAITING_REVIEW,
            "agent": {"name": "fixer", "spec": agent["spec"]},
            "review": {"repo": REPO, "number": number, "state": "open", "publishedAt": "2025-01-01T00:00:00Z"},
        },
    }


def waiting_run() -> tuple[OperatorContext, FakeKube, FakeForge, ReviewState, Events]:
    events = Events()
    ctx, kube = operator_context(events)
    ctx.workers.register(ROLLUP, lambda namespace, name: None)
    forge = FakeForge()
    pull = forge.open_or_update_pull_request(PullRequestRequest(REPO, "atomesh/fix-1", "main", "Fix", "body"))
    run = awaiting_review("fix-1", pull.number)
    kube.create(AGENT_RUNS, run)
    kube.patch_status(AGENT_RUNS, NAMESPACE, "fix-1", run["status"])
    state = ReviewState(forge)  # type: ignore[arg-type]  # the fake has no conditional GET: looks are full
    return ctx, kube, forge, state, events


def test_nothing_is_looked_at_unless_a_look_was_asked_for() -> None:
    ctx, kube, forge, state, events = waiting_run()
    forge.close(REPO, 1)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")
    assert (kube.get(AGENT_RUNS, NAMESPACE, "fix-1") or {})["status"]["phase"] == "AwaitingReview"
    assert list(events) == []


def test_a_merged_pull_request_succeeds_the_run_with_its_event_and_a_rollup() -> None:
    ctx, kube, forge, state, events = waiting_run()
    forge.merge(REPO, 1)
    state.want_look(NAMESPACE, "fix-1", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")
    status = (kube.get(AGENT_RUNS, NAMESPACE, "fix-1") or {})["status"]
    assert (status["phase"], status["reason"], status["review"]["state"]) == ("Succeeded", c.MERGED, "merged")
    assert [(type_, reason) for _, type_, reason, _ in events] == [("Normal", c.MERGED)]
    assert ctx.workers.queue.get(0) is None  # the rollup is a follow-up: it waits for its delay
    ctx.workers.queue.shut_down()
    assert ctx.workers.queue.get() == Request(ROLLUP, NAMESPACE, "fixer")


def test_changes_requested_create_one_revision_run_announced_once() -> None:
    ctx, kube, forge, state, events = waiting_run()
    forge.set_permission(REPO, "ana", "write")
    forge.add_review(REPO, 1, "ana", "Please rename it.", "CHANGES_REQUESTED")
    for _ in range(2):
        state.want_look(NAMESPACE, "fix-1", full=True)
        reconcile_review(ctx, state, NAMESPACE, "fix-1")
    runs = [run["metadata"]["name"] for run in kube.list(AGENT_RUNS, NAMESPACE)]
    assert sorted(runs) == ["fix-1", "fix-1-r1"]
    revision = kube.get(AGENT_RUNS, NAMESPACE, "fix-1-r1") or {}
    assert revision["spec"]["revisionOf"] == "fix-1"
    assert [comment for comment in forge.pull(REPO, 1).comments if "fix-1-r1" in comment] != []
    assert len(forge.pull(REPO, 1).comments) == 1
    status = (kube.get(AGENT_RUNS, NAMESPACE, "fix-1") or {})["status"]
    assert (status["reason"], status["review"]["revisionRun"]) == (c.CHANGES_REQUESTED, "fix-1-r1")
    assert events.reasons() == [c.CHANGES_REQUESTED]
    writes = writes_to(kube, "agentruns")
    state.want_look(NAMESPACE, "fix-1", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")
    assert writes_to(kube, "agentruns") == writes  # nothing new to record: no write


def test_a_look_that_failed_is_asked_for_again() -> None:
    ctx, _, forge, state, _ = waiting_run()
    forge.pulls.clear()
    state.want_look(NAMESPACE, "fix-1", full=True)
    with pytest.raises(NotFound):
        reconcile_review(ctx, state, NAMESPACE, "fix-1")
    assert state.take_look(NAMESPACE, "fix-1") is True


def test_a_writer_demoted_to_read_access_cannot_start_a_revision() -> None:
    """The permission cache serves comments, never the change request that would start a revision."""
    ctx, kube, forge, state, events = waiting_run()
    forge.set_permission(REPO, "ana", "write")
    forge.add_review(REPO, 1, "ana", "Looks plausible.")
    state.want_look(NAMESPACE, "fix-1", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")  # ana's write access is now cached
    assert state.can_write(REPO, "ana")
    forge.set_permission(REPO, "ana", "read")
    forge.add_review(REPO, 1, "ana", "Rewrite it all.", "CHANGES_REQUESTED")
    state.want_look(NAMESPACE, "fix-1", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")
    assert [run["metadata"]["name"] for run in kube.list(AGENT_RUNS, NAMESPACE)] == ["fix-1"]
    status = (kube.get(AGENT_RUNS, NAMESPACE, "fix-1") or {})["status"]
    assert (status["phase"], status["reason"]) == ("AwaitingReview", c.AWAITING_REVIEW)
    assert events.reasons() == []
    assert not state.can_write(REPO, "ana")  # the fresh answer replaced the cached one

    forge.set_permission(REPO, "ana", "write")  # promoted again: the same change request now counts
    state.want_look(NAMESPACE, "fix-1", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-1")
    assert sorted(run["metadata"]["name"] for run in kube.list(AGENT_RUNS, NAMESPACE)) == ["fix-1", "fix-1-r1"]


def merged_lesson(size: int) -> tuple[OperatorContext, FakeKube, FakeForge, ReviewState]:
    """A lesson run awaiting review whose pull request was merged, leaving `size` bytes of memory on main."""
    ctx, kube, forge, state, _ = waiting_run()
    agent = agent_manifest("fixer", memory={"path": ".atomesh/memory/fixer", "maxBytes": 4000})
    pull = forge.open_or_update_pull_request(PullRequestRequest(REPO, "atomesh/fix-1-memory", "main", "Lesson", "b"))
    lesson = awaiting_review("fix-1-r1-memory", pull.number)
    lesson["spec"] = {"agentRef": {"name": "fixer"}, "input": {"x": 1}, "trigger": {"kind": "memory"}}
    lesson["status"]["agent"]["spec"] = agent["spec"]
    kube.create(AGENT_RUNS, lesson)
    kube.patch_status(AGENT_RUNS, NAMESPACE, "fix-1-r1-memory", lesson["status"])
    forge.set_head(REPO, "main", "feedc0de" * 5)
    forge.folder_sizes[(REPO, ".atomesh/memory/fixer")] = size
    forge.merge(REPO, pull.number)
    state.want_look(NAMESPACE, "fix-1-r1-memory", full=True)
    return ctx, kube, forge, state


def test_a_merged_lesson_past_the_memory_bound_proposes_one_compaction() -> None:
    ctx, kube, forge, state = merged_lesson(3500)
    reconcile_review(ctx, state, NAMESPACE, "fix-1-r1-memory")
    compaction = kube.get(AGENT_RUNS, NAMESPACE, "fixer-compaction-feedc0defeed") or {}
    assert compaction["spec"]["trigger"] == {"kind": "compaction", "source": "fix-1-r1-memory"}
    assert compaction["spec"]["input"] == {"x": 1}
    (comment,) = forge.pull(REPO, 2).comments
    assert "3500 bytes, more than its bound of 3000" in comment
    # A later lesson merged while that compaction awaits review proposes no second one.
    kube.patch_status(AGENT_RUNS, NAMESPACE, "fixer-compaction-feedc0defeed", {"phase": "AwaitingReview"})
    forge.set_head(REPO, "main", "beefcafe" * 5)
    pull = forge.open_or_update_pull_request(PullRequestRequest(REPO, "atomesh/fix-2-memory", "main", "L2", "b"))
    second = awaiting_review("fix-2-r1-memory", pull.number)
    second["spec"] = {"agentRef": {"name": "fixer"}, "trigger": {"kind": "memory"}}
    second["status"]["agent"]["spec"] = (kube.get(AGENT_RUNS, NAMESPACE, "fix-1-r1-memory") or {})["status"]["agent"][
        "spec"
    ]
    kube.create(AGENT_RUNS, second)
    kube.patch_status(AGENT_RUNS, NAMESPACE, "fix-2-r1-memory", second["status"])
    forge.merge(REPO, pull.number)
    state.want_look(NAMESPACE, "fix-2-r1-memory", full=True)
    reconcile_review(ctx, state, NAMESPACE, "fix-2-r1-memory")
    compactions = [
        r["metadata"]["name"] for r in kube.list(AGENT_RUNS, NAMESPACE) if "compaction" in r["metadata"]["name"]
    ]
    assert compactions == ["fixer-compaction-feedc0defeed"]


def test_a_merged_lesson_within_the_bound_proposes_nothing() -> None:
    ctx, kube, _, state = merged_lesson(3000)
    reconcile_review(ctx, state, NAMESPACE, "fix-1-r1-memory")
    assert (kube.get(AGENT_RUNS, NAMESPACE, "fix-1-r1-memory") or {})["status"]["phase"] == "Succeeded"
    assert sorted(r["metadata"]["name"] for r in kube.list(AGENT_RUNS, NAMESPACE)) == ["fix-1", "fix-1-r1-memory"]


def test_a_compaction_of_the_same_shared_memory_by_another_agent_holds_the_proposal() -> None:
    ctx, kube, _, state = merged_lesson(3500)
    writer = agent_manifest("writer", memory={"path": ".atomesh/memory/fixer", "maxBytes": 4000})
    other = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": "writer-compaction-aaaaaaaaaaaa", "namespace": NAMESPACE},
        "spec": {"agentRef": {"name": "writer"}, "trigger": {"kind": "compaction"}},
    }
    kube.create(AGENT_RUNS, other)
    status = {"phase": "AwaitingReview", "agent": {"name": "writer", "spec": writer["spec"]}}
    kube.patch_status(AGENT_RUNS, NAMESPACE, "writer-compaction-aaaaaaaaaaaa", status)
    reconcile_review(ctx, state, NAMESPACE, "fix-1-r1-memory")
    assert (kube.get(AGENT_RUNS, NAMESPACE, "fix-1-r1-memory") or {})["status"]["phase"] == "Succeeded"
    assert kube.get(AGENT_RUNS, NAMESPACE, "fixer-compaction-feedc0defeed") is None
