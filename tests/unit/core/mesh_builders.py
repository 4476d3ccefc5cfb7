"""Meshes, Agents and AgentRuns for the mesh planner tests, and a tiny in-memory cluster that applies plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.constants import ANNOTATION_QUEUED, LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.api.mesh import Mesh
from atomesh.core.meshplan import MeshPlan, plan_mesh

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
MESH = "release"


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def agent(name: str, ready: bool = True) -> Agent:
    return Agent.model_validate(
        {
            "metadata": {"name": name, "namespace": "team", "generation": 1},
            "spec": {
                "purpose": f"{name} things.",
                "instructions": "Do it.",
                "output": {"artifact": "code"},
                "workspace": {"repo": "acme/app"},
                "harness": {"model": "claude-sonnet-4-5"},
            },
            "status": {
                "conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "X"}],
                "specHash": "abc",
            },
        }
    )


def agents(*names: str) -> dict[str, Agent]:
    return {name: agent(name) for name in names}


def mesh(
    nodes: list[str],
    edges: list[dict[str, Any]] | None = None,
    *,
    limits: dict[str, Any] | None = None,
    suspend: bool = False,
    name: str = MESH,
) -> Mesh:
    return Mesh.model_validate(
        {
            "metadata": {"name": name, "namespace": "team", "generation": 3},
            "spec": {
                "agents": [{"name": node, "agentRef": {"name": node}} for node in nodes],
                "edges": edges or [],
                "limits": limits or {},
                "suspend": suspend,
            },
        }
    )


def run(
    name: str,
    node: str,
    *,
    execution: str | None = "ex1",
    phase: str | None = None,
    review: dict[str, Any] | None = None,
    cost: float = 0.0,
    created: datetime = NOW,
    completed: datetime | None = None,
    input_: dict[str, Any] | None = None,
    queued: str | None = None,
    artifact: dict[str, Any] | None = None,
    agent_name: str | None = None,
) -> AgentRun:
    labels = {LABEL_MESH: MESH, LABEL_MESH_NODE: node}
    if execution:
        labels[LABEL_MESH_EXECUTION] = execution
    body: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": "team",
            "labels": labels,
            "annotations": {ANNOTATION_QUEUED: queued} if queued else {},
            "creationTimestamp": stamp(created),
        },
        "spec": {"agentRef": {"name": agent_name or node}, "input": input_ or {}},
    }
    if phase is not None:
        status: dict[str, Any] = {"phase": phase, "usage": {"costUSD": cost}}
        if review is not None:
            status["review"] = review
        if artifact is not None:
            status["artifact"] = artifact
        if completed is not None:
            status["completionTime"] = stamp(completed)
        body["status"] = status
    return AgentRun.model_validate(body)


def merged(number: int = 1, commit: str = "m1") -> dict[str, Any]:
    return {
        "url": f"https://github.test/acme/app/pull/{number}",
        "number": number,
        "state": "merged",
        "mergeCommit": commit,
    }


class Cluster:
    """AgentRuns as the API server would hold them after the operator applied each plan."""

    def __init__(self, runs: list[AgentRun] | None = None) -> None:
        self.runs: dict[str, AgentRun] = {item.metadata.name: item for item in runs or []}
        self.created: list[str] = []
        self.clock = NOW

    def plan(self, target: Mesh, known: dict[str, Agent], now: datetime | None = None) -> MeshPlan:
        return plan_mesh(target, known, list(self.runs.values()), now or self.clock)

    def apply(self, plan: MeshPlan, *, stop_after: int | None = None) -> int:
        """Apply the plan's steps in order; `stop_after` simulates a crash after that many writes."""
        writes = 0
        for planned in plan.create:
            if stop_after is not None and writes >= stop_after:
                return writes
            if planned.name not in self.runs:  # AlreadyExists otherwise
                self.clock += timedelta(seconds=1)
                body = planned.manifest("team")
                body["metadata"]["creationTimestamp"] = stamp(self.clock)
                self.runs[planned.name] = AgentRun.model_validate(body)
                self.created.append(planned.name)
            writes += 1
        for adoption in plan.adopt:
            if stop_after is not None and writes >= stop_after:
                return writes
            current = self.runs[adoption.run]
            patch = adoption.patch()["metadata"]
            labels = {**current.metadata.labels, **patch["labels"]}
            annotations = {**current.metadata.annotations, **patch["annotations"]}
            self.runs[adoption.run] = current.model_copy(
                update={"metadata": current.metadata.model_copy(update={"labels": labels, "annotations": annotations})}
            )
            writes += 1
        for name in plan.release:
            if stop_after is not None and writes >= stop_after:
                return writes
            current = self.runs[name]
            annotations = {k: v for k, v in current.metadata.annotations.items() if k != ANNOTATION_QUEUED}
            self.runs[name] = current.model_copy(
                update={"metadata": current.metadata.model_copy(update={"annotations": annotations})}
            )
            writes += 1
        return writes

    def set_phase(self, name: str, phase: str, review: dict[str, Any] | None = None, cost: float = 0.0) -> None:
        current = self.runs[name]
        status: dict[str, Any] = {"phase": phase, "usage": {"costUSD": cost}, "completionTime": stamp(self.clock)}
        if review is not None:
            status["review"] = review
        body = current.model_dump(mode="json", by_alias=True, exclude_none=True)
        body["status"] = status
        self.runs[name] = AgentRun.model_validate(body)

    def active(self) -> list[str]:
        """Runs that would have a pod: Pending/Running and not queued, in an execution."""
        return [
            name
            for name, item in self.runs.items()
            if (item.status is None or item.status.phase in ("Pending", "Running"))
            and not item.metadata.annotations.get(ANNOTATION_QUEUED)
            and item.metadata.labels.get(LABEL_MESH_EXECUTION)
        ]
