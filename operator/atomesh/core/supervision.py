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
from atomesh.api.constants import LABEL_MESH
from atomesh.api.mesh import Mesh
from atomesh.core.schedule import parse_rfc3339

Verdict = Literal["passed", "failed", "none"]
# What is wrong, in the order a supervisor should look at it.
Problem = Literal["Failed", "Stuck", "ReviewOverdue", "AgentNotReady", "MeshStalled", "MeshOverBudget"]
PROBLEMS: tuple[Problem, ...] = ("Failed", "Stuck", "ReviewOverdue", "AgentNotReady", "MeshStalled", "MeshOverBudget")


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


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None for none or an unreadable one (a status written by
    something else must not break the whole view)."""
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def run_agent(run: AgentRun) -> str:
    return run.spec.agent_ref.name


def run_mesh(run: AgentRun) -> str | None:
    return run.metadata.labels.get(LABEL_MESH)


def verdict(run: AgentRun) -> Verdict:
    """The verification verdict of the run's pull request: its checks passed, failed, or there were none."""
    review = run.status.review if run.status else None
    if review is None or review.checks_passed is None:
        return "none"
    return "passed" if review.checks_passed else "failed"


def run_cost(run: AgentRun) -> float:
    usage = run.status.usage if run.status else None
    return usage.cost_usd if usage else 0.0


def review_started(run: AgentRun) -> datetime | None:
    """When the run's artifact was handed to review (falling back to when the run started, then was created)."""
    status = run.status
    published = status.review.published_at if status and status.review else None
    return (
        parse_time(published)
        or parse_time(status.start_time if status else None)
        or parse_time(run.metadata.creation_timestamp)
    )


def run_duration(run: AgentRun) -> float | None:
    """Seconds the run worked: from start to publishing its artifact, or to its end; None while it works."""
    status = run.status
    if status is None:
        return None
    start = parse_time(status.start_time)
    published = status.review.published_at if status.review else None
    end = parse_time(published) or parse_time(status.completion_time)
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()


def usual_durations(runs: Iterable[AgentRun]) -> dict[tuple[str, str], float]:
    """Median working time of each agent's finished runs, by (namespace, agent)."""
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run in runs:
        seconds = run_duration(run)
        if seconds is not None:
            durations[(run.metadata.namespace or "", run_agent(run))].append(seconds)
    return {key: statistics.median(values) for key, values in durations.items()}


def review_queue(runs: Iterable[AgentRun], now: datetime) -> list[ReviewItem]:
    """Every run whose pull request waits for a person, oldest first."""
    items = []
    for run in runs:
        status = run.status
        if status is None or status.phase != "AwaitingReview":
            continue
        review = status.review
        if review is not None and review.revision_run:
            continue
        since = review_started(run) or now
        items.append(
            ReviewItem(
                namespace=run.metadata.namespace or "",
                run=run.metadata.name,
                agent=run_agent(run),
                mesh=run_mesh(run),
                artifact_type=status.artifact.type if status.artifact else None,
                verdict=verdict(run),
                cost_usd=run_cost(run),
                waiting_since=since,
                age_seconds=max(0.0, (now - since).total_seconds()),
                revision=review.revision if review else 0,
                pr_url=review.url if review else None,
                pr_number=review.number if review else None,
                labels=dict(run.metadata.labels),
            )
        )
    return sorted(items, key=lambda item: (item.waiting_since, item.namespace, item.run))


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else max(0.0, (now - since).total_seconds())


def _condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((cond for cond in conditions if cond.type == type_), None)


def _run_attention(
    run: AgentRun, now: datetime, usual: Mapping[tuple[str, str], float], thresholds: Thresholds
) -> AttentionItem | None:
    status = run.status
    namespace, name, agent = run.metadata.namespace or "", run.metadata.name, run_agent(run)
    created = parse_time(run.metadata.creation_timestamp)
    phase = status.phase if status else "Pending"
    reason = (status.reason if status else None) or ""
    message = (status.message if status else None) or ""

    def item(problem: Problem, since: datetime | None, why: str = reason, what: str = message) -> AttentionItem:
        return AttentionItem(problem, "AgentRun", namespace, name, why, what, since, _age(since, now), agent)

    if status is not None and phase == "Failed":
        ended = parse_time(status.completion_time) or created
        if ended is not None and now - ended > thresholds.failed_window:
            return None
        failure = status.failure
        return item(
            "Failed",
            ended,
            reason or (failure.reason if failure else ""),
            message or (failure.message if failure else ""),
        )
    if phase in ACTIVE_PHASES:
        if reason == c.QUEUED:
            return None
        since = parse_time(status.start_time) if status and phase == "Running" else created
        if since is None:
            return None
        limit = max(
            thresholds.stuck_floor.total_seconds(), thresholds.stuck_factor * usual.get((namespace, agent), 0.0)
        )
        elapsed = (now - since).total_seconds()
        if elapsed <= limit:
            return None
        usual_text = f"; usual {usual[(namespace, agent)]:.0f}s" if (namespace, agent) in usual else ""
        return item("Stuck", since, reason, message or f"{phase} for {elapsed:.0f}s (limit {limit:.0f}s{usual_text})")
    if phase == "AwaitingReview" and not (status and status.review and status.review.revision_run):
        since = review_started(run)
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
    runs: Sequence[AgentRun],
    now: datetime,
    thresholds: Thresholds | None = None,
) -> list[AttentionItem]:
    """Everything broken or stuck: failed runs (recent), stuck runs, overdue reviews, Agents not Ready,
    Meshes Stalled or over budget; by problem, then oldest first."""
    limits = thresholds or Thresholds()
    usual = usual_durations(runs)
    items: list[AttentionItem] = []
    for run in runs:
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
