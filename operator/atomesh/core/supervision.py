"""What needs a supervisor now: the review queue and the attention list, computed from Agents, Meshes and
AgentRuns as the cluster reports them and a clock.

Pure: the console and `atomesh status` hand over the objects they see (so Kubernetes RBAC has already
decided what that is) and the time; the same input always gives the same output.

Invariants:
- The review queue holds every run AwaitingReview whose pull request waits for a person — a run whose
  revision run is at work waits on that revision, not on a reviewer, and is left out — oldest first
  (by when the artifact was handed to review), ties broken by namespace and name.
- The attention list names each object at most once per problem, most severe first, and every item
  carries the reason and message the object itself reports (never a reason made up here).
- A run is stuck only against its own agent's history: Pending or Running longer than `stuck_factor`
  times the median duration of the agent's finished runs, and never sooner than `stuck_floor`.
  Runs the operator queues on purpose (for a concurrency slot or a budget) are not stuck: their
  mesh appears instead, held by its budget.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, AgentRun
from atomesh.api.common import Condition
from atomesh.api.mesh import Mesh
from atomesh.core.reviewrecord import awaits_reviewer
from atomesh.core.supervision_facts import RunFacts, Verdict, as_facts, parse_time

# What is wrong, in the order a supervisor should look at it.
Problem = Literal["Failed", "Paused", "Stuck", "ReviewOverdue", "AgentNotReady", "MeshStalled", "MeshOverBudget"]
PROBLEMS: tuple[Problem, ...] = (
    "Failed",
    "Paused",  # stopped at its hard limit: waits for someone to raise the budget or resume it
    "Stuck",
    "ReviewOverdue",
    "AgentNotReady",
    "MeshStalled",
    "MeshOverBudget",
)


@dataclass(frozen=True)
class Thresholds:
    """When something deserves attention; the defaults suit a person who looks a few times a day."""

    review_overdue: timedelta = timedelta(hours=24)
    stuck_factor: float = 3.0
    stuck_floor: timedelta = timedelta(minutes=15)
    # Failed runs older than this have been seen (or are history); the fleet table still counts them.
    failed_window: timedelta = timedelta(hours=24)
    # The fleet table's window: runs created within it.
    fleet_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ReviewItem:
    """One pull request waiting for a person."""

    namespace: str
    run: str
    agent: str
    mesh: str | None
    artifact_type: str | None
    verdict: Verdict
    cost_usd: float
    waiting_since: datetime
    age_seconds: float
    revision: int
    pr_url: str | None
    pr_number: int | None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AttentionItem:
    """Something broken or stuck, with the reason its object reports."""

    problem: Problem
    kind: Literal["AgentRun", "Agent", "Mesh"]
    namespace: str
    name: str
    reason: str
    message: str
    since: datetime | None
    age_seconds: float | None
    agent: str | None = None


Run = AgentRun | RunFacts


def usual_durations(runs: Iterable[RunFacts]) -> dict[tuple[str, str], float]:
    """Median working time of each agent's finished runs, by (namespace, agent)."""
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run in runs:
        seconds = run.duration
        if seconds is not None:
            durations[(run.namespace, run.agent)].append(seconds)
    return {key: statistics.median(values) for key, values in durations.items()}


def review_queue(runs: Iterable[Run], now: datetime) -> list[ReviewItem]:
    """Every run whose pull request waits for a person, oldest first."""
    items = []
    for found in runs:
        run = as_facts(found)
        if not awaits_reviewer(run.phase, run.revision_run):
            continue
        since = run.review_started or now
        items.append(
            ReviewItem(
                namespace=run.namespace,
                run=run.name,
                agent=run.agent,
                mesh=run.mesh,
                artifact_type=run.artifact_type,
                verdict=run.verdict,
                cost_usd=run.cost_usd,
                waiting_since=since,
                age_seconds=max(0.0, (now - since).total_seconds()),
                revision=run.revision,
                pr_url=run.pr_url,
                pr_number=run.pr_number,
                labels=run.labels,
            )
        )
    return sorted(items, key=lambda item: (item.waiting_since, item.namespace, item.run))


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else max(0.0, (now - since).total_seconds())


def _condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((cond for cond in conditions if cond.type == type_), None)


