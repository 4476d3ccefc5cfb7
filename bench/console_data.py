"""Generated fleet data for the console benchmark and its screenshots: Agents, Meshes and AgentRuns with the
status the operator would have written, deterministic for a seed.

Runs spread over the last seven days; phases in proportions a busy fleet shows (most merged, some rejected,
failed or cancelled, a few hundred awaiting review, a few running); some Agents not Ready, some Meshes over
budget or stalled; mesh runs labelled with their mesh, node and execution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.constants import LABEL_AGENT, LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE, LABEL_TRIGGER

ARTIFACTS = ("code", "doc", "config", "data")
PURPOSES = ("Fix flaky tests", "Refresh the API docs", "Bump pinned versions", "Update the price table")
FAILURES = (
    (c.HARNESS_CRASHED, "claude exited with status 1: overloaded"),
    (c.MAX_TURNS_REACHED, "stopped after 30 turns"),
    (c.PATHS_NOT_ALLOWED, "src/secret.py is outside output.paths"),
    (c.TIMEOUT, "the run exceeded limits.timeout 15m"),
    (c.CHECKOUT_FAILED, "fatal: couldn't find remote ref release"),
)
# Phase -> weight, out of 1000.
PHASES = {
    "Succeeded": 560,
    "Rejected": 120,
    "Failed": 80,
    "Cancelled": 30,
    "AwaitingReview": 30,
    "Running": 12,
    "Pending": 4,
}


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fleet:
    namespaces: list[str]
    agents: list[dict[str, Any]]
    meshes: list[dict[str, Any]]
    runs: list[dict[str, Any]]


def _condition(type_: str, status: str, reason: str, message: str, at: datetime) -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": rfc3339(at)}


def _agent(index: int, namespace: str, now: datetime, rng: random.Random) -> dict[str, Any]:
    artifact = ARTIFACTS[index % len(ARTIFACTS)]
    ready = rng.random() > 0.03
    condition = (
        _condition(c.READY, c.TRUE, c.RECONCILED, "", now - timedelta(days=3))
        if ready
        else _condition(
            c.READY, c.FALSE, c.WORKSPACE_UNRESOLVABLE, "repository demo/retired not found", now - timedelta(hours=5)
        )
    )
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": f"{artifact}-agent-{index:03d}", "namespace": namespace},
        "spec": {
            "purpose": PURPOSES[index % len(PURPOSES)],
            "instructions": "Do the task in the input.",
            "input": {"schema": {"type": "object", "properties": {"issue": {"type": "integer"}}}},
            "output": {"artifact": artifact, "paths": ["**"]},
            "workspace": {"repo": f"demo/service-{index % 25:02d}", "baseBranch": "main"},
            "harness": {"kind": "litellm", "model": "claude-sonnet-4-5"},
            "suspend": rng.random() < 0.02,
        },
        "status": {"conditions": [condition], "revision": f"inline@{index:08x}"},
    }


def _mesh(index: int, namespace: str, agents: list[str], now: datetime, rng: random.Random) -> dict[str, Any]:
    nodes = [{"name": f"step-{n}", "agentRef": {"name": agent}} for n, agent in enumerate(agents)]
    edges = [{"from": "step-0", "to": "step-1"}, {"from": "step-0", "to": "step-2", "when": "completed"}]
    edges.append({"from": "step-1", "to": "step-3"})
    conditions = [_condition(c.READY, c.TRUE, c.RECONCILED, "", now - timedelta(days=2))]
    roll = rng.random()
    if roll < 0.08:
        conditions.append(
            _condition(c.BUDGET_EXCEEDED, c.TRUE, c.BUDGET_EXCEEDED_REASON, "$41.20 of $40.00 today", now)
        )
    elif roll < 0.12:
        conditions.append(_condition(c.STALLED, c.TRUE, c.AGENTS_NOT_READY, "step-2's Agent is not Ready", now))
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Mesh",
        "metadata": {"name": f"release-train-{index:02d}", "namespace": namespace},
        "spec": {"agents": nodes, "edges": edges, "limits": {"maxCostUSDPerDay": 40.0}},
        "status": {
            "conditions": conditions,
            "agentsReady": len(nodes),
            "agentsTotal": len(nodes),
            "agentsSummary": f"{len(nodes)}/{len(nodes)}",
            "lastExecution": f"x{index:02d}-latest",
            "activeRuns": 1,
            "awaitingReview": 1,
            "pendingReviews": [{"run": f"release-train-{index:02d}-step-1", "node": "step-1"}],
            "costTodayUSD": round(rng.uniform(2, 40), 2),
        },
    }


def _run_status(
    phase: str, artifact: str, created: datetime, number: int, repo: str, rng: random.Random
) -> dict[str, Any]:
    start = created + timedelta(seconds=rng.randint(2, 30))
    status: dict[str, Any] = {"phase": phase, "startTime": rfc3339(start)}
    cost = round(rng.uniform(0.02, 1.8), 4)
    worked = timedelta(seconds=rng.randint(120, 1500))
    if phase in ("Pending", "Running"):
        status["reason"] = c.RUNNING if phase == "Running" else c.POD_CREATED
        return status
    status["usage"] = {"inputTokens": rng.randint(5000, 90000), "outputTokens": rng.randint(300, 8000), "costUSD": cost}
    if phase in ("Failed", "Cancelled"):
        reason, message = rng.choice(FAILURES) if phase == "Failed" else (c.CANCELLED, "cancelled by spec.cancel")
        status.update(reason=reason, message=message, completionTime=rfc3339(start + worked))
        if phase == "Failed":
            status["failure"] = {"step": "agent", "exitCode": 1, "reason": reason, "message": message}
        return status
    published = start + worked
    review: dict[str, Any] = {
        "provider": "github",
        "repo": repo,
        "url": f"https://github.com/{repo}/pull/{number}",
        "number": number,
        "state": "open",
        "publishedAt": rfc3339(published),
        "checksPassed": rng.random() > 0.15,
        "revision": 1 if rng.random() < 0.12 else 0,
    }
    status["artifact"] = {"type": artifact, "branch": f"atomesh/run-{number}", "additions": rng.randint(1, 300)}
    status["reason"] = c.AWAITING_REVIEW
    if phase in ("Succeeded", "Rejected"):
        decided = published + timedelta(minutes=rng.randint(5, 60 * 30))
        review.update(state="merged" if phase == "Succeeded" else "closed", decidedAt=rfc3339(decided), decidedBy="ada")
        status.update(reason=c.MERGED if phase == "Succeeded" else c.CLOSED, completionTime=rfc3339(decided))
    status["review"] = review
    return status


def generate(
    agents: int = 500, meshes: int = 50, runs: int = 20_000, seed: int = 7, now: datetime | None = None
) -> Fleet:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    namespaces = [f"team-{n:02d}" for n in range(10)]
    agent_objects = [_agent(i, namespaces[i % len(namespaces)], now, rng) for i in range(agents)]
    by_namespace: dict[str, list[str]] = {}
    for agent in agent_objects:
        by_namespace.setdefault(agent["metadata"]["namespace"], []).append(agent["metadata"]["name"])
    mesh_objects = []
    for j in range(meshes):
        namespace = namespaces[j % len(namespaces)]
        mesh_objects.append(_mesh(j, namespace, rng.sample(by_namespace[namespace], 4), now, rng))
    phases, weights = list(PHASES), list(PHASES.values())
    run_objects = []
    for n in range(max(0, runs - 3 * meshes)):
        agent = agent_objects[rng.randrange(len(agent_objects))]
        labels = {LABEL_AGENT: agent["metadata"]["name"], LABEL_TRIGGER: "schedule"}
        phase = rng.choices(phases, weights)[0]
        if phase in ("Running", "Pending"):
            created = now - timedelta(minutes=rng.randint(1, 90))
        elif phase == "AwaitingReview":
            created = now - timedelta(hours=rng.uniform(0.2, 40))
        else:
            created = now - timedelta(hours=rng.uniform(0.5, 24 * 7))
        run_objects.append(
            {
                "apiVersion": "atomesh.io/v1alpha1",
                "kind": "AgentRun",
                "metadata": {
                    "name": f"{agent['metadata']['name']}-{n:05d}",
                    "namespace": agent["metadata"]["namespace"],
                    "labels": labels,
                },
                "spec": {
                    "agentRef": {"name": agent["metadata"]["name"]},
                    "input": {"issue": n},
                    "trigger": {"kind": "schedule"},
                },
                "status": _run_status(
                    phase, agent["spec"]["output"]["artifact"], created, n + 1, agent["spec"]["workspace"]["repo"], rng
                ),
            }
        )
    # The latest execution of each mesh: its root merged, one branch in review, one still running.
    for j, mesh in enumerate(mesh_objects):
        namespace, execution = mesh["metadata"]["namespace"], mesh["status"]["lastExecution"]
        for node, phase in (("step-0", "Succeeded"), ("step-1", "AwaitingReview"), ("step-2", "Running")):
            agent_name = next(item["agentRef"]["name"] for item in mesh["spec"]["agents"] if item["name"] == node)
            labels = {
                LABEL_AGENT: agent_name, LABEL_TRIGGER: "mesh", LABEL_MESH: mesh["metadata"]["name"],
                LABEL_MESH_NODE: node, LABEL_MESH_EXECUTION: execution,
            }  # fmt: skip
            created = now - timedelta(hours={"step-0": 6, "step-1": 3, "step-2": 0.2}[node])
            number = 100_000 + j * 10 + int(node[-1])
            run_objects.append(
                {
                    "apiVersion": "atomesh.io/v1alpha1",
                    "kind": "AgentRun",
                    "metadata": {
                        "name": f"{mesh['metadata']['name']}-{node}",
                        "namespace": namespace,
                        "labels": labels,
                    },
                    "spec": {
                        "agentRef": {"name": agent_name},
                        "trigger": {"kind": "mesh", "source": f"{mesh['metadata']['name']}/{node}"},
                    },
                    "status": _run_status(phase, "code", created, number, f"demo/service-{j % 25:02d}", rng),
                }
            )
    return Fleet(namespaces, agent_objects, mesh_objects, run_objects)
