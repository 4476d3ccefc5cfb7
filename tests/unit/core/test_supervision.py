"""The review queue and the attention list, from objects as the cluster reports them."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.core.supervision_builders import NOW, agent, mesh, run

from atomesh.api import conditions as c
from atomesh.core.supervision import Thresholds, attention, review_queue


def test_review_queue_is_oldest_first_with_what_a_reviewer_needs() -> None:
    newer = run("b", phase="AwaitingReview", created=60, started=50, published=10, url="http://gh/pr/2", cost=0.5)
    older = run(
        "a", phase="AwaitingReview", created=300, started=290, published=200, url="http://gh/pr/1", checks=False,
        revision=2, mesh_name="docs", artifact="doc",
    )  # fmt: skip
    running = run("c", phase="Running", started=5)
    queue = review_queue([newer, running, older], NOW)
    assert [item.run for item in queue] == ["a", "b"]
    first = queue[0]
    assert (first.agent, first.mesh, first.artifact_type, first.verdict) == ("fixer", "docs", "doc", "failed")
    assert (first.revision, first.pr_url, first.age_seconds) == (2, "http://gh/pr/1", 200 * 60)
    assert (queue[1].verdict, queue[1].cost_usd) == ("none", 0.5)


def test_a_run_whose_revision_is_at_work_waits_on_the_revision_not_on_a_reviewer() -> None:
    waiting = run("a", phase="AwaitingReview", published=100, revision_run="a-r1", reason=c.CHANGES_REQUESTED)
    revision = run("a-r1", phase="Running", started=5)
    assert review_queue([waiting, revision], NOW) == []


def test_recent_failed_runs_come_first_with_their_reason_and_old_ones_are_history() -> None:
    recent = run("recent", phase="Failed", completed=30, reason=c.HARNESS_CRASHED, message="exit 3")
    old = run("old", phase="Failed", completed=60 * 48, reason=c.TIMEOUT)
    items = attention([], [], [recent, old], NOW)
    assert [(item.problem, item.name, item.reason, item.message) for item in items] == [
        ("Failed", "recent", c.HARNESS_CRASHED, "exit 3")
    ]
    assert items[0].age_seconds == 30 * 60


def test_a_paused_run_needs_someone_to_raise_its_budget_after_failures_and_before_stuck_runs() -> None:
    paused = run("paused", phase="Paused", started=90, reason=c.BUDGET_EXCEEDED_REASON, message="paused at its limit")
    failed = run("failed", phase="Failed", completed=30, reason=c.HARNESS_CRASHED)
    stuck = run("stuck", phase="Running", started=600, reason=c.RUNNING)
    items = attention([], [], [stuck, paused, failed], NOW)
    assert [(item.problem, item.name) for item in items] == [
        ("Failed", "failed"),
        ("Paused", "paused"),
        ("Stuck", "stuck"),
    ]
    assert (items[1].reason, items[1].message, items[1].age_seconds) == (
        c.BUDGET_EXCEEDED_REASON,
        "paused at its limit",
        90 * 60,
    )


def test_a_run_is_stuck_against_its_agents_usual_duration_and_never_before_the_floor() -> None:
    # fixer's runs usually take 10 minutes: 3 x 10 = 30 minutes is its limit.
    history = [run(f"h{i}", phase="Succeeded", started=500 + i, completed=490 + i) for i in range(3)]
    slow = run("slow", phase="Running", started=40, reason=c.RUNNING)
    fine = run("fine", phase="Running", started=25)
    # A new agent has no history: only the 15 minute floor applies.
    fresh = run("fresh", agent_name="new", phase="Pending", created=20, reason=c.POD_CREATED)
    young = run("young", agent_name="new", phase="Pending", created=10)
    queued = run("queued", phase="Pending", created=600, reason=c.QUEUED)
    items = attention([], [], [*history, slow, fine, fresh, young, queued], NOW)
    stuck = {item.name: item for item in items if item.problem == "Stuck"}
    assert sorted(stuck) == ["fresh", "slow"]
    assert "usual 600s" in stuck["slow"].message
    assert stuck["fresh"].reason == c.POD_CREATED


def test_review_overdue_past_the_threshold() -> None:
    overdue = run("overdue", phase="AwaitingReview", published=60 * 30)
    waiting = run("waiting", phase="AwaitingReview", published=60 * 2)
    items = attention([], [], [overdue, waiting], NOW, Thresholds(review_overdue=timedelta(hours=24)))
    assert [(item.problem, item.name) for item in items] == [("ReviewOverdue", "overdue")]


def test_agents_not_ready_and_meshes_stalled_or_over_budget_carry_their_condition() -> None:
    agents = [
        agent("ok"),
        agent("broken", ready="False", reason=c.WORKSPACE_UNRESOLVABLE, message="repository not found"),
        agent("unseen", ready=None),
    ]
    meshes = [
        mesh("calm"),
        mesh("stuck", [{"type": c.STALLED, "status": "True", "reason": c.INVALID_GRAPH, "message": "cycle a -> a"}]),
        mesh("spent", [{"type": c.BUDGET_EXCEEDED, "status": "True", "reason": c.BUDGET_EXCEEDED_REASON}]),
        mesh("within", [{"type": c.BUDGET_EXCEEDED, "status": "False", "reason": c.WITHIN_BUDGET}]),
    ]
    items = attention(agents, meshes, [], NOW)
    assert [(item.problem, item.kind, item.name, item.reason) for item in items] == [
        ("AgentNotReady", "Agent", "unseen", ""),  # the oldest first: unseen since it was created
        ("AgentNotReady", "Agent", "broken", c.WORKSPACE_UNRESOLVABLE),
        ("MeshStalled", "Mesh", "stuck", c.INVALID_GRAPH),
        ("MeshOverBudget", "Mesh", "spent", c.BUDGET_EXCEEDED_REASON),
    ]
    assert "not reconciled" in items[0].message
    assert items[1].message == "repository not found"