def _run_attention(
    run: RunFacts, now: datetime, usual: Mapping[tuple[str, str], float], thresholds: Thresholds
) -> AttentionItem | None:
    phase, reason, message = run.phase, run.reason, run.message

    def item(problem: Problem, since: datetime | None, why: str = reason, what: str = message) -> AttentionItem:
        return AttentionItem(
            problem, "AgentRun", run.namespace, run.name, why, what, since, _age(since, now), run.agent
        )

    if phase == "Failed":
        ended = run.completed or run.created
        if ended is not None and now - ended > thresholds.failed_window:
            return None
        return item("Failed", ended, reason or run.failure_reason, message or run.failure_message)
    if phase == "Paused":
        return item("Paused", run.started or run.created)
    if phase in ACTIVE_PHASES:
        if reason == c.QUEUED:
            return None
        since = run.started if phase == "Running" else run.created
        if since is None:
            return None
        key = (run.namespace, run.agent)
        limit = max(thresholds.stuck_floor.total_seconds(), thresholds.stuck_factor * usual.get(key, 0.0))
        elapsed = (now - since).total_seconds()
        if elapsed <= limit:
            return None
        usual_text = f"; usual {usual[key]:.0f}s" if key in usual else ""
        return item("Stuck", since, reason, message or f"{phase} for {elapsed:.0f}s (limit {limit:.0f}s{usual_text})")
    if phase == "AwaitingReview" and not run.revision_run:
        since = run.review_started
        if since is not None and now - since > thresholds.review_overdue:
            return item("ReviewOverdue", since)
    return None


def _agent_attention(agent: Agent, now: datetime, thresholds: Thresholds) -> AttentionItem | None:
    conditions = agent.status.conditions if agent.status else []
    ready = _condition(conditions, c.READY)
    created = parse_time(agent.metadata.creation_timestamp)
    if ready is not None and ready.status == c.TRUE:
        return None
    if ready is None:
        # Not reconciled yet: worth attention only once the operator had time to look at it.
        if created is not None and now - created <= thresholds.stuck_floor:
            return None
        reason, message, since = "", "not reconciled by the operator (is it running?)", created
    else:
        reason, message, since = ready.reason, ready.message, parse_time(ready.last_transition_time) or created
    return AttentionItem(
        "AgentNotReady", "Agent", agent.metadata.namespace or "", agent.metadata.name, reason, message, since,
        _age(since, now), agent.metadata.name,
    )  # fmt: skip


def _mesh_attention(mesh: Mesh, now: datetime) -> list[AttentionItem]:
    conditions = mesh.status.conditions if mesh.status else []
    items = []
    for type_, problem in ((c.STALLED, "MeshStalled"), (c.BUDGET_EXCEEDED, "MeshOverBudget")):
        cond = _condition(conditions, type_)
        if cond is None or cond.status != c.TRUE:
            continue
        since = parse_time(cond.last_transition_time)
        items.append(
            AttentionItem(
                problem,  # type: ignore[arg-type]
                "Mesh",
                mesh.metadata.namespace or "",
                mesh.metadata.name,
                cond.reason,
                cond.message,
                since,
                _age(since, now),
            )
        )
    return items


def attention(
    agents: Iterable[Agent],
    meshes: Iterable[Mesh],
    runs: Sequence[Run],
    now: datetime,
    thresholds: Thresholds | None = None,
) -> list[AttentionItem]:
    """Everything broken or stuck: failed runs (recent), stuck runs, overdue reviews, Agents not Ready,
    Meshes Stalled or over budget; by problem, then oldest first."""
    limits = thresholds or Thresholds()
    facts = [as_facts(run) for run in runs]
    usual = usual_durations(facts)
    items: list[AttentionItem] = []
    for run in facts:
        found = _run_attention(run, now, usual, limits)
        if found is not None:
            items.append(found)
    for agent in agents:
        agent_item = _agent_attention(agent, now, limits)
        if agent_item is not None:
            items.append(agent_item)
    for mesh in meshes:
        items.extend(_mesh_attention(mesh, now))
    order = {problem: index for index, problem in enumerate(PROBLEMS)}
    return sorted(
        items,
        key=lambda item: (order[item.problem], -(item.age_seconds or 0.0), item.namespace, item.name),
    )
