"""Agents, Meshes and AgentRuns as the cluster reports them, for the supervision planners' tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.api import Agent, AgentRun, Mesh
from atomesh.api.constants import LABEL_MESH

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


# The moment the builders' times are relative to: NOW for unit tests, the real time for a seeded cluster.
_clock = {"now": NOW}


def at(minutes_ago: float) -> str:
    return (_clock["now"] - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def agent(name: str, ready: str | None = "True", reason: str = "Reconciled", message: str = "", **spec: Any) -> Agent:
    conditions = (
        []
        if ready is None
        else [{"type": "Ready", "status": ready, "reason": reason, "message": message, "lastTransitionTime": at(90)}]
    )
    return Agent.model_validate(
        {
            "metadata": {"name": name, "namespace": "team-a", "creationTimestamp": at(600)},
            "spec": {
                "purpose": "fix bugs",
                "instructions": "fix it",
                "output": {"artifact": "code"},
                "workspace": {"repo": "demo/sample-app"},
                "harness": {"model": "claude-sonnet-4-5"},
                **spec,
            },
            "status": {"conditions": conditions},
        }
    )


def mesh(name: str, conditions: list[dict[str, str]] | None = None) -> Mesh:
    return Mesh.model_validate(
        {
            "metadata": {"name": name, "namespace": "team-a", "creationTimestamp": at(600)},
            "spec": {"agents": [{"name": "fix", "agentRef": {"name": "fixer"}}]},
            "status": {"conditions": [{**cond, "lastTransitionTime": at(30)} for cond in conditions or []]},
        }
    )


def run(
    name: str,
    agent_name: str = "fixer",
    phase: str = "Pending",
    created: float = 60,
    started: float | None = None,
    published: float | None = None,
    decided: float | None = None,
    completed: float | None = None,
    state: str | None = None,
    url: str | None = None,
    cost: float = 0.0,
    revision: int = 0,
    checks: bool | None = None,
    reason: str | None = None,
    message: str | None = None,
    mesh_name: str | None = None,
    revision_run: str | None = None,
    artifact: str = "code",
) -> AgentRun:
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    if started is not None:
        status["startTime"] = at(started)
    if completed is not None:
        status["completionTime"] = at(completed)
    if cost:
        status["usage"] = {"costUSD": cost}
    if published is not None or state is not None:
        status["artifact"] = {"type": artifact}
        review: dict[str, Any] = {"state": state or "open", "revision": revision, "url": url, "number": 1}
        if published is not None:
            review["publishedAt"] = at(published)
        if decided is not None:
            review["decidedAt"] = at(decided)
        if checks is not None:
            review["checksPassed"] = checks
        if revision_run:
            review["revisionRun"] = revision_run
        status["review"] = {key: value for key, value in review.items() if value is not None}
    labels = {LABEL_MESH: mesh_name} if mesh_name else {}
    return AgentRun.model_validate(
        {
            "metadata": {"name": name, "namespace": "team-a", "creationTimestamp": at(created), "labels": labels},
            "spec": {"agentRef": {"name": agent_name}},
            "status": status,
        }
    )


def scenario(now: datetime = NOW) -> tuple[list[Agent], list[Mesh], list[AgentRun]]:
    """A small fleet with something in every view, as of `now`: two reviews, a failure, a stuck run, an
    Agent not Ready, a Mesh over budget, and a history of merged and closed pull requests."""
    _clock["now"] = now
    try:
        return _scenario()
    finally:
        _clock["now"] = NOW


def _scenario() -> tuple[list[Agent], list[Mesh], list[AgentRun]]:
    agents = [
        agent("fixer"),
        agent("docs-writer", output={"artifact": "doc"}),
        agent("broken", ready="False", reason="WorkspaceUnresolvable", message="repository demo/gone not found"),
    ]
    meshes = [
        mesh(
            "release",
            [
                {
                    "type": "BudgetExceeded",
                    "status": "True",
                    "reason": "BudgetExceeded",
                    "message": "$10.40 of $10.00 today",
                }
            ],
        ),
    ]
    runs = [
        run("fixer-1", phase="Succeeded", created=900, started=890, published=860, decided=700, state="merged",
            url="https://github.com/demo/app/pull/1", cost=0.42, checks=True),
        run("fixer-2", phase="Rejected", created=800, started=790, published=770, decided=600, state="closed",
            url="https://github.com/demo/app/pull/2", cost=0.38, checks=False),
        run("fixer-3", phase="AwaitingReview", created=240, started=235, published=200,
            url="https://github.com/demo/app/pull/3", cost=0.51, checks=True, revision=1),
        run("fixer-4", phase="Failed", created=50, started=48, completed=40, reason="HarnessCrashed",
            message="claude exited with status 1", cost=0.05),
        run("fixer-5", phase="Running", created=120, started=118, reason="Running"),
        run("docs-1", agent_name="docs-writer", phase="AwaitingReview", created=30, started=29, published=20,
            url="https://github.com/demo/docs/pull/7", cost=0.12, mesh_name="release", artifact="doc"),
        run("docs-0", agent_name="docs-writer", phase="Succeeded", created=3000, started=2990, published=2980,
            decided=2900, state="merged", url="https://github.com/demo/docs/pull/6", cost=0.2, mesh_name="release",
            artifact="doc"),
    ]  # fmt: skip
    return agents, meshes, runs
